"""Email through the SMTP server of setting ``smtp_url`` (stdlib smtplib)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

__all__ = ["MailError", "send_mail"]


class MailError(RuntimeError):
    """The mail could not be sent; the message says why."""


def send_mail(
    smtp_url: str,
    sender: str,
    to: tuple[str, ...],
    subject: str,
    body: str,
    *,
    attachment: Path | None = None,
    timeout_s: float = 10.0,
) -> None:
    """Send one plain-text message (with an optional PDF attachment)."""
    p = urlsplit(smtp_url)
    if p.scheme not in ("smtp", "smtps", "smtp+starttls") or not p.hostname:
        raise MailError(
            f"setting smtp_url: {p.scheme}:// is not smtp://, smtps:// or smtp+starttls://"
        )
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(to), subject
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(
            attachment.read_bytes(),
            maintype="application",
            subtype="pdf",
            filename=attachment.name,
        )
    cls = smtplib.SMTP_SSL if p.scheme == "smtps" else smtplib.SMTP
    port = p.port or (465 if p.scheme == "smtps" else 25)
    try:
        with cls(p.hostname, port, timeout=timeout_s) as smtp:
            if p.scheme == "smtp+starttls":
                smtp.starttls()
            if p.username:
                smtp.login(unquote(p.username), unquote(p.password or ""))
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"SMTP {p.hostname}:{port}: {exc}") from exc
