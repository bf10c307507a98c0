"""A real SMTP server on 127.0.0.1 for the e-mail tests (aiosmtpd), scripted per message.

`answers` is a queue of replies to DATA: "451 …" for a temporary refusal, "550 …" for a
permanent one; once it is empty every message is accepted and kept in `received`.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


class ScriptedHandler:
    """Answers DATA from a script; keeps every accepted message, parsed."""

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.received: list[EmailMessage] = []
        self.refused: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            if self.answers:
                answer = self.answers.pop(0)
                self.refused.append(answer)
                return answer
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.received.append(parsed)  # type: ignore[arg-type]
            return "250 2.0.0 OK: queued"


class SmtpServer:
    """A started server: its URL for SMTP_URL, the script and what it received."""

    def __init__(self) -> None:
        self.handler = ScriptedHandler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=_free_port())

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.controller.port}"

    @property
    def received(self) -> list[EmailMessage]:
        return self.handler.received

    def answer_next(self, *answers: str) -> None:
        """Reply to the next messages' DATA with these (then accept again)."""
        self.handler.answers.extend(answers)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server for one test."""
    server = SmtpServer()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


def closed_port_url() -> str:
    """An SMTP_URL where nothing listens (connection refused)."""
    return f"smtp://127.0.0.1:{_free_port()}"


def self_signed(folder: Any) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key (PEM files): the CA file is the cert itself."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = f"{folder}/cert.pem", f"{folder}/key.pem"
    with open(cert_path, "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


class StarttlsServer(SmtpServer):
    """A server that refuses mail until STARTTLS, and requires a login (over TLS only)."""

    def __init__(self, cert: str, key: str, user: str, password: str) -> None:
        import ssl

        self.handler = ScriptedHandler()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)

        def check(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
            from aiosmtpd.smtp import AuthResult, LoginPassword

            ok = isinstance(auth, LoginPassword) and (auth.login, auth.password) == (
                user.encode(),
                password.encode(),
            )
            return AuthResult(success=ok, handled=False)  # False: aiosmtpd answers 535

        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=_free_port(),
            tls_context=context,
            require_starttls=True,
            auth_required=True,
            authenticator=check,
        )

    @property
    def url(self) -> str:
        return f"smtp+starttls://127.0.0.1:{self.controller.port}"
