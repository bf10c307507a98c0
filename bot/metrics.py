"""Metrics (Prometheus) for one LearnLoop process: counts only, never names or text.

Each LearnLoop gets its own registry (no module-level state), so tests and several apps in one
process don't share counters. Totals that live in the database (prompts by status, check-ins,
digests, escalations by status) are read at scrape time, so every web process reports the
same truth however many there are.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlalchemy import Engine, text

from bot.domain.suppression import shown_only

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class DatabaseCounts(Collector):
    """Gauges read from the database at scrape time."""

    QUERIES = {
        "learnloop_prompts": (
            "Prompts in the delivery ledger, by status.",
            "SELECT status, count(*) FROM prompts GROUP BY status",
        ),
        "learnloop_checkins": (
            "Check-ins stored, by source.",
            "SELECT source, count(*) FROM checkins GROUP BY source",
        ),
        "learnloop_digests": (
            "Digests, by status.",
            "SELECT status, count(*) FROM digests GROUP BY status",
        ),
        "learnloop_escalations": (
            "Escalations (barriers), by status.",
            "SELECT status, count(*) FROM escalations GROUP BY status",
        ),
    }
    LABELS = {
        "learnloop_prompts": "status",
        "learnloop_checkins": "source",
        "learnloop_digests": "status",
        "learnloop_escalations": "status",
    }

    # Counts about people's participation; they pass the suppression rule. Digests and
    # barriers are the alliance's own records and stay exact for operators.
    SUPPRESSED = frozenset({"learnloop_prompts", "learnloop_checkins"})

    def __init__(self, engine: Engine, suppress_below: int = 1) -> None:
        self.engine = engine
        self.suppress_below = suppress_below

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One gauge family per table, labelled by status or source."""
        try:
            with self.engine.connect() as conn:
                rows = {
                    name: list(conn.execute(text(sql))) for name, (_, sql) in self.QUERIES.items()
                }
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database did
            log.warning("metrics: database counts unavailable")
            up = GaugeMetricFamily("learnloop_database_up", "1 if the database answered.")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("learnloop_database_up", "1 if the database answered.")
        up.add_metric([], 1)
        yield up
        threshold = GaugeMetricFamily(
            "learnloop_suppress_below",
            "Counts of prompts and check-ins under this are left out (fewer than N).",
        )
        threshold.add_metric([], float(self.suppress_below))
        yield threshold
        for name, (doc, _) in self.QUERIES.items():
            family = GaugeMetricFamily(name, doc, labels=[self.LABELS[name]])
            pairs = [(str(label), int(count)) for label, count in rows[name]]
            if name in self.SUPPRESSED:
                # A series is a number with no words: under the threshold it is left out.
                pairs = shown_only(pairs, self.suppress_below)
            for label, count in pairs:
                family.add_metric([label], float(count))
            yield family


class Metrics:
    """The metrics of one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.slack_errors = Counter(
            "learnloop_slack_api_errors",
            "Slack Web API calls that failed after retries, by method and error code.",
            ["method", "error"],
            registry=self.registry,
        )
        self.slack_retries = Counter(
            "learnloop_slack_api_retries",
            "Slack Web API calls retried, by method and reason (ratelimited, server_error, "
            "connection).",
            ["method", "reason"],
            registry=self.registry,
        )
        self.slack_refused = Counter(
            "learnloop_slack_foreign_requests",
            "Signed Slack requests refused as another workspace's or app's (or, in OAuth mode,"
            " a workspace with no installation), by reason and kind of request.",
            ["reason", "kind"],
            registry=self.registry,
        )
        self.emails = Counter(
            "learnloop_emails",
            "E-mails by result: sent, retry (a temporary failure after the quick tries) or "
            "failed (refused for good, an SMTP 5xx).",
            ["result"],
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "learnloop_http_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0),
            registry=self.registry,
        )

    def watch_database(self, engine: Engine, suppress_below: int = 1) -> None:
        """Report database-held totals at scrape time, people's counts suppressed when small."""
        self.registry.register(DatabaseCounts(engine, suppress_below))

    def render(self) -> bytes:
        """The exposition text for GET /metrics."""
        return generate_latest(self.registry)


class CountingRetryHandler(RetryHandler):
    """Counts retries that the real handlers decide to make; never retries by itself."""

    def __init__(self, metrics: Metrics, inner: RetryHandler, reason: str) -> None:
        super().__init__(
            max_retry_count=inner.max_retry_count, interval_calculator=inner.interval_calculator
        )
        self.metrics = metrics
        self.inner = inner
        self.reason = reason

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return self.inner._can_retry(  # noqa: SLF001 - delegating the decision is the point
            state=state, request=request, response=response, error=error
        )

    def prepare_for_next_attempt(self, **kwargs: Any) -> None:
        """Count the retry, then wait as the wrapped handler would (Retry-After for 429)."""
        method = kwargs["request"].url.rsplit("/", 1)[-1]
        self.metrics.slack_retries.labels(method=method, reason=self.reason).inc()
        self.inner.prepare_for_next_attempt(**kwargs)
