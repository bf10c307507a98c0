"""The worker's own HTTP port: `/metrics` (Prometheus, counts only) and a heartbeat.

The worker sends the prompts, reminders and digests, so the Slack errors that the documented
alerts watch happen in its process, not in the web process. It serves them on its own port
(`WORKER_METRICS_PORT`), with gauges of its ticks, and `/healthz`: 200 while the scheduler
ticks, 503 once the last tick is stale — what a container healthcheck or a liveness probe asks.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)

# A scheduler that has not finished a tick for this long (and is not in one) has stopped.
MIN_STALE_SECONDS = 180.0
# One tick can run long (a fan-out to thousands at Slack's pace); longer than this, it is stuck.
STUCK_AFTER_SECONDS = 2 * 60 * 60.0


class WorkerStatus:
    """When the worker's scheduler last ticked, whether it leads, and which jobs failed."""

    def __init__(self, tick_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.stale_after = max(3.0 * tick_seconds, MIN_STALE_SECONDS)
        self.stuck_after = STUCK_AFTER_SECONDS
        self._lock = threading.Lock()
        self.started_at = clock()
        self.last_tick: float | None = None  # when the last tick finished
        self.running_since: float | None = None
        self.ticks = 0
        self.leading = False
        self.job_failures: dict[str, int] = {}

    def tick_started(self) -> None:
        """A tick begins."""
        with self._lock:
            self.running_since = self.clock()

    def tick_finished(self, leading: bool) -> None:
        """A tick ended (whether or not this worker led and ran the jobs)."""
        with self._lock:
            self.last_tick = self.clock()
            self.running_since = None
            self.ticks += 1
            self.leading = leading

    def leadership(self, leading: bool) -> None:
        """Whether this worker holds the leader lock, as soon as it knows (a first tick that
        sends a whole cycle can run for minutes before it finishes)."""
        with self._lock:
            self.leading = leading

    def job_failed(self, job: str) -> None:
        """A scheduled job raised (the others still ran)."""
        with self._lock:
            self.job_failures[job] = self.job_failures.get(job, 0) + 1

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether the scheduler is alive, and what says so (times in seconds)."""
        with self._lock:
            now = self.clock()
            since = None if self.last_tick is None else round(now - self.last_tick, 1)
            body: dict[str, Any] = {
                "last_tick": self.last_tick,
                "seconds_since_tick": since,
                "tick_running_seconds": None
                if self.running_since is None
                else round(now - self.running_since, 1),
                "leader": self.leading,
                "stale_after_seconds": self.stale_after,
            }
            if self.running_since is not None:
                ok = now - self.running_since < self.stuck_after
            else:
                reference = self.last_tick if self.last_tick is not None else self.started_at
                ok = now - reference <= self.stale_after
        body["status"] = "ok" if ok else "stale"
        return ok, body


class WorkerCollector(Collector):
    """The worker's heartbeat as metrics."""

    def __init__(self, status: WorkerStatus) -> None:
        self.status = status

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        """Last tick time, ticks, leadership and job failures (counts only)."""
        status = self.status
        with status._lock:  # noqa: SLF001 - a consistent snapshot of one object we own
            last, ticks, leading = status.last_tick, status.ticks, status.leading
            failures = dict(status.job_failures)
        last_tick = GaugeMetricFamily(
            "learnloop_worker_last_tick_timestamp_seconds",
            "Unix time the worker's scheduler last finished a tick (0 before the first).",
        )
        last_tick.add_metric([], last or 0.0)
        yield last_tick
        total = CounterMetricFamily("learnloop_worker_ticks", "Scheduler ticks finished.")
        total.add_metric([], float(ticks))
        yield total
        leader = GaugeMetricFamily(
            "learnloop_worker_leader",
            "1 if this worker holds the leader lock and runs the once-only jobs.",
        )
        leader.add_metric([], 1.0 if leading else 0.0)
        yield leader
        failed = CounterMetricFamily(
            "learnloop_worker_job_failures", "Scheduled jobs that raised, by job.", labels=["job"]
        )
        for job, count in sorted(failures.items()):
            failed.add_metric([job], float(count))
        yield failed


def serve_worker_http(
    metrics: Metrics, status: WorkerStatus, host: str, port: int
) -> ThreadingHTTPServer:
    """Serve /metrics and /healthz in a daemon thread; the server (its port: server_port)."""
    metrics.registry.register(WorkerCollector(status))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, metrics.render(), CONTENT_TYPE)
            elif path == "/healthz":
                ok, body = status.health()
                self._send(200 if ok else 503, json.dumps(body).encode(), "application/json")
            else:
                self._send(404, b'{"error": "not found"}', "application/json")

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
            # Probes and scrapes every few seconds: not worth a log line each.
            log.debug("worker http: " + format, *args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="worker-http", daemon=True).start()
    return server
