"""The worker's own port: /metrics (what the documented alerts need) and a heartbeat.

The real `learnloop worker` runs as a child process against the fake Slack Web API; its port is
scraped over HTTP, and compose's own healthcheck command is run against it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from conftest import Live
from prometheus_client.parser import text_string_to_metric_families
from slack_api import FakeSlackAPI
from slack_requests import slash_command
from worker_process import (
    CHANNEL,
    WorkerProcess,
    channel_alliance,
    wait_for,
    worker_env,
    write_config,
)

from bot.metrics import Metrics
from bot.scheduler import Job, Worker
from bot.worker_status import WorkerStatus, serve_worker_http
from storage.locks import NoLock

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = ["U0W0001", "U0W0002", "U0W0003"]

# ----------------------------------------------------------------- scraping and alert rules

Sample = tuple[str, dict[str, str], float]


def scrape(text: str) -> tuple[set[str], list[Sample]]:
    """Metric names a rule may use (families, their samples, counters' _total) and samples."""
    names: set[str] = set()
    samples: list[Sample] = []
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names.update(family.name + suffix for suffix in ("_bucket", "_sum", "_count"))
        for sample in family.samples:
            names.add(sample.name)
            samples.append((sample.name, dict(sample.labels), sample.value))
    return names, samples


def documented_alerts() -> list[tuple[str, set[str]]]:
    """(PromQL, processes to scrape) for each row of the alerts table in docs/operations.md."""
    doc = (ROOT / "docs" / "operations.md").read_text()
    section = doc.split("## Suggested alerts", 1)[1].split("\n## ", 1)[0]
    alerts = []
    for line in section.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        expression = re.search(r"`(.+?)`", cells[0].replace("\\|", "|"))
        assert expression, line
        alerts.append((expression.group(1), {p.strip() for p in cells[1].split(",")}))
    assert len(alerts) >= 8, "the alerts table was not found"
    return alerts


def metric_names(expression: str) -> set[str]:
    """The learnloop_* metrics a PromQL expression reads."""
    return set(re.findall(r"\blearnloop_[a-z_]+", expression))


def selectors(expression: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """`metric{label=~"re", label="v"}` selectors in an expression, with their matchers."""
    found = []
    for name, body in re.findall(r"(learnloop_[a-z_]+)\{([^}]*)\}", expression):
        matchers = re.findall(r'(\w+)\s*(=~|=)\s*"([^"]*)"', body)
        found.append((name, matchers))
    return found


def matches(samples: list[Sample], name: str, matchers: list[tuple[str, str, str]]) -> bool:
    """Whether some sample with a positive value satisfies the selector."""
    for sample_name, labels, value in samples:
        if sample_name != name or value <= 0:
            continue
        if all(
            re.fullmatch(want, labels.get(label, "")) if op == "=~" else labels.get(label) == want
            for label, op, want in matchers
        ):
            return True
    return False


# ---------------------------------------------------------------------- the heartbeat


class FakeTime:
    """Wall-clock seconds the test moves."""

    def __init__(self) -> None:
        self.now = 1_796_313_600.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def heartbeat() -> Iterator[tuple[WorkerStatus, FakeTime, str]]:
    clock = FakeTime()
    status = WorkerStatus(tick_seconds=60, clock=clock)
    server = serve_worker_http(Metrics(), status, "127.0.0.1", 0)
    yield status, clock, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_healthz_turns_503_when_the_scheduler_stops_ticking(
    heartbeat: tuple[WorkerStatus, FakeTime, str],
) -> None:
    status, clock, url = heartbeat
    assert httpx.get(url + "/healthz").status_code == 200  # just started
    status.tick_started()
    status.tick_finished(leading=True)
    clock.now += 170
    ok = httpx.get(url + "/healthz")
    assert ok.status_code == 200
    assert ok.json()["seconds_since_tick"] == 170 and ok.json()["leader"] is True
    clock.now += 20  # 190 s: three minute-ticks missed
    stale = httpx.get(url + "/healthz")
    assert stale.status_code == 503 and stale.json()["status"] == "stale"


def test_a_long_tick_is_alive_until_it_looks_stuck(
    heartbeat: tuple[WorkerStatus, FakeTime, str],
) -> None:
    status, clock, url = heartbeat
    status.tick_started()  # a fan-out to thousands at Slack's pace
    clock.now += 60 * 60
    assert httpx.get(url + "/healthz").status_code == 200
    clock.now += 60 * 61
    assert httpx.get(url + "/healthz").status_code == 503
    assert httpx.get(url + "/nothing").status_code == 404


def test_a_failing_job_is_counted_and_the_tick_still_beats(
    heartbeat: tuple[WorkerStatus, FakeTime, str],
) -> None:
    status, clock, url = heartbeat

    class Prompts:
        def run_due(self, now: Any) -> None:
            raise RuntimeError("database went away")

    worker = Worker([Job("prompts.run_due", Prompts().run_due)], NoLock(), status=status)
    assert worker.tick() is True
    names, samples = scrape(httpx.get(url + "/metrics").text)
    assert ("learnloop_worker_job_failures_total", {"job": "prompts.run_due"}, 1.0) in samples
    assert ("learnloop_worker_last_tick_timestamp_seconds", {}, clock.now) in samples
    assert ("learnloop_worker_leader", {}, 1.0) in samples
    assert ("learnloop_worker_ticks_total", {}, 1.0) in samples


# ------------------------------------------------------------- the real worker process


def worker_port(worker: WorkerProcess) -> int:
    found = re.search(r"http://[^:]+:(\d+)/metrics", worker.log())
    return int(found.group(1)) if found else 0


def compose_worker_healthcheck() -> list[str]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    test = compose["services"]["worker"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    return list(test[1:])


def run_healthcheck(argv: list[str], port: int) -> int:
    """Compose's healthcheck command, as the container would run it (python is ours)."""
    assert argv[0] == "python", argv
    env = {"PATH": "/usr/bin:/bin", "WORKER_METRICS_PORT": str(port)}
    return subprocess.run(
        [sys.executable, *argv[1:]], env=env, capture_output=True, timeout=30
    ).returncode


@pytest.fixture
def worker(fake_slack: FakeSlackAPI, database_url: str, tmp_path: Path) -> Iterator[WorkerProcess]:
    """A worker whose sends all fail: the bot token was revoked."""
    fake_slack.set_channel_members(CHANNEL, MEMBERS)
    fake_slack.fail_when("chat.postMessage", lambda params: True, "invalid_auth")
    env = worker_env(database_url, fake_slack.url, write_config(tmp_path, channel_alliance()))
    process = WorkerProcess(tmp_path, env, "metrics").start()
    yield process
    process.stop_quietly()


def test_the_worker_serves_what_the_documented_alerts_need(
    worker: WorkerProcess, fake_slack: FakeSlackAPI, live: Live
) -> None:
    wait_for(lambda: worker_port(worker) > 0, 60, "the worker's metrics port in its log")
    url = f"http://127.0.0.1:{worker_port(worker)}"
    wait_for(
        lambda: 'error="invalid_auth"' in httpx.get(url + "/metrics").text,
        60,
        "the failed sends to be counted",
    )
    worker_names, worker_samples = scrape(httpx.get(url + "/metrics").text)
    health = httpx.get(url + "/healthz")
    assert health.status_code == 200 and health.json()["leader"] is True
    assert run_healthcheck(compose_worker_healthcheck(), worker_port(worker)) == 0

    # The web process, after a request to /slack/events (the latency alert's route).
    live.post(slash_command("/learnloop", text="help"))
    web_names, _ = scrape(live.http.get(live.server.url + "/metrics").text)

    served = {"worker": worker_names, "web": web_names}
    for expression, processes in documented_alerts():
        assert processes <= set(served), (expression, processes)
        for process in processes:
            missing = metric_names(expression) - served[process]
            assert not missing, f"{process} /metrics lacks {missing} used by {expression}"

    # The token alert fires on what the worker counted.
    [token_alert] = [e for e, _ in documented_alerts() if "invalid_auth" in e]
    [(name, matchers)] = selectors(token_alert)
    assert matches(worker_samples, name, matchers), token_alert
    # And the channel alert does not (nothing of the kind happened).
    [channel_alert] = [e for e, _ in documented_alerts() if "not_in_channel" in e]
    [(name, matchers)] = selectors(channel_alert)
    assert not matches(worker_samples, name, matchers)

    for member in MEMBERS:  # counts only
        assert member not in httpx.get(url + "/metrics").text
    assert worker.terminate() == 0
    assert run_healthcheck(compose_worker_healthcheck(), worker_port(worker)) != 0


def test_the_worker_port_in_use_is_one_line_and_exit_2(
    fake_slack: FakeSlackAPI, database_url: str, tmp_path: Path
) -> None:
    env = worker_env(database_url, fake_slack.url, write_config(tmp_path, channel_alliance()))
    with serve_worker_http_busy() as port:
        env["WORKER_METRICS_PORT"] = str(port)
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "worker", "--metrics-host", "127.0.0.1"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: WORKER_METRICS_PORT: cannot listen on 127.0.0.1:{port} "
        "(Address already in use): choose a free port"
    ], result.stderr


class serve_worker_http_busy:  # noqa: N801 - used as a context manager
    """A port something else already listens on."""

    def __enter__(self) -> int:
        self.server = serve_worker_http(Metrics(), WorkerStatus(60), "127.0.0.1", 0)
        return int(self.server.server_port)

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
