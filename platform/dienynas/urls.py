"""URL helpers shared by the views."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter, Map


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
