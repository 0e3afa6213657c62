"""What every fake provider server shares: an HTTP handler served on 127.0.0.1 in a daemon thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class Server(ThreadingHTTPServer):
    """The HTTP server; ``fake`` is the object its handler routes requests to."""

    daemon_threads = True
    fake: Any


class LoopbackServer:
    """Start, stop, context manager and base URL of a fake server; subclasses give the handler."""

    handler: type[BaseHTTPRequestHandler]
    thread_name = "fake-server"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = (host, port)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Bind the socket and serve in a daemon thread; returns self."""
        if self._server is None:
            self._before_start()
            self._server = Server(self._address, self.handler)
            self._server.fake = self
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=self.thread_name, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is None:
            return
        self._before_stop()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def _before_start(self) -> None:
        """Reset what a fresh start needs (a hook for subclasses)."""

    def _before_stop(self) -> None:
        """Release anything that waits on the server (a hook for subclasses)."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL such as ``http://127.0.0.1:PORT``."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"
