"""Tests of the test-support modules: fake Web API, signed request builders, LiveServer."""

from __future__ import annotations

import io
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi import FastAPI, Request
from live_server import LiveServer
from slack_api import WEBHOOK, FakeSlackAPI, WaitTimeout
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.fastapi import SlackRequestHandler
from slack_fixtures import fake_slack as fake_slack_fixture  # noqa: F401 - registers fake_slack
from slack_requests import (
    SIGNING_SECRET,
    app_home_opened,
    block_actions,
    load_sample,
    load_signature_vector,
    message_im,
    multi_static_select_value,
    post,
    sign,
    slash_command,
    static_select_value,
    url_verification,
    view_closed,
    view_submission,
)
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "block_id": "q1", "text": {"type": "mrkdwn", "text": "*Question 1*"}},
    {
        "type": "actions",
        "block_id": "answers",
        "elements": [
            {"type": "button", "action_id": "answer_a", "text": {"type": "plain_text", "text": "A"}}
        ],
    },
]


def client_for(fake: FakeSlackAPI) -> WebClient:
    """Return a WebClient pointed at the fake."""
    return WebClient(base_url=fake.url, token="xoxb-test", timeout=5)


def form_payload(body: bytes) -> dict[str, Any]:
    """Decode an interactivity body ``payload=<json>``."""
    fields = parse_qs(body.decode("utf-8"))
    assert list(fields) == ["payload"]
    return json.loads(fields["payload"][0])


# ---------------------------------------------------------------------------- FakeSlackAPI


def test_post_message_is_recorded_with_token_and_decoded_blocks(fake_slack: FakeSlackAPI) -> None:
    client = client_for(fake_slack)
    first = client.chat_postMessage(channel="C123", text="hello", blocks=BLOCKS)
    second = client.chat_postMessage(channel="U042", text="dm")

    call = fake_slack.last("chat.postMessage")
    assert call.method == "chat.postMessage"
    assert call.header("authorization") == "Bearer xoxb-test"
    assert call.token == "xoxb-test"
    assert call.content_type == "application/json"
    assert call.params["channel"] == "U042"
    first_call = fake_slack.calls("chat.postMessage")[0]
    assert first_call.json_field("blocks") == BLOCKS
    assert first_call.params["text"] == "hello"

    assert first["ok"] is True and first["channel"] == "C123"
    assert first["message"]["blocks"] == BLOCKS
    assert first["ts"] == "1700000000.000100"
    assert float(second["ts"]) > float(first["ts"])
    assert second["channel"] == "DU042"


def test_form_encoded_blocks_are_decoded_by_json_field(fake_slack: FakeSlackAPI) -> None:
    client = client_for(fake_slack)
    client.api_call(
        "chat.postMessage", params={"channel": "C1", "text": "t", "blocks": json.dumps(BLOCKS)}
    )
    call = fake_slack.last("chat.postMessage")
    assert call.content_type == "application/x-www-form-urlencoded"
    assert isinstance(call.params["blocks"], str)
    assert call.json_field("blocks") == BLOCKS
    assert call.json_field("missing", default=[]) == []


def test_multipart_and_get_requests_are_parsed(fake_slack: FakeSlackAPI) -> None:
    client = client_for(fake_slack)
    tricky = b"\x00line1\r\n--not-a-boundary\r\n\xff"
    client.api_call(
        "files.upload",
        files={"file": io.BytesIO(tricky)},
        data={"channels": "C1", "filename": "a.bin"},
    )
    call = fake_slack.last("files.upload")
    assert call.content_type == "multipart/form-data"
    assert call.params == {"channels": "C1", "filename": "a.bin"}
    assert call.files["file"].data == tricky
    assert call.files["file"].filename == "a.bin"

    resp = httpx.get(fake_slack.url + "users.info", params={"user": "U9"}, timeout=5)
    assert resp.json()["user"]["id"] == "U9"
    assert fake_slack.last("users.info").http_method == "GET"
    assert fake_slack.last("users.info").params == {"user": "U9"}


