"""The ways out: e-mail over SMTP and SMS through a provider (docs/notifications.md).

A send job opens one :class:`Mailer` for its whole batch (one SMTP connection, opened on the
first e-mail) and asks :func:`sms_provider` for the configured SMS gateway.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol
from urllib.parse import unquote, urlsplit

from flask import current_app

log = logging.getLogger(__name__)

DEFAULT_SENDER = "Dienynas <noreply@localhost>"
SMTP_TIMEOUT_SECONDS = 15


class DeliveryError(Exception):
    """A channel could not deliver; the message is the reason shown to the administrator."""


class Mailer:
    """E-mail over ``SMTP_URL``: ``smtp://[user:pass@]host[:port]`` (plain, or STARTTLS when
    the server offers it), ``smtps://…`` (TLS from the start)."""

    def __init__(self, smtp_url: str, sender: str) -> None:
        self.url = urlsplit(smtp_url)
        if self.url.scheme not in ("smtp", "smtps") or not self.url.hostname:
            raise DeliveryError(
                f"SMTP_URL must be smtp://host:port or smtps://host:port, not {smtp_url!r}"
            )
        self.sender = sender
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        host, port = self.url.hostname, self.url.port
        if self.url.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=SMTP_TIMEOUT_SECONDS)
        else:
            smtp = smtplib.SMTP(host, port or 25, timeout=SMTP_TIMEOUT_SECONDS)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
        if self.url.username:
            smtp.login(unquote(self.url.username), unquote(self.url.password or ""))
        return smtp

    def send(self, to: str, subject: str, text: str, html: str, locale: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain="dienynas")
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        message["Content-Language"] = locale  # after set_content, which drops Content-* headers
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()  # the connection may be half-broken: the next e-mail opens a new one
            raise DeliveryError(_smtp_reason(exc)) from exc

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None


def _smtp_reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [f"{code} {msg.decode(errors='replace')}" for code, msg in exc.recipients.values()]
        return "SMTP refused the recipient: " + "; ".join(codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code}: {exc.smtp_error.decode(errors='replace')}"
    return f"SMTP: {exc.__class__.__name__}: {exc}"


def mailer() -> Mailer | None:
    """The configured mailer, or None when ``SMTP_URL`` is empty (development)."""
    url = current_app.config.get("SMTP_URL") or ""
    if not url:
        return None
    return Mailer(url, current_app.config.get("MAIL_FROM") or DEFAULT_SENDER)


class SmsProvider(Protocol):
    """An SMS gateway. ``send`` returns when the gateway accepted the message and raises
    :class:`DeliveryError` (with a reason for the administrator) when it did not."""

    def send(self, phone: str, text: str) -> None: ...


class LoggingSmsProvider:
    """The default: writes the message to the log instead of sending it."""

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", phone, text)


def sms_provider() -> SmsProvider:
    """The provider named by ``SMS_PROVIDER`` (``package.module:ClassName``, built with no
    arguments; it reads its own settings), else :class:`LoggingSmsProvider`."""
    path = current_app.config.get("SMS_PROVIDER") or ""
    if not path:
        return LoggingSmsProvider()
    module_name, _, class_name = path.partition(":")
    provider_class = getattr(importlib.import_module(module_name), class_name)
    return provider_class()
