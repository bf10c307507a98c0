"""Multi-workspace installs end to end — the OAuth flow against the fake Slack API,
tokens encrypted at rest, each workspace's calls signed with its own token, uninstall, rotation.
"""

from __future__ import annotations

import base64
import copy
import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import ALICE, CAROL, STEWARD, TEST_ALLIANCE, Live
from cryptography.fernet import Fernet
from live_server import LiveServer
from slack_api import FakeSlackAPI
from slack_requests import (
    SIGNING_SECRET,
    _event_callback,
    _json_request,
    message_im,
    slash_command,
)
from slack_ui import wait_until

from bot.alliance import parse_alliance
from bot.app import build
from bot.settings import ConfigError, Settings
from bot.slack.workspaces import request_workspace
from bot.web.routes import create_web_app
from storage.slack_installations import EncryptedInstallationStore, SealError, TokenCipher

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret-for-tests"
TEAM_A, TEAM_B = "T0AAAA", "T0BBBB"
TOKEN_A, TOKEN_B = "xoxb-111-aaaaaaaaaaaa", "xoxb-222-bbbbbbbbbbbb"
STATE_COOKIE = "slack-app-oauth-state"


def oauth_settings(database_url: str, slack_url: str, **changes: Any) -> Settings:
    """A multi-workspace deployment pointed at the fakes (no SLACK_BOT_TOKEN at all)."""
    values: dict[str, Any] = {
        "_env_file": None,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack_url,
        "database_url": database_url,
        "slack_client_id": CLIENT_ID,
        "slack_client_secret": CLIENT_SECRET,
        "learnloop_encryption_key": Fernet.generate_key().decode(),
    }
    values.update(changes)
    return Settings(**values)


def two_workspace_alliance() -> Any:
    """Housing in workspace A (the stewards' too), the hospital in workspace B."""
    data = copy.deepcopy(TEST_ALLIANCE)
    data["alliance"]["slack_team"] = TEAM_A
    data["agencies"][0]["team"] = TEAM_A
    data["agencies"][1]["team"] = TEAM_B
    return parse_alliance(data)


@pytest.fixture
def oauth_live(database_url: str, fake_slack: FakeSlackAPI) -> Iterator[Live]:
    """LearnLoop in OAuth mode behind a live HTTP server."""
    loop = build(oauth_settings(database_url, fake_slack.url), alliance=two_workspace_alliance())
    server = LiveServer(create_web_app(loop)).start()
    live = Live(loop=loop, server=server, slack=fake_slack, http=httpx.Client(timeout=10))
    yield live
    live.http.close()
    server.stop()
    loop.engine.dispose()


def start_install(live: Live) -> tuple[str, str]:
    """Open /slack/install as a browser would: the Slack consent URL and the state cookie."""
    page = live.http.get(live.server.url + "/slack/install")
    assert page.status_code == 200
    link = re.search(r'<a href="([^"]+)"', page.text)
    assert link, page.text
    url = html.unescape(link.group(1))
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{STATE_COOKIE}=")
    return url, cookie.split(";")[0]


def oauth_access_answer(team: str, token: str, **extra: Any) -> dict[str, Any]:
    """What Slack's oauth.v2.access says after a person allows the app in `team`."""
    return {
        "ok": True,
        "app_id": "A0001",
        "authed_user": {"id": "U0ADMIN"},
        "scope": "chat:write,commands,im:history,im:write,users:read",
        "token_type": "bot",
        "access_token": token,
        "bot_user_id": "UBOT",
        "team": {"id": team, "name": f"Workspace {team}"},
        "enterprise": None,
        "is_enterprise_install": False,
        **extra,
    }


def install(live: Live, team: str, token: str, **extra: Any) -> httpx.Response:
    """Run the whole install for one workspace."""
    url, cookie = start_install(live)
    state = parse_qs(urlsplit(url).query)["state"][0]
    live.slack.queue("oauth.v2.access", oauth_access_answer(team, token, **extra))
    return live.http.get(
        live.server.url + "/slack/oauth_redirect",
        params={"code": f"code-{team}", "state": state},
        headers={"Cookie": cookie},
    )


def raw_rows(live: Live, table: str) -> list[str]:
    """Every row of a table as text, as anyone reading the database would see it."""
    return [" ".join(str(v) for v in row) for row in live.rows(f"SELECT * FROM {table}")]


def bearer(call: Any) -> str | None:
    return call.token


def uninstalls(live: Live) -> int:
    return live.scalar("SELECT count(*) FROM audit_events WHERE action = 'slack.uninstalled'")


def signed_event(event: dict[str, Any], team: str) -> Any:
    payload = _event_callback("app_home_opened", event, None, team)
    return _json_request(payload, SIGNING_SECRET, None)