def test_queued_429_is_retried_by_rate_limit_handler(fake_slack: FakeSlackAPI) -> None:
    fake_slack.queue(
        "chat.postMessage",
        {"ok": False, "error": "ratelimited"},
        status=429,
        headers={"Retry-After": "1"},
    )
    client = client_for(fake_slack)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))

    started = time.monotonic()
    resp = client.chat_postMessage(channel="C1", text="hi")
    elapsed = time.monotonic() - started

    assert resp["ok"] is True
    assert len(fake_slack.calls("chat.postMessage")) == 2
    assert elapsed >= 1.0


def test_queued_429_without_retry_handler_raises(fake_slack: FakeSlackAPI) -> None:
    fake_slack.queue("chat.postMessage", {"ok": False, "error": "ratelimited"}, status=429)
    with pytest.raises(SlackApiError) as info:
        client_for(fake_slack).chat_postMessage(channel="C1", text="hi")
    assert info.value.response.status_code == 429
    assert info.value.response["error"] == "ratelimited"
    # the queued answer was one-shot: the next call gets the default
    assert client_for(fake_slack).chat_postMessage(channel="C1", text="hi")["ok"] is True


def test_fail_when_gives_slack_api_error(fake_slack: FakeSlackAPI) -> None:
    fake_slack.fail_when(
        "chat.postMessage", lambda p: p.get("channel") == "U0GONE", "user_not_found"
    )
    fake_slack.fail_when("users.info", lambda p: p.get("user") == "U0GONE", "user_not_found")
    client = client_for(fake_slack)

    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="U0GONE", text="hi")
    assert info.value.response["error"] == "user_not_found"
    assert info.value.response.status_code == 200
    with pytest.raises(SlackApiError) as info2:
        client.users_info(user="U0GONE")
    assert info2.value.response["error"] == "user_not_found"

    assert client.chat_postMessage(channel="U0HERE", text="hi")["ok"] is True
    assert len(fake_slack.calls("chat.postMessage")) == 2

    fake_slack.clear_faults()
    assert client.chat_postMessage(channel="U0GONE", text="hi")["ok"] is True


def test_conversations_members_pagination(fake_slack: FakeSlackAPI) -> None:
    ids = ["U1", "U2", "U3", "U4", "U5"]
    fake_slack.set_channel_members("C1", ids, page_size=2)
    client = client_for(fake_slack)

    collected: list[str] = []
    for number, page in enumerate(client.conversations_members(channel="C1", limit=200)):
        assert number < 5, "pagination does not terminate"
        collected.extend(page["members"])
    assert collected == ids

    calls = fake_slack.calls("conversations.members")
    assert len(calls) == 3
    assert "cursor" not in calls[0].params
    assert calls[1].params["cursor"] and calls[2].params["cursor"]

    fake_slack.reset()
    pages = [p["members"] for p in client.conversations_members(channel="C1", limit=1)]
    assert pages == [[u] for u in ids]

    with pytest.raises(SlackApiError) as info:
        client.conversations_members(channel="C1", cursor="garbage!")
    assert info.value.response["error"] == "invalid_cursor"


