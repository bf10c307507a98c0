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