# ------------------------------------------------------------------------------ the flow


def test_install_page_sends_the_installer_to_slack_with_a_state(oauth_live: Live) -> None:
    url, cookie = start_install(oauth_live)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    # The consent page lives next to SLACK_API_URL (GovSlack: slack-gov.com), not slack.com.
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        oauth_live.slack.root_url + "/oauth/v2/authorize"
    )
    assert query["client_id"] == [CLIENT_ID]
    assert "chat:write" in query["scope"][0].split(",")
    assert cookie == f"{STATE_COOKIE}={query['state'][0]}"


def test_install_stores_the_workspace_with_its_tokens_encrypted(oauth_live: Live) -> None:
    answer = install(oauth_live, TEAM_A, TOKEN_A)
    assert answer.status_code == 200, answer.text

    access = oauth_live.slack.last("oauth.v2.access")
    assert access.params["code"] == f"code-{TEAM_A}"
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert access.header("Authorization") == f"Basic {basic}"

    for table in ("slack_installations", "slack_bots"):
        rows = raw_rows(oauth_live, table)
        assert len(rows) == 1
        assert TEAM_A in rows[0]
        assert "xoxb-" not in rows[0] and TOKEN_A not in rows[0]
        assert "fernet:" in rows[0]
    installs = oauth_live.loop.installs
    assert installs is not None
    assert installs.tokens.bot_token(TEAM_A) == TOKEN_A
    assert oauth_live.rows(
        "SELECT actor, action, target FROM audit_events WHERE action = 'slack.installed'"
    ) == [("slack:U0ADMIN", "slack.installed", f"slack_workspace:{TEAM_A}")]


def test_a_missing_or_wrong_state_is_refused(oauth_live: Live) -> None:
    url, cookie = start_install(oauth_live)
    state = parse_qs(urlsplit(url).query)["state"][0]
    redirect = oauth_live.server.url + "/slack/oauth_redirect"
    oauth_live.slack.queue("oauth.v2.access", oauth_access_answer(TEAM_A, TOKEN_A))

    # No state at all, or a state that is not the one this browser was given.
    assert (
        oauth_live.http.get(redirect, params={"code": "c"}, headers={"Cookie": cookie}).status_code
        == 400
    )
    assert oauth_live.http.get(redirect, params={"code": "c", "state": state}).status_code == 400
    forged = f"{STATE_COOKIE}=forged"
    assert (
        oauth_live.http.get(
            redirect, params={"code": "c", "state": state}, headers={"Cookie": forged}
        ).status_code
        == 400
    )
    # A state the browser carries but LearnLoop never issued.
    assert (
        oauth_live.http.get(
            redirect, params={"code": "c", "state": "forged"}, headers={"Cookie": forged}
        ).status_code
        == 401
    )
    assert oauth_live.slack.calls("oauth.v2.access") == []
    assert raw_rows(oauth_live, "slack_bots") == []

    # The real one works once; replaying it is refused.
    ok = oauth_live.http.get(
        redirect, params={"code": "c", "state": state}, headers={"Cookie": cookie}
    )
    assert ok.status_code == 200
    again = oauth_live.http.get(
        redirect, params={"code": "c", "state": state}, headers={"Cookie": cookie}
    )
    assert again.status_code == 401
    assert len(oauth_live.slack.calls("oauth.v2.access")) == 1


def test_each_workspace_is_reached_with_its_own_token(oauth_live: Live) -> None:
    assert install(oauth_live, TEAM_A, TOKEN_A).status_code == 200
    assert install(oauth_live, TEAM_B, TOKEN_B).status_code == 200
    oauth_live.slack.reset()

    report = oauth_live.loop.services.prompts.send("weekly", now=True)[0]
    assert report.sent == 4 and report.failed == 0
    tokens = {c.params["channel"]: bearer(c) for c in oauth_live.slack.calls("chat.postMessage")}
    assert tokens[ALICE] == TOKEN_A  # housing, workspace A
    assert tokens[CAROL] == TOKEN_B  # hospital, workspace B

    # A person in workspace B uses a command: Bolt answers with B's token, never A's.
    oauth_live.slack.reset()
    command = slash_command(
        "/checkin",
        user_id=CAROL,
        team_id=TEAM_B,
        enterprise_id=None,
        enterprise_name=None,
        response_url=oauth_live.slack.response_url(),
    )
    response = oauth_live.post(command)
    assert response.status_code == 200
    opened = oauth_live.slack.wait_for("views.open")[0]
    assert bearer(opened) == TOKEN_B


def test_ready_in_oauth_mode_counts_workspaces(oauth_live: Live) -> None:
    ready = oauth_live.http.get(oauth_live.server.url + "/readyz")
    assert ready.status_code == 200
    assert ready.json()["workspaces"] == 0
    install(oauth_live, TEAM_A, TOKEN_A)
    assert oauth_live.http.get(oauth_live.server.url + "/readyz").json()["workspaces"] == 1


