"""`send_signin_link`, which the Learning Board calls: one e-mail, the link in both parts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from smtp_server import SmtpServer

from bot.mail.signin import MailNotConfigured, send_signin_link
from bot.ports import MailError
from bot.settings import Settings

URL = "https://learn.example.org/board/signin/abc.def"


def settings(smtp_url: str | None) -> Settings:
    return Settings(
        _env_file=None,
        smtp_url=smtp_url,
        smtp_from="LearnLoop <learnloop@learn.example.org>",
        database_url="sqlite:///:memory:",
    )


def test_the_sign_in_link_arrives_as_text_and_a_labelled_link(smtp_server: SmtpServer) -> None:
    send_signin_link(settings(smtp_server.url), "chair@board.example", URL, "Test Alliance")
    (mail,) = smtp_server.received
    assert mail["To"] == "chair@board.example"
    assert mail["Subject"] == "Your sign-in link for the Test Alliance Learning Board"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert URL in text and "15 minutes" in text
    assert f'href="{URL}"' in html and "Sign in to the Learning Board</a>" in html


def test_a_refused_address_and_a_missing_smtp_url_are_errors_the_board_can_show(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.answer_next("550 5.1.1 No such user", "550 5.1.1 No such user", "550 5.1.1 x")
    with pytest.raises(MailError) as refused:
        send_signin_link(settings(smtp_server.url), "nobody@board.example", URL)
    assert refused.value.permanent and refused.value.code == "smtp_550"
    with pytest.raises(MailNotConfigured):
        send_signin_link(settings(None), "chair@board.example", URL)


def test_starttls_with_a_login_against_a_server_that_requires_both(tmp_path: Any) -> None:
    from smtp_server import StarttlsServer, self_signed

    cert, key = self_signed(tmp_path)
    server = StarttlsServer(cert, key, "learnloop", "s3cret/pass")
    server.controller.start()
    try:
        url = server.url.replace("smtp+starttls://", "smtp+starttls://learnloop:s3cret%2Fpass@")
        good = settings(url).model_copy(update={"smtp_ca_file": Path(cert)})
        send_signin_link(good, "chair@board.example", URL)
        assert len(server.received) == 1
        # An untrusted certificate (no SMTP_CA_FILE) is refused for good: never sent in clear.
        with pytest.raises(MailError) as untrusted:
            send_signin_link(settings(url), "chair@board.example", URL)
        assert untrusted.value.permanent and untrusted.value.code == "tls_failed"
        # A wrong password is the server's 535: permanent.
        wrong = settings(url.replace("s3cret%2Fpass", "nope")).model_copy(
            update={"smtp_ca_file": Path(cert)}
        )
        with pytest.raises(MailError) as refused:
            send_signin_link(wrong, "chair@board.example", URL)
        assert refused.value.permanent and refused.value.code == "smtp_535"
        assert len(server.received) == 1
    finally:
        server.controller.stop()
