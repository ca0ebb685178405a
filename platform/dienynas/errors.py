"""Errors raised by services; views and CLI commands turn them into messages."""

from __future__ import annotations


class ServiceError(Exception):
    """A rule refused the request. ``message`` is already localised for the current user;
    ``field`` names the input at fault, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


class PermissionDenied(ServiceError):
    """The account lacks the role the action needs (HTTP 403)."""


class NotFound(ServiceError):
    """The thing asked for does not exist or is not visible to the account (HTTP 404)."""
