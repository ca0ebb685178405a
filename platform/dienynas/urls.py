"""URL helpers shared by the views."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import IntegerConverter, Map


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute address of a page for an e-mail: jobs have no request, so the host is the
    configured ``PUBLIC_URL`` (never a request's Host header, which a sender may forge)."""
    public = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        public.netloc, script_name=public.path or "/", url_scheme=public.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site (never another host: open-redirect guard)."""
    if not target:
        return None
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
    ):
        return None
    return target


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` in URLs: numbers beyond PostgreSQL's bigint are a 404, not a database error."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)