def test_default_answers_look_like_slack(fake_slack: FakeSlackAPI) -> None:
    client = client_for(fake_slack)
    auth = client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"], auth["team"]) == (
        "UBOT",
        "BBOT",
        "T0001",
        "Test",
    )
    assert client.conversations_open(users="U7")["channel"]["id"] == "DU7"
    user = client.users_info(user="U7")["user"]
    assert user["tz"] == "Europe/London" and user["deleted"] is False and user["is_bot"] is False
    assert user["tz_offset"] in (0, 3600)

    fake_slack.set_user("U7", tz="America/New_York", deleted=True)
    user = client.users_info(user="U7")["user"]
    assert user["tz"] == "America/New_York" and user["deleted"] is True
    assert user["tz_offset"] in (-18000, -14400)

    opened = client.views_open(trigger_id="t", view={"type": "modal", "callback_id": "quiz"})
    view_id = opened["view"]["id"]
    assert opened["view"]["callback_id"] == "quiz"
    updated = client.views_update(view_id=view_id, view={"type": "modal", "callback_id": "q2"})
    assert updated["view"]["id"] == view_id
    home1 = client.views_publish(user_id="U7", view={"type": "home", "blocks": []})
    home2 = client.views_publish(user_id="U7", view={"type": "home", "blocks": []})
    assert home1["view"]["id"] == home2["view"]["id"] and home1["view"]["type"] == "home"

    eph = client.chat_postEphemeral(channel="C1", user="U7", text="psst")
    assert eph["message_ts"]
    assert (
        client.chat_update(channel="C1", ts=eph["message_ts"], text="x")["ts"] == eph["message_ts"]
    )
    assert client.chat_delete(channel="C1", ts="1.2")["ok"] is True
    fake_slack.set_usergroup_users("S1", ["U1", "U2"])
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U1", "U2"]
    assert client.conversations_join(channel="C9")["channel"]["id"] == "C9"
    assert client.conversations_info(channel="C9")["channel"]["is_channel"] is True
    assert client.api_call("team.info")["ok"] is True
    assert fake_slack.last("team.info").method == "team.info"
    assert fake_slack.errors == []


def test_files_upload_v2_records_uploaded_bytes(fake_slack: FakeSlackAPI) -> None:
    content = b"week,score\r\n1,\x00\xff80\n"
    resp = client_for(fake_slack).files_upload_v2(
        channel="C1", content=content, filename="report.csv", title="Weekly report"
    )
    assert resp["ok"] is True
    file_id = resp["file"]["id"]

    get_url = fake_slack.last("files.getUploadURLExternal")
    assert get_url.params["filename"] == "report.csv"
    assert get_url.params["length"] == str(len(content))
    uploads = fake_slack.uploads(file_id)
    assert [u.data for u in uploads] == [content]
    complete = fake_slack.last("files.completeUploadExternal")
    assert complete.json_field("files") == [{"id": file_id, "title": "Weekly report"}]
    assert complete.params["channel_id"] == "C1"
    assert resp["file"]["size"] == len(content)


def test_latency_and_wait_for(fake_slack: FakeSlackAPI) -> None:
    fake_slack.set_latency(0.3)
    started = time.monotonic()
    client_for(fake_slack).auth_test()
    assert time.monotonic() - started >= 0.3
    assert len(fake_slack.wait_for("auth.test", timeout=0.1)) == 1
    with pytest.raises(WaitTimeout):
        fake_slack.wait_for("chat.postMessage", timeout=0.2)


def test_fake_stops_and_refuses_connections() -> None:
    with FakeSlackAPI() as fake:
        url = fake.url
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/")
        client = WebClient(base_url=url, token="xoxb-test", timeout=2)
        assert client.auth_test()["ok"] is True
    with pytest.raises(httpx.ConnectError):
        httpx.post(url + "auth.test", timeout=2)


# ---------------------------------------------------------------------------- signing


def test_sign_matches_documented_vector() -> None:
    vector = load_signature_vector()
    headers = sign(
        vector["signing_secret"], vector["raw_body"], vector["x_slack_request_timestamp"]
    )
    assert headers["X-Slack-Signature"] == vector["expected_x_slack_signature"]
    assert headers["X-Slack-Request-Timestamp"] == "1531420618"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"

    verifier = SignatureVerifier(vector["signing_secret"])
    # the documented request is from 2018, so a real clock must reject it as a replay
    assert not verifier.is_valid(
        vector["raw_body"],
        vector["x_slack_request_timestamp"],
        vector["expected_x_slack_signature"],
    )
    fresh_ts = str(int(time.time()))
    fresh = sign(vector["signing_secret"], vector["raw_body"], fresh_ts)
    assert verifier.is_valid(vector["raw_body"], fresh_ts, fresh["X-Slack-Signature"])
    assert not verifier.is_valid(vector["raw_body"] + "x", fresh_ts, fresh["X-Slack-Signature"])


