"""Files people attach to forms and download from pages: the uploads of a request and the
response that sends a stored file (homework files, message and announcement attachments).
What a file may be is decided by ``gradebook.lessons.services.check_upload``."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from flask import Response, request


@dataclass(frozen=True)
class Upload:
    """A file as the browser sent it (read up to one byte over the limit, so that a check
    sees it is too large)."""

    file_name: str
    content: bytes


def request_uploads(max_bytes: int, field: str = "files") -> list[Upload]:
    """The files of the request's ``field`` input (empty inputs left out)."""
    return [
        Upload(upload.filename, upload.read(max_bytes + 1))
        for upload in request.files.getlist(field)
        if upload.filename
    ]


class StoredFile(Protocol):
    file_name: str
    content_type: str
    content: bytes


def attachment_response(file: StoredFile) -> Response:
    """The stored file as a download (never shown inline), kept out of shared caches."""
    # Browsers use filename* (UTF-8); the plain name is for old clients: accents dropped.
    plain = unicodedata.normalize("NFKD", file.file_name).encode("ascii", "ignore").decode()
    ascii_name = plain.replace('"', "_").replace("\\", "_") or "file"
    response = Response(file.content, mimetype=file.content_type)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file.file_name)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
