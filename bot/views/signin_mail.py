"""The one-time sign-in e-mail of the Learning Board (its words; the mail renderer lays it out)."""

from __future__ import annotations

from bot.views.message import Actions, Button, Message, Paragraph
from bot.views.words import Literal, words


def signin_message(alliance_name: str, url: str, minutes: int = 15) -> Message:
    """The e-mail with a person's sign-in link: what it is, how long it lasts, who to ignore."""
    summary = words(f"Your sign-in link for the {alliance_name} Learning Board")
    return Message(
        summary=summary,
        blocks=(
            Paragraph(
                words(
                    f"Someone asked to sign in to the {alliance_name} Learning Board with this "
                    f"address. The link below works once, for {minutes} minutes."
                )
            ),
            Actions((Button(label="Sign in to the Learning Board", url=url),)),
            Paragraph(
                words(
                    "If the button does not work, paste this address into your browser: ",
                    Literal(url),
                )
            ),
            Paragraph(
                words("If you did not ask to sign in, you can ignore this e-mail."), subtle=True
            ),
        ),
    )
