"""A TCP proxy on 127.0.0.1 that a test can cut and mend, to take a real server "down".

Pointing the app's DATABASE_URL at the proxy instead of PostgreSQL lets a test stop the app
reaching its database mid-run exactly as an outage would: open connections drop, new ones are
refused, and PostgreSQL itself keeps running for the test's own checks.

This module does not depend on pytest.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class TcpProxy:
    """Forwards each connection to `upstream`; `cut()` drops them all and refuses new ones."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._down = False
        self.refused = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        """The local port to connect to."""
        return int(self._listener.getsockname()[1])

    def start(self) -> TcpProxy:
        """Start accepting connections."""
        self._thread.start()
        return self

    def cut(self) -> None:
        """The outage: every open connection is dropped, new ones are closed at once."""
        with self._lock:
            self._down = True
            doomed, self._open = self._open, []
        for sock in doomed:
            _close(sock)

    def mend(self) -> None:
        """The database is back: new connections are forwarded again."""
        with self._lock:
            self._down = False

    def close(self) -> None:
        """Stop the proxy."""
        self.cut()
        _close(self._listener)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed
            with self._lock:
                down = self._down
                if down:
                    self.refused += 1
            if down:
                _close(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._open.extend((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(source, target), daemon=True).start()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        _close(source)
        _close(target)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
