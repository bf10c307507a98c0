"""Signing in to the Learning Board, over real HTTP: e-mail links, Slack, and bad input.

Every refusal is a page that says what to do, with the status a browser and a checker can
read (400, 401, 403, 429), and writes nothing: no audit row, no link used.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import httpx
from board_fixtures import (
    CHAIR,
    COMMISSIONER,
    HOUSING_MANAGER,
    BoardLive,
    csrf_of,
    token_of,
)
from conftest import ALICE, STEWARD
from typer.testing import CliRunner

from bot.web.board.security import SESSION_COOKIE


def signins(live: BoardLive) -> int:
    return int(live.scalar("SELECT count(*) FROM audit_events WHERE action = 'board_signin'"))


def used_links(live: BoardLive) -> int:
    return int(live.scalar("SELECT count(*) FROM board_links WHERE used_at IS NOT NULL"))


def test_the_signin_form_sends_a_link_that_signs_in_once(board_live: BoardLive) -> None:
    with board_live.client() as http:
        form = http.get("/board/signin")
        assert form.status_code == 200
        assert 'type="email"' in form.text and "Send me a sign-in link" in form.text
        sent = http.post(
            "/board/signin", data={"email": f" {CHAIR.upper()} ", "csrf": csrf_of(form.text)}
        )
        assert sent.status_code == 200 and "Check your e-mail" in sent.text
        link = board_live.mailer.link_for(CHAIR)
        assert link.startswith(board_live.url + "/board/signin/link?token=")
        # Opening the link uses nothing (mail scanners open links): the button does.
        page = http.get(link.removeprefix(board_live.url))
        assert page.status_code == 200 and used_links(board_live) == 0
        done = http.post(
            "/board/signin/link", data={"csrf": csrf_of(page.text), "token": token_of(page.text)}
        )
        assert done.status_code == 303 and done.headers["location"] == "/board/"
        cookie = done.headers["set-cookie"]
        assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        # BOARD_URL is http://127.0.0.1: the one case where the cookie may travel without TLS.
        assert "Secure" not in cookie
        week = http.get("/board/")
        assert week.status_code == 200 and "Pat Chair" in week.text
        assert signins(board_live) == 1 and used_links(board_live) == 1
        # The same link again: refused, nothing more written.
        page = http.get(link.removeprefix(board_live.url))
        again = http.post(
            "/board/signin/link", data={"csrf": csrf_of(page.text), "token": token_of(page.text)}
        )
        assert again.status_code == 400 and "used already" in again.text
    assert signins(board_live) == 1


def test_the_answer_is_the_same_for_an_address_nobody_has(board_live: BoardLive) -> None:
    with board_live.client() as http:
        form = http.get("/board/signin")
        listed = http.post(
            "/board/signin", data={"email": COMMISSIONER, "csrf": csrf_of(form.text)}
        )
        unknown = http.post(
            "/board/signin", data={"email": "someone@else.example", "csrf": csrf_of(form.text)}
        )
    assert listed.status_code == unknown.status_code == 200
    assert listed.text == unknown.text
    assert [to for to, _, _ in board_live.mailer.sent] == [COMMISSIONER]


def test_link_requests_are_rate_limited_per_address_and_per_ip(board_live: BoardLive) -> None:
    with board_live.client() as http:
        form = http.get("/board/signin")
        csrf = csrf_of(form.text)
        for _ in range(5):
            answer = http.post("/board/signin", data={"email": CHAIR, "csrf": csrf})
            assert answer.status_code == 200
        # Three links per address in 15 minutes; the answer never says so (no leak).
        assert len(board_live.mailer.sent) == 3
        for _ in range(6):  # ten in 15 minutes from one IP address, whatever the address
            answer = http.post("/board/signin", data={"email": "x@y.example", "csrf": csrf})
        assert answer.status_code == 429 and "wait 15 minutes" in answer.text
        board_live.clock.advance(minutes=16)
        assert http.post("/board/signin", data={"email": CHAIR, "csrf": csrf}).status_code == 200
    assert len(board_live.mailer.sent) == 4


def test_an_expired_link_is_refused_and_writes_nothing(board_live: BoardLive) -> None:
    with board_live.client() as http:
        link = board_live.link(CHAIR)
        page = http.get(link.removeprefix(board_live.url))
        board_live.clock.advance(minutes=16)
        late = http.post(
            "/board/signin/link", data={"csrf": csrf_of(page.text), "token": token_of(page.text)}
        )
        assert late.status_code == 400 and "expired" in late.text
        assert "set-cookie" not in late.headers or SESSION_COOKIE not in late.headers["set-cookie"]
        assert http.get(link.removeprefix(board_live.url)).status_code == 400
    assert signins(board_live) == 0 and used_links(board_live) == 0


def test_a_forged_link_is_refused(board_live: BoardLive) -> None:
    from bot.web.board.security import BoardSigner

    forged = BoardSigner("another-key-entirely-0123456789").link_token(
        "made-up", CHAIR, board_live.clock()
    )
    with board_live.client() as http:
        for token in (forged, "", "not-a-token", "x" * 5000):
            page = http.get("/board/signin/link", params={"token": token})
            assert page.status_code == 400 and "does not work" in page.text
        form = http.get("/board/signin")
        posted = http.post("/board/signin/link", data={"csrf": csrf_of(form.text), "token": forged})
        assert posted.status_code == 400
    assert signins(board_live) == 0


def test_a_missing_or_wrong_csrf_token_is_refused(board_live: BoardLive) -> None:
    with board_live.client() as http:
        page = http.get(board_live.link(CHAIR).removeprefix(board_live.url))
        token = token_of(page.text)
        for data in ({"token": token}, {"token": token, "csrf": "guess"}):
            refused = http.post("/board/signin/link", data=data)
            assert refused.status_code == 400 and "could not be accepted" in refused.text
        assert http.post("/board/signin", data={"email": CHAIR}).status_code == 400
    with board_live.client() as fresh:  # the right token, but not this visitor's cookie
        refused = fresh.post(
            "/board/signin/link", data={"token": token, "csrf": csrf_of(page.text)}
        )
        assert refused.status_code == 400
    assert signins(board_live) == 0 and used_links(board_live) == 0 and not board_live.mailer.sent


def test_a_tampered_or_missing_session_cookie_gets_401(board_live: BoardLive) -> None:
    with board_live.client() as http:
        assert http.get("/board/barriers").status_code == 401
        board_live.sign_in(http, CHAIR)
        value = http.cookies[SESSION_COOKIE]
        http.cookies.clear()
        http.cookies.set(SESSION_COOKIE, value[:-3] + "abc", domain="127.0.0.1", path="/board")
        page = http.get("/board/barriers")
        assert page.status_code == 401 and "sign in again" in page.text.lower()
        # A well-signed session for a person no longer listed is refused too.
        board_live.clock.advance(hours=9)
    with board_live.client() as again:
        board_live.sign_in(again, CHAIR)
        board_live.clock.advance(hours=9)
        assert again.get("/board/").status_code == 401


def test_signing_out_needs_the_session_csrf(board_live: BoardLive) -> None:
    with board_live.client() as http:
        board_live.sign_in(http, CHAIR)
        page = http.get("/board/")
        assert http.post("/board/signout", data={}).status_code == 400
        out = http.post("/board/signout", data={"csrf": csrf_of(page.text)})
        assert out.status_code == 303
        assert SESSION_COOKIE in out.headers["set-cookie"]


def test_a_board_member_asking_for_a_managers_page_gets_403(board_live: BoardLive) -> None:
    with board_live.client() as chair, board_live.client() as manager:
        board_live.sign_in(chair, CHAIR)
        board_live.sign_in(manager, HOUSING_MANAGER)
        refused = chair.get("/board/agency/housing")
        assert refused.status_code == 403 and "not open to you" in refused.text
        assert manager.get("/board/agency/housing").status_code == 200
        assert manager.get("/board/agency/hospital").status_code == 403


def test_sign_in_with_slack_through_openid_connect(board_live: BoardLive) -> None:
    board_live.slack.set_oidc_user(STEWARD)
    with board_live.client() as http:
        start = http.get("/board/signin/slack")
        assert start.status_code == 303
        authorize = urlsplit(start.headers["location"])
        assert authorize.path == "/openid/connect/authorize"
        assert parse_qs(authorize.query)["scope"] == ["openid profile email"]
        # The fake's consent page sends the browser back with a code.
        consent = httpx.get(start.headers["location"], follow_redirects=False)
        callback = urlsplit(consent.headers["location"])
        done = http.get(callback.path + "?" + callback.query)
        assert done.status_code == 303, done.text
        assert http.get("/board/barriers").status_code == 200
    assert board_live.slack.calls("openid.connect.token")
    # Who signed in is read from the verified ID token alone.
    assert not board_live.slack.calls("openid.connect.userInfo")
    assert signins(board_live) == 1


def slack_signin(live: BoardLive, http: httpx.Client) -> httpx.Response:
    """Start Sign in with Slack, consent on the fake's page, and come back with the code."""
    start = http.get("/board/signin/slack")
    back = urlsplit(httpx.get(start.headers["location"]).headers["location"])
    return http.get(back.path + "?" + back.query)


