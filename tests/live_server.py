"""Run an ASGI app with uvicorn on 127.0.0.1 in a background thread, for tests."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

import uvicorn


class LiveServer:
    """A uvicorn server for one ASGI app, bound to 127.0.0.1 (port 0 picks a free port)."""

    def __init__(
        self,
        app: Any,
        port: int = 0,
        *,
        lifespan: str = "on",
        log_level: str = "warning",
        startup_timeout: float = 10.0,
    ) -> None:
        """Prepare (but do not start) a server for ``app``."""
        self.app = app
        self.startup_timeout = startup_timeout
        self.config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level=log_level,
            lifespan=lifespan,
            access_log=False,
        )
        self.server = uvicorn.Server(self.config)
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.server.run()
        except BaseException as exc:  # SystemExit on bind/startup failure included
            self._error = exc

    def start(self) -> LiveServer:
        """Start serving in a daemon thread and wait until the socket is listening."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="LiveServer", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self.server.started:
            if not self._thread.is_alive():
                self._thread = None
                raise RuntimeError(f"uvicorn failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"uvicorn did not start within {self.startup_timeout}s")
            time.sleep(0.01)
        self._port = int(self.server.servers[0].sockets[0].getsockname()[1])
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask uvicorn to exit (running the lifespan shutdown) and join its thread."""
        thread = self._thread
        if thread is None:
            return
        self.server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            self.server.force_exit = True
            thread.join(timeout)
        self._thread = None

    @property
    def port(self) -> int:
        """Return the bound port (the server must be started)."""
        if self._port is None:
            raise RuntimeError("LiveServer is not started")
        return self._port

    @property
    def url(self) -> str:
        """Return ``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
