"""Readiness answers that never hold a probe: Slack's `auth.test`, cached and bounded in time.

Load balancers and orchestrators probe `/readyz` every few seconds, with a timeout of their
own. Calling Slack on every probe, with the Web API client's retries, held a probe for 3 s
when Slack was unreachable and up to ~30 s when it was slow. Here one background call at a
time asks Slack, with a short timeout and no retries; its answer is reused for `fresh_for`
seconds, and a probe waits at most `wait` seconds before it reports the last answer (if it is
no older than `stale_for`) or that Slack did not answer in time.
"""

from __future__ import annotations

import threading
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

# Long enough that a probe every few seconds costs Slack one call a minute or two; short
# enough that a revoked token takes a process out of service quickly.
FRESH_FOR_SECONDS = 30.0
# Orchestrators' probe timeouts are often 1–2 s: answer inside that.
WAIT_SECONDS = 1.5
# A last answer older than this says nothing about Slack now.
STALE_FOR_SECONDS = 300.0
# auth.test's own timeout: a background call never lingers much past a probe.
CALL_TIMEOUT_SECONDS = 2


@dataclass(frozen=True)
class SlackAnswer:
    """What Slack last said about the bot token ("ok" or an error) and how long ago."""

    status: str
    age_seconds: float | None  # None: no answer yet
    stale: bool = False


def auth_test_call(token: str, api_url: str) -> Callable[[], str]:
    """One `auth.test` with a short timeout and no retries: "ok" or what went wrong."""
    client = WebClient(
        token=token, base_url=api_url, timeout=CALL_TIMEOUT_SECONDS, retry_handlers=[]
    )

    def call() -> str:
        try:
            client.auth_test()
        except SlackApiError as exc:
            return str(exc.response.get("error") or f"http_{exc.response.status_code}")
        except TimeoutError:
            return "timeout"
        except urllib.error.URLError as exc:
            return "timeout" if isinstance(exc.reason, TimeoutError) else "unreachable"
        except Exception as exc:  # noqa: BLE001 - a probe reports, it never crashes
            return exc.__class__.__name__
        return "ok"

    return call


class SlackReadiness:
    """Slack's answer for /readyz: cached, asked in the background, never waited on for long."""

    def __init__(
        self,
        call: Callable[[], str],
        fresh_for: float = FRESH_FOR_SECONDS,
        wait: float = WAIT_SECONDS,
        stale_for: float = STALE_FOR_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._call = call
        self.fresh_for = fresh_for
        self.wait = wait
        self.stale_for = stale_for
        self._clock = clock
        self._lock = threading.Lock()
        self._status: str | None = None
        self._at = 0.0
        self._asking: threading.Event | None = None

    def _fresh(self) -> SlackAnswer | None:
        if self._status is None:
            return None
        age = self._clock() - self._at
        return SlackAnswer(self._status, age) if age < self.fresh_for else None

    def _ask(self, done: threading.Event) -> None:
        status = "error"
        try:
            status = self._call()
        finally:
            with self._lock:
                self._status, self._at = status, self._clock()
                self._asking = None
            done.set()

    def answer(self) -> SlackAnswer:
        """Slack's answer, asking again in the background when the last one is not fresh."""
        with self._lock:
            fresh = self._fresh()
            if fresh is not None:
                return fresh
            done = self._asking
            if done is None:
                # Only one call in flight however many probes arrive while Slack is slow.
                done = self._asking = threading.Event()
                threading.Thread(
                    target=self._ask, args=(done,), name="readyz-slack", daemon=True
                ).start()
        done.wait(self.wait)
        with self._lock:
            fresh = self._fresh()
            if fresh is not None:
                return fresh
            if self._status is not None:
                age = self._clock() - self._at
                if age < self.stale_for:
                    return SlackAnswer(self._status, age, stale=True)
            return SlackAnswer("no answer yet", None)