def refusals(live: BoardLive, reason: str) -> int:
    return int(
        live.scalar(
            "SELECT count(*) FROM audit_events WHERE action = 'board_signin_refused' "
            "AND target = :reason",
            reason=reason,
        )
    )


def test_an_id_token_from_another_workspace_is_refused_and_audited(board_live: BoardLive) -> None:
    board_live.slack.set_oidc_user(STEWARD)
    board_live.slack.set_oidc_id_token(**{"https://slack.com/team_id": "T0ELSEWHERE"})
    with board_live.client() as http:
        refused = slack_signin(board_live, http)
        assert refused.status_code == 403
        assert "That Slack workspace is not the alliance" in refused.text
        assert SESSION_COOKIE + "=" not in refused.headers.get("set-cookie", "")
        assert http.get("/board/barriers").status_code == 401
    assert signins(board_live) == 0 and refusals(board_live, "team") == 1
    actor = board_live.scalar(
        "SELECT actor FROM audit_events WHERE action = 'board_signin_refused'"
    )
    assert actor == f"slack:{STEWARD}"


def test_an_id_token_that_cannot_be_trusted_is_refused(board_live: BoardLive) -> None:
    import time

    board_live.slack.set_oidc_user(STEWARD)
    now = int(time.time())
    cases = [
        ({"foreign_key": True}, "invalid: InvalidSignatureError"),
        ({"aud": "someone-elses-app"}, "audience"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"exp": now - 600, "iat": now - 900}, "expired"),
        ({"nonce": "not-the-browsers"}, "nonce"),
        ({"nonce": None}, "invalid: MissingRequiredClaimError"),
    ]
    with board_live.client() as http:
        for changes, reason in cases:
            board_live.slack.set_oidc_id_token(**changes)
            refused = slack_signin(board_live, http)
            assert refused.status_code == 400, (changes, refused.text)
            assert "Signing in with Slack did not work" in refused.text
            assert refusals(board_live, reason) == 1, reason
        assert http.get("/board/barriers").status_code == 401
        # The same fake, tokens back to what Slack signs: signed in.
        board_live.slack.set_oidc_id_token()
        assert slack_signin(board_live, http).status_code == 303
    assert signins(board_live) == 1


