"""Readiness and metrics: what an operator's probes and Prometheus see (counts only)."""

from __future__ import annotations

from conftest import ALICE, BOB, Live
from slack_requests import slash_command

from bot.readiness import SlackReadiness, auth_test_call


def test_readyz_checks_database_and_slack(live: Live) -> None:
    resp = live.http.get(live.server.url + "/readyz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ready", "database": "ok", "schema": "ok", "slack": "ok"}
    live.slack.queue("auth.test", {"ok": False, "error": "invalid_auth"})
    # Slack's answer is kept for a while (tests/handlers/test_readiness.py); a process that
    # has not asked yet sees the revoked token.
    live.loop.slack_readiness = SlackReadiness(auth_test_call("xoxb-test-token", live.slack.url))
    resp = live.http.get(live.server.url + "/readyz")
    assert resp.status_code == 503
    assert resp.json()["slack"] == "invalid_auth"


def test_metrics_count_prompts_errors_retries_and_latency(live: Live) -> None:
    live.slack.queue(
        "chat.postMessage",
        {"ok": False, "error": "ratelimited"},
        status=429,
        headers={"Retry-After": "0"},
    )
    live.slack.fail_when("chat.postMessage", lambda p: p.get("channel") == BOB, "user_not_found")
    live.loop.services.prompts.send("weekly", now=True)
    live.post(slash_command("/checkin", user_id=ALICE))
    text = live.http.get(live.server.url + "/metrics").text
    assert 'learnloop_prompts{status="sent"} 3.0' in text
    # One failed prompt is a count about people under the threshold (3): it is left out.
    assert 'learnloop_prompts{status="failed"}' not in text
    assert "learnloop_suppress_below 3.0" in text
    assert (
        'learnloop_slack_api_errors_total{error="user_not_found",method="chat.postMessage"} 1.0'
        in text
    )
    assert (
        'learnloop_slack_api_retries_total{method="chat.postMessage",reason="ratelimited"} 1.0'
        in text
    )
    assert 'learnloop_http_request_duration_seconds_count{route="/slack/events"} 1.0' in text
    assert "learnloop_database_up 1.0" in text
    assert BOB not in text and ALICE not in text
