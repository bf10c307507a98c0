"""The sign-in e-mail the Learning Board sends (`send_signin_link`), over the SMTP mailer."""

from __future__ import annotations

from bot.ports import Mailer, MailError
from bot.settings import Settings
from bot.views.signin_mail import signin_message


class MailNotConfigured(RuntimeError):
    """SMTP_URL is not set: no e-mail can be sent (the board says so, or prints the link)."""


def send_signin_link(
    settings: Settings, to_address: str, url: str, alliance_name: str = "LearnLoop"
) -> None:
    """E-mail `url` (a one-time sign-in link) to `to_address`.

    Raises MailNotConfigured without SMTP_URL, and MailError (`.permanent`: the address was
    refused for good) when the server did not take it after the mailer's quick retries.
    """
    from bot.app import build_mailer

    mailer = build_mailer(settings)
    if mailer is None:
        raise MailNotConfigured("SMTP_URL is not set")
    mailer.send(to_address, signin_message(alliance_name, url))


__all__ = ["MailError", "MailNotConfigured", "SignInSender", "send_signin_link"]


class SignInSender:
    """The board's `SignInMailer` port over the SMTP mailer (built by `bot.app.build`)."""

    def __init__(self, mailer: Mailer, alliance_name: str) -> None:
        self.mailer = mailer
        self.alliance_name = alliance_name

    def send_signin_link(self, to: str, name: str, url: str) -> None:
        """E-mail a one-time sign-in link; MailError when the server did not take it."""
        self.mailer.send(to, signin_message(self.alliance_name, url))