def test_uninstall_forgets_only_that_workspace(oauth_live: Live) -> None:
    install(oauth_live, TEAM_A, TOKEN_A)
    install(oauth_live, TEAM_B, TOKEN_B)
    response = oauth_live.post(signed_event({"type": "app_uninstalled"}, TEAM_B))
    assert response.status_code == 200

    wait_until(lambda: uninstalls(oauth_live) == 1)
    assert all(TEAM_B not in row for row in raw_rows(oauth_live, "slack_bots"))
    assert all(TEAM_B not in row for row in raw_rows(oauth_live, "slack_installations"))
    assert any(TEAM_A in row for row in raw_rows(oauth_live, "slack_bots"))

    oauth_live.slack.reset()
    report = oauth_live.loop.services.prompts.send("weekly", now=True)[0]
    # Workspace B's people are not reached with A's token: their prompts fail, visibly.
    assert (report.sent, report.failed) == (2, 2)
    assert {bearer(c) for c in oauth_live.slack.calls("chat.postMessage")} == {TOKEN_A}
    errors = oauth_live.rows("SELECT DISTINCT error FROM prompts WHERE status = 'failed'")
    assert errors == [("workspace_not_installed",)]


def test_a_workspace_with_no_installation_is_refused_and_counted(oauth_live: Live) -> None:
    install(oauth_live, TEAM_A, TOKEN_A)
    reply = message_im("From a workspace we are not in", user_id=CAROL, team_id=TEAM_B)
    assert oauth_live.post(reply).status_code == 200  # Slack must not redeliver it
    assert oauth_live.scalar("SELECT count(*) FROM checkins") == 0
    metrics = oauth_live.http.get(oauth_live.server.url + "/metrics").text
    assert (
        'learnloop_slack_foreign_requests_total{kind="any",reason="not_installed"} 1.0' in metrics
    )
    # The installed workspace is served as before.
    ours = message_im("From the installed workspace", user_id=ALICE, team_id=TEAM_A)
    assert oauth_live.post(ours).status_code == 200
    assert oauth_live.scalar("SELECT count(*) FROM checkins") == 1


def test_revoked_bot_token_is_forgotten(oauth_live: Live) -> None:
    install(oauth_live, TEAM_A, TOKEN_A)
    event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
    assert oauth_live.post(signed_event(event, TEAM_A)).status_code == 200
    wait_until(lambda: raw_rows(oauth_live, "slack_bots") == [])
    installs = oauth_live.loop.installs
    assert installs is not None and installs.tokens.bot_token(TEAM_A) is None


def test_an_expiring_token_is_rotated_before_use(oauth_live: Live) -> None:
    install(
        oauth_live,
        TEAM_A,
        "xoxe.xoxb-1-old",
        refresh_token="xoxe-1-refresh-old",
        expires_in=60,  # well inside the two hours before expiry when LearnLoop rotates
    )
    oauth_live.slack.queue(
        "oauth.v2.access",
        {
            "ok": True,
            "access_token": "xoxe.xoxb-1-new",
            "refresh_token": "xoxe-1-refresh-new",
            "expires_in": 43200,
            "token_type": "bot",
        },
    )
    oauth_live.slack.reset()
    oauth_live.loop.services.members.sync_config()
    report = oauth_live.loop.services.prompts.send("weekly", now=True)[0]
    assert report.sent == 2  # housing; the hospital's workspace is not installed
    refresh = oauth_live.slack.calls("oauth.v2.access")[0]
    assert refresh.params["grant_type"] == "refresh_token"
    assert refresh.params["refresh_token"] == "xoxe-1-refresh-old"
    sent = [c for c in oauth_live.slack.calls("chat.postMessage") if c.params["channel"] == ALICE]
    assert bearer(sent[0]) == "xoxe.xoxb-1-new"
    assert all("xoxe" not in row for row in raw_rows(oauth_live, "slack_bots"))


def test_steward_channels_use_the_alliance_workspace(oauth_live: Live) -> None:
    install(oauth_live, TEAM_A, TOKEN_A)
    install(oauth_live, TEAM_B, TOKEN_B)
    client = oauth_live.loop.client
    assert client is not None
    oauth_live.slack.reset()
    client.chat_postMessage(channel="C0STEWARDS", text="digest")
    client.chat_postMessage(channel=STEWARD, text="hello")
    assert [bearer(c) for c in oauth_live.slack.calls("chat.postMessage")] == [TOKEN_A, TOKEN_A]