def test_slack_refusals_are_pages_not_errors(board_live: BoardLive) -> None:
    with board_live.client() as http:
        # A practitioner has no board role.
        board_live.slack.set_oidc_user(ALICE)
        start = http.get("/board/signin/slack")
        back = urlsplit(httpx.get(start.headers["location"]).headers["location"])
        refused = http.get(back.path + "?" + back.query)
        assert refused.status_code == 403
        # A state that does not match the cookie's.
        start = http.get("/board/signin/slack")
        back = urlsplit(httpx.get(start.headers["location"]).headers["location"])
        forged = http.get(back.path, params={"code": "code-1", "state": "other"})
        assert forged.status_code == 400
        # Cancel on Slack's page.
        board_live.slack.set_oidc_user(None)
        start = http.get("/board/signin/slack")
        back = urlsplit(httpx.get(start.headers["location"]).headers["location"])
        assert http.get(back.path + "?" + back.query).status_code == 400
    assert signins(board_live) == 0


def test_board_link_cli_prints_a_link_and_refuses_strangers(
    board_live: BoardLive, tmp_path, monkeypatch
) -> None:
    import yaml
    from board_fixtures import BOARD_KEY, PEOPLE
    from conftest import TEST_ALLIANCE

    from bot.cli import app

    config = tmp_path / "alliance.yml"
    config.write_text(yaml.safe_dump({**TEST_ALLIANCE, "people": PEOPLE}))
    env = {
        "LEARNLOOP_CONFIG": str(config),
        "DATABASE_URL": board_live.loop.settings.database_url,
        "BOARD_SECRET_KEY": BOARD_KEY,
        "BOARD_URL": board_live.url,
    }
    runner = CliRunner()
    printed = runner.invoke(app, ["board-link", "--email", CHAIR], env=env)
    assert printed.exit_code == 0, printed.output
    link = printed.output.strip()
    assert link.startswith(board_live.url + "/board/signin/link?token=")
    stranger = runner.invoke(app, ["board-link", "--email", "nobody@else.example"], env=env)
    assert stranger.exit_code == 2
    no_key = runner.invoke(
        app, ["board-link", "--email", CHAIR], env={**env, "BOARD_SECRET_KEY": ""}
    )
    assert no_key.exit_code == 2 and "BOARD_SECRET_KEY" in no_key.output
    # The printed link signs in (the live app and the CLI share the database and key).
    board_live.clock.now = dt.datetime.now(dt.UTC)
    with board_live.client() as http:
        page = http.get(link.removeprefix(board_live.url))
        done = http.post(
            "/board/signin/link", data={"csrf": csrf_of(page.text), "token": token_of(page.text)}
        )
        assert done.status_code == 303
