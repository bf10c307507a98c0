"""`learnloop serve` with several worker processes: how many, and what each one builds.

Bolt's `App` is synchronous and one Python process runs on one core at a time, so a burst of
Slack requests is served by as many processes as there are cores (measured in BENCHMARKS.md).
uvicorn's supervisor shares the listening socket between them and restarts one that dies.
Everything a worker holds in memory is either per process by design (the WebClient, the
authorize cache, caches of what the alliance file decides) or kept in the database (OAuth
state, check-ins, the prompt ledger), so any worker can answer any request.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from bot.settings import Settings, load_settings

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def cpu_quota(path: Path = CGROUP_CPU_MAX) -> int | None:
    """Whole cores a container's CPU quota allows (cgroup v2 `cpu.max`), or None if unlimited."""
    try:
        quota, period = path.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return max(1, math.ceil(int(quota) / int(period)))
    except (ValueError, ZeroDivisionError):
        return None


def default_workers() -> int:
    """One worker per CPU core this process may use (a container's CPU quota included)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    # A container limited to 2 CPUs on a 64-core host still sees 64 cores.
    quota = cpu_quota()
    return max(1, min(cores, quota) if quota else cores)


def worker_count(option: int | None, settings: Settings) -> int:
    """--workers, else WEB_CONCURRENCY, else one per core."""
    return option or settings.web_concurrency or default_workers()


def settle_heap() -> None:
    """Keep what start-up built out of the garbage collector's full passes.

    The app, its services and their tables live as long as the process; without this, each
    full pass walks them all (about 250 ms on the board bench's process, landing on whichever
    request is running: the themes page's p99). Python's `gc.freeze` is made for this.
    """
    gc.collect()
    gc.freeze()


def worker_app() -> FastAPI:
    """The web app of one worker process (uvicorn calls this in each worker it starts)."""
    from bot.app import build
    from bot.logs import configure_logging
    from bot.web.routes import create_web_app

    # A worker reads the same environment and .env as the `serve` that started it.
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format, sys.stderr)
    # As `serve` does for one process: LearnLoop writes the access line (the route, never the
    # raw path, whose query can carry an OAuth code), so uvicorn's own is switched off. The
    # worker's uvicorn config arrives pickled and does not do this again.
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
    loop = build(settings, with_slack=settings.slack_enabled, set_up=False)
    from bot.reload import watch

    # Each worker reloads the alliance file on its own SIGHUP and on `learnloop reload`.
    watch(loop)
    app = create_web_app(loop)
    settle_heap()
    return app


def forward_reload(settings: Settings, pids: list[int | None]) -> int:
    """SIGHUP to `serve`: validate the alliance file once, then pass the signal to each worker.

    A broken file is named in one log line here and reaches no worker, so every worker keeps
    serving the file it has. Returns how many workers were signalled.
    """
    import signal

    from bot.alliance import load_alliance
    from bot.settings import ConfigError

    log = logging.getLogger("learnloop")
    path = settings.learnloop_config
    try:
        load_alliance(path)
    except ConfigError as exc:
        count = len(exc.problems)
        log.error(
            "alliance file %s not reloaded, the workers keep the one they serve: %d problem%s: %s",
            path,
            count,
            "" if count == 1 else "s",
            "; ".join(exc.problems),
        )
        return 0
    signalled = 0
    for pid in pids:
        if pid is None:
            continue
        try:
            os.kill(pid, signal.SIGHUP)
            signalled += 1
        except ProcessLookupError:
            pass  # a worker that just exited; its replacement reads the file as it starts
    log.info("asked %d web workers to reload the alliance file %s", signalled, path)
    return signalled


def run_workers(settings: Settings, count: int, options: dict[str, Any]) -> None:
    """uvicorn's supervisor over `count` workers, where SIGHUP reloads instead of restarting.

    uvicorn's own SIGHUP restarts every worker, and a worker that starts on a broken alliance
    file cannot start at all; LearnLoop's validates the file first and forwards the signal.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    class Supervisor(Multiprocess):
        def handle_hup(self) -> None:
            forward_reload(settings, [process.pid for process in self.processes])

    config = uvicorn.Config("bot.serve:worker_app", factory=True, workers=count, **options)
    Supervisor(config, sockets=[config.bind_socket()]).run()