def test_a_configured_channel_keeps_its_workspace_inside_another_workspaces_request(
    oauth_live: Live,
) -> None:
    """Slack Connect: a steward in workspace B acts on a card in the shared steward channel."""
    install(oauth_live, TEAM_A, TOKEN_A)
    install(oauth_live, TEAM_B, TOKEN_B)
    client = oauth_live.loop.client
    assert client is not None
    oauth_live.slack.reset()
    during_b = request_workspace.set(TEAM_B)
    try:
        client.chat_update(channel="C0STEWARDS", ts="1.000100", text="acknowledged")
        client.chat_postMessage(channel="D0NOTSEEN", text="a DM LearnLoop has no record of")
    finally:
        request_workspace.reset(during_b)
    update, post = oauth_live.slack.calls()
    assert bearer(update) == TOKEN_A  # the channel the alliance file places in workspace A
    assert bearer(post) == TOKEN_B  # nothing says, so the request's own workspace


# ----------------------------------------------------------------------------- start-up


@pytest.mark.parametrize(
    "missing, variable",
    [
        ({"learnloop_encryption_key": None}, "LEARNLOOP_ENCRYPTION_KEY"),
        ({"slack_client_secret": None}, "SLACK_CLIENT_SECRET"),
    ],
)
def test_oauth_mode_refuses_to_start_without(
    database_url: str, fake_slack: FakeSlackAPI, missing: dict[str, Any], variable: str
) -> None:
    settings = oauth_settings(database_url, fake_slack.url, **missing)
    with pytest.raises(ConfigError) as raised:
        build(settings, alliance=two_workspace_alliance())
    assert any(p.startswith(variable) for p in raised.value.problems)
    with pytest.raises(ConfigError):
        settings.require_slack()


def test_a_malformed_key_is_named() -> None:
    with pytest.raises(Exception) as raised:
        Settings(_env_file=None, learnloop_encryption_key="not-a-key")
    assert "Fernet" in str(raised.value)


def test_the_store_cannot_be_read_with_another_key(oauth_live: Live) -> None:
    install(oauth_live, TEAM_A, TOKEN_A)
    other = TokenCipher([Fernet.generate_key().decode()])
    with pytest.raises(SealError):
        EncryptedInstallationStore(CLIENT_ID, oauth_live.loop.engine, other).find_workspace_bot(
            TEAM_A
        )
    # A process started with the wrong key fails its sends visibly, and carries on.
    installs = oauth_live.loop.installs
    assert installs is not None
    installs.store.cipher = other
    report = oauth_live.loop.services.prompts.send("weekly", now=True)[0]
    assert report.sent == 0 and report.errors["token_unreadable"] == 2


def test_http_manifest_names_the_install_redirect_and_lifecycle_events() -> None:
    from bot.slack.manifest import manifest

    data = manifest("https://learnloop.example.org/")
    assert data["oauth_config"]["redirect_urls"] == [
        "https://learnloop.example.org/slack/oauth_redirect"
    ]
    events = data["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_uninstalled", "tokens_revoked"} <= set(events)


def test_the_directory_places_people_channels_and_user_groups(engine: Any) -> None:
    from bot.slack.workspaces import WorkspaceDirectory
    from storage.uow import UnitOfWorkFactory

    data = copy.deepcopy(TEST_ALLIANCE)
    data["alliance"]["slack_team"] = TEAM_A
    data["agencies"][1].update(team=TEAM_B, usergroup="S0WARD", channel="C0WARD")
    data["digests"].append({"id": "ward", "channel": "C0WARDDIGEST", "scope": "agency:hospital"})
    directory = WorkspaceDirectory(parse_alliance(data), UnitOfWorkFactory(engine))
    assert directory.of_call({"channel": CAROL}) == TEAM_B  # a DM by user id
    assert directory.of_call({"users": f"{CAROL},{ALICE}"}) == TEAM_B
    assert directory.of_call({"channel": "C0WARD"}) == TEAM_B
    assert directory.of_call({"usergroup": "S0WARD"}) == TEAM_B
    assert directory.of_call({"channel": "C0WARDDIGEST"}) == TEAM_B  # an agency's digest
    assert directory.of_call({"channel": "C0STEWARDS"}) == TEAM_A  # the alliance digest
    assert directory.of_call({"channel": "C0LEADS"}) == TEAM_A  # a ladder channel
    assert directory.of_call({"user": STEWARD}) == TEAM_A
    assert directory.of_call({"channel": "C0ELSEWHERE"}) is None


def test_govslack_consent_page_sits_next_to_its_api() -> None:
    from bot.slack.oauth import authorize_url

    assert authorize_url("https://slack-gov.com/api/") == "https://slack-gov.com/oauth/v2/authorize"
    assert authorize_url("https://slack.com/api/") == "https://slack.com/oauth/v2/authorize"
