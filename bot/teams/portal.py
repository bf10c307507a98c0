"""A private event loop in a daemon thread, so synchronous code can await the async Teams SDK.

Services and the Messenger port are synchronous (SQLAlchemy sessions, the Slack WebClient); the
Teams SDK is asyncio. Every proactive call goes through one long-lived loop, so the SDK's HTTP
client and token cache stay bound to that loop instead of being rebuilt per call.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT_SECONDS = 30.0


class AsyncPortal:
    """Runs coroutines on a background loop and waits for their results."""

    def __init__(self, name: str = "learnloop-teams") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure_started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = DEFAULT_TIMEOUT_SECONDS) -> T:
        """Run `coro` on the portal's loop and return its result (its exception is re-raised)."""
        loop = self._ensure_started()
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("AsyncPortal.run called from its own loop: await the coroutine")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    def close(self) -> None:
        """Stop the loop and its thread (safe to call twice)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