def test_slash_command_reproduces_documented_encoding() -> None:
    vector = load_signature_vector()
    fields = parse_qs(vector["raw_body"], keep_blank_values=True)
    req = slash_command(
        "/webhook-collect",
        "",
        user_id="U2CERLKJA",
        team_id="T1DC2JH3J",
        channel_id="G8PSS9T3V",
        trigger_id=fields["trigger_id"][0],
        response_url=fields["response_url"][0],
        token=fields["token"][0],
        team_domain="testteamnow",
        channel_name="foobar",
        user_name="roadrunner",
        enterprise_id=None,
        enterprise_name=None,
        api_app_id=None,
        signing_secret=vector["signing_secret"],
        timestamp=vector["x_slack_request_timestamp"],
    )
    assert req.text == vector["raw_body"]
    assert req.headers["X-Slack-Signature"] == vector["expected_x_slack_signature"]


def test_builders_produce_documented_shapes() -> None:
    cmd = slash_command("/learn", "start week 2", user_id="U5")
    assert list(parse_qs(cmd.text, keep_blank_values=True)) == [
        k for k in load_sample("slash_command") if k != "_meta"
    ]
    assert parse_qs(cmd.text)["text"] == ["start week 2"]
    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(cmd.body, cmd.headers)

    button = block_actions("answer_a", "42", user_id="U5", message_ts="1700000000.000100")
    payload = form_payload(button.body)
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "DU5",
        "is_ephemeral": False,
    }
    assert payload["message"]["ts"] == "1700000000.000100"
    assert payload["trigger_id"] and payload["response_url"].startswith("https://")
    assert payload["actions"][0]["value"] == "42"
    assert payload["user"]["id"] == "U5"
    assert button.headers["Content-Type"] == "application/x-www-form-urlencoded"

    home = block_actions("open_settings", container_type="view")
    home_payload = form_payload(home.body)
    assert home_payload["container"]["type"] == "view"
    assert "response_url" not in home_payload and "message" not in home_payload

    sub = view_submission(
        "quiz_modal",
        {
            "answer": {"text": "my answer"},
            "level": {"pick": static_select_value("hard")},
            "topics": {"multi": multi_static_select_value(["a", "b"])},
        },
        private_metadata="week=2",
    )
    sub_payload = form_payload(sub.body)
    values = sub_payload["view"]["state"]["values"]
    assert values["answer"]["text"] == {"type": "plain_text_input", "value": "my answer"}
    assert values["level"]["pick"]["selected_option"]["value"] == "hard"
    assert [o["value"] for o in values["topics"]["multi"]["selected_options"]] == ["a", "b"]
    assert sub_payload["view"]["callback_id"] == "quiz_modal"
    assert sub_payload["view"]["private_metadata"] == "week=2"

    closed = form_payload(view_closed("quiz_modal").body)
    assert closed["type"] == "view_closed" and closed["view"]["callback_id"] == "quiz_modal"

    dm = message_im("hello", user_id="U5", event_id="Ev1", retry_num=1)
    assert dm.headers["Content-Type"] == "application/json"
    assert dm.headers["X-Slack-Retry-Num"] == "1"
    assert dm.headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert dm.payload["event"]["channel_type"] == "im"
    assert dm.payload["event_id"] == "Ev1"
    assert json.loads(dm.body) == dm.payload
    assert not any(k.startswith("_") for k in dm.payload)
    assert "bot_id" not in dm.payload["event"]
    assert message_im("x", bot_id="BBOT").payload["event"]["bot_id"] == "BBOT"

    assert app_home_opened("U5").payload["event"]["user"] == "U5"
    assert "view" not in app_home_opened("U5", include_view=False).payload["event"]
    assert url_verification("abc").payload == {
        "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
        "challenge": "abc",
        "type": "url_verification",
    }


