"""Errors raised by services; views and CLI commands turn them into messages.

``ServiceError`` (bad input, a rule refused: show the form again with the message),
``PermissionDenied`` (HTTP 403) and ``NotFound`` (HTTP 404) are siblings, so a view that
catches ``ServiceError`` to re-render its form never swallows a refusal of access.
"""

from __future__ import annotations


class DienynasError(Exception):
    """Base of the errors services raise. ``message`` is already localised for the current
    user; ``field`` names the input at fault, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


class ServiceError(DienynasError):
    """A rule refused the request (bad input, a conflict): nothing was saved."""


class PermissionDenied(DienynasError):
    """The account lacks the role or right the action needs (HTTP 403)."""


class NotFound(DienynasError):
    """The thing asked for does not exist or is not visible to the account (HTTP 404)."""
