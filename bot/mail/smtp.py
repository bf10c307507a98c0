"""The `Mailer` port over SMTP (stdlib smtplib): `smtp://user:pass@host:port`, STARTTLS with
`smtp+starttls://…`, implicit TLS with `smtps://…`.

A temporary failure (an SMTP 4xx, a refused or dropped connection, a timeout) is tried again a
few times with a short wait, then raised as a temporary `MailError` so the caller's ledger
leaves the message for a later pass; a permanent one (5xx) is raised at once.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from bot.mail.render import email_message
from bot.ports import InlineImage, MailError
from bot.views.message import Message

log = logging.getLogger(__name__)

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
# Waits between the quick tries of one send (seconds); the ledger retries after these.
DEFAULT_WAITS = (1.0, 4.0)


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to reach the mail server (from SMTP_URL)."""

    host: str
    port: int
    starttls: bool = False
    implicit_tls: bool = False
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpTarget:
    """SMTP_URL as a target; ValueError names what is wrong (never echoing the password)."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(
            "must start smtp://, smtp+starttls:// or smtps:// (for example "
            "smtp+starttls://user:password@mail.example.org:587)"
        )
    if not parts.hostname:
        raise ValueError("names no mail server host")
    try:
        port = parts.port or SCHEMES[parts.scheme]
    except ValueError:
        raise ValueError("has a port that is not a number") from None
    return SmtpTarget(
        host=parts.hostname,
        port=port,
        starttls=parts.scheme == "smtp+starttls",
        implicit_tls=parts.scheme == "smtps",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _code_of(exc: BaseException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return max(codes) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return int(exc.smtp_code)
    return None


def classify(exc: BaseException) -> MailError:
    """A failure as a MailError: 5xx permanent; 4xx and connection trouble temporary."""
    code = _code_of(exc)
    if code is not None:
        return MailError(f"smtp_{code}", permanent=500 <= code < 600)
    if isinstance(exc, ssl.SSLError | smtplib.SMTPNotSupportedError):
        # The server will not speak TLS as configured: a deployer must change SMTP_URL.
        return MailError("tls_failed", permanent=True)
    if isinstance(exc, socket.timeout | TimeoutError):
        return MailError("timeout", permanent=False)
    return MailError("connection_error", permanent=False)


class SmtpMailer:
    """Sends LearnLoop's messages through one SMTP server."""

    def __init__(
        self,
        url: str,
        sender: str,
        *,
        waits: Sequence[float] = DEFAULT_WAITS,
        timeout: float = 30.0,
        on_result: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        ca_file: str | None = None,
    ) -> None:
        self.target = parse_smtp_url(url)
        self.sender = sender
        self.waits = tuple(waits)
        self.timeout = timeout
        self.on_result = on_result or (lambda result: None)
        self.sleep = sleep
        self._context: ssl.SSLContext | None = None
        # A private CA that signed the mail relay's certificate (SMTP_CA_FILE), else the system's.
        self.ca_file = ca_file
        # The name we greet the server with (EHLO): the sender's domain. smtplib's default,
        # socket.getfqdn(), is a DNS lookup on every connection and can take seconds.
        self.local_hostname = sender.rsplit("@", 1)[-1].strip(" >") or "localhost"

    def send(
        self,
        to: str,
        message: Message,
        images: tuple[InlineImage, ...] = (),
        key: str | None = None,
    ) -> None:
        """Send one message to one address; MailError if it was not accepted."""
        mail = email_message(message, sender=self.sender, to=to, images=images, key=key)
        for attempt in range(len(self.waits) + 1):
            try:
                self._deliver(mail)
            except (smtplib.SMTPException, OSError) as exc:
                error = classify(exc)
                if error.permanent or attempt == len(self.waits):
                    self.on_result("failed" if error.permanent else "retry")
                    log.warning(
                        "mail not sent (%s, %s)",
                        error.code,
                        "permanent" if error.permanent else "temporary",
                    )
                    raise error from None
                log.info("mail not sent yet (%s): trying again", error.code)
                self.sleep(self.waits[attempt])
            else:
                self.on_result("sent")
                return

    def _tls(self) -> ssl.SSLContext:
        """The TLS context (certificates verified), made once: loading the CAs is slow."""
        if self._context is None:
            self._context = ssl.create_default_context(cafile=self.ca_file)
        return self._context

    def _deliver(self, mail: object) -> None:
        target = self.target
        smtp: smtplib.SMTP
        if target.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                target.host,
                target.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=self._tls(),
            )
        else:
            smtp = smtplib.SMTP(
                target.host, target.port, local_hostname=self.local_hostname, timeout=self.timeout
            )
        with smtp:
            smtp.ehlo()
            if target.starttls:
                smtp.starttls(context=self._tls())
                smtp.ehlo()
            if target.username:
                smtp.login(target.username, target.password or "")
            smtp.send_message(mail)  # type: ignore[arg-type]