# ---------------------------------------------------------------------------- LiveServer


def test_live_server_serves_fastapi_app_with_lifespan() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    api = FastAPI(lifespan=lifespan)

    @api.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    with LiveServer(api) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0
        assert events == ["startup"]
        resp = httpx.get(server.url + "/ping", timeout=5)
        assert resp.status_code == 200 and resp.json() == {"pong": "yes"}
        url = server.url
    assert events == ["startup", "shutdown"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/ping", timeout=2)


# ---------------------------------------------------------------------------- end to end


@pytest.fixture
def bolt_server(fake_slack: FakeSlackAPI) -> Iterator[LiveServer]:
    """Serve a small Bolt app (talking to the fake Web API) over real HTTP."""
    bolt = App(client=client_for(fake_slack), signing_secret=SIGNING_SECRET)

    @bolt.command("/learn")
    def learn(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack("on it")
        client.chat_postMessage(channel=command["user_id"], text=f"got {command['text']}")
        respond("done")

    @bolt.action("answer_a")
    def answer(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view={"type": "modal", "blocks": []})

    @bolt.view("quiz_modal")
    def submitted(ack: Ack, view: dict[str, Any]) -> None:
        if view["state"]["values"]["answer"]["text"]["value"] == "":
            ack(response_action="errors", errors={"answer": "required"})
        else:
            ack()

    @bolt.event("message")
    def on_dm(event: dict[str, Any], client: WebClient) -> None:
        client.chat_postMessage(channel=event["channel"], text="echo " + event["text"])

    @bolt.event("app_home_opened")
    def on_home(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    handler = SlackRequestHandler(bolt)
    api = FastAPI()

    @api.post("/slack/events")
    async def events(req: Request) -> Any:
        return await handler.handle(req)

    with LiveServer(api) as server:
        yield server


def test_bolt_accepts_built_requests(fake_slack: FakeSlackAPI, bolt_server: LiveServer) -> None:
    url = bolt_server.url

    challenge = post(url, url_verification("xyz"))
    assert challenge.status_code == 200 and "xyz" in challenge.text

    cmd = post(url, slash_command("/learn", "week 2", response_url=fake_slack.response_url()))
    assert cmd.status_code == 200 and "on it" in cmd.text
    (sent,) = fake_slack.wait_for("chat.postMessage")
    assert sent.params["text"] == "got week 2"
    assert fake_slack.wait_for(WEBHOOK)[0].params["text"] == "done"

    assert post(url, block_actions("answer_a", "1")).status_code == 200
    fake_slack.wait_for("views.open")

    ok = post(url, view_submission("quiz_modal", {"answer": {"text": "x"}}))
    assert ok.status_code == 200 and ok.text == ""
    errors = post(url, view_submission("quiz_modal", {"answer": {"text": ""}}))
    assert errors.json() == {"response_action": "errors", "errors": {"answer": "required"}}

    assert post(url, message_im("hi there", user_id="U5")).status_code == 200
    echoed = fake_slack.wait_for("chat.postMessage", count=2)[-1]
    assert (echoed.params["channel"], echoed.params["text"]) == ("DU5", "echo hi there")
    assert echoed.token == "xoxb-test"
    # Bolt ignores the bot's own messages (bot_id from auth.test)
    assert post(url, message_im("loop", user_id="UBOT", bot_id="BBOT")).status_code == 200

    assert post(url, app_home_opened("U5")).status_code == 200
    assert fake_slack.wait_for("views.publish")[0].params["user_id"] == "U5"

    time.sleep(0.2)
    assert len(fake_slack.calls("chat.postMessage")) == 2

    forged = slash_command("/learn", "x", signing_secret="wrong-secret")
    assert post(url, forged).status_code == 401
    stale = slash_command("/learn", "x", timestamp=int(time.time()) - 600)
    assert post(url, stale).status_code == 401
