"""Reloading the alliance file without a restart: SIGHUP, and `learnloop reload`.

Two ways in, one way through:

- **SIGHUP** to a process (a web worker, `learnloop worker`, `learnloop socket`) wakes its
  watcher thread, which reloads the file at once. The signal handler only sets an event: the
  reload (reading, validating, storing) runs on the watcher's thread, never inside the handler.
- **`learnloop reload`** validates the file, stores its agencies, then bumps a counter in the
  database (`config_reloads`). Every process's watcher polls that counter every
  `RELOAD_POLL_SECONDS` and reloads when it moves, so it reaches every web worker of
  `serve --workers N` and every host of a deployment, which no single signal can.

Either way `bot.app.reload_alliance` validates the file first and keeps the old one, with one
log line naming every problem, when the new one is broken.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING

from bot.domain.errors import StorageUnavailable

if TYPE_CHECKING:
    from bot.app import LearnLoop

log = logging.getLogger("learnloop")

RELOAD_POLL_SECONDS = 10.0


class ConfigWatcher:
    """One per process: reloads the alliance file on SIGHUP or when `learnloop reload` asks."""

    def __init__(self, loop: LearnLoop, poll_seconds: float = RELOAD_POLL_SECONDS) -> None:
        self.loop = loop
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._generation = self._read_generation()
        self.reloads = 0  # passes that read the file (tests and /metrics-minded operators)

    def _read_generation(self) -> int | None:
        try:
            with self.loop.services.uow() as uow:
                return uow.onboarding.reload_generation()
        except StorageUnavailable:
            return None

    def poke(self) -> None:
        """Reload soon, on the watcher's thread (what SIGHUP does; safe in a signal handler)."""
        self._wake.set()

    def check(self) -> bool:
        """One pass: reload if poked or if the database's counter moved. True if reloaded."""
        from bot.app import reload_alliance

        poked = self._wake.is_set()
        self._wake.clear()
        generation = self._read_generation()
        asked = generation is not None and generation != self._generation
        if generation is not None:
            self._generation = generation
        if not (poked or asked):
            return False
        self.reloads += 1
        try:
            return reload_alliance(self.loop)
        except Exception:  # the process must keep serving the file it has
            log.exception("reloading the alliance file failed; still serving the old one")
            return False

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_seconds)
            if self._stop.is_set():
                break
            self.check()

    def start(self) -> ConfigWatcher:
        """Start polling on a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="learnloop-reload", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling (the thread ends within a moment)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def install_sighup(self) -> None:
        """Make SIGHUP reload the file (only from the main thread, where Python takes signals)."""
        if threading.current_thread() is not threading.main_thread():
            return

        def on_sighup(_signum: int, _frame: FrameType | None) -> None:
            self.poke()

        signal.signal(signal.SIGHUP, on_sighup)


def watch(loop: LearnLoop, poll_seconds: float = RELOAD_POLL_SECONDS) -> ConfigWatcher:
    """Start reloading `loop`'s alliance file on SIGHUP and `learnloop reload`."""
    watcher = ConfigWatcher(loop, poll_seconds)
    watcher.install_sighup()
    return watcher.start()
