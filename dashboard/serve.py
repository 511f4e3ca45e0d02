"""The one way the dashboard is served: waitress (production WSGI server), for
``occupancy dashboard`` and ``occupancy demo`` alike."""

from __future__ import annotations

import logging
import threading
from typing import Any

import dash
from waitress.server import create_server

logger = logging.getLogger(__name__)

__all__ = ["DashboardServer"]


class DashboardServer:
    """``app`` served by waitress on ``host``:``port`` with ``threads`` workers
    (port 0: a free one)."""

    def __init__(self, app: dash.Dash, host: str, port: int, *, threads: int = 8):
        self._server: Any = create_server(
            app.server,
            host=host,
            port=port,
            threads=threads,
            ident="occupancy-dashboard",
        )
        self.host = host
        self.port = int(self._server.effective_port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def serve_forever(self) -> None:
        """Serve until interrupted (Ctrl-C)."""
        self._server.run()

    def start(self) -> None:
        """Serve in a background thread (stopped by :meth:`close` or at exit)."""
        self._thread = threading.Thread(
            target=self._server.run, name="dashboard-server", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop accepting connections and stop the worker threads. While the
        background thread serves, the listening socket is closed on that
        thread (through waitress's trigger): closed from here, the loop could
        still select on its descriptor, already closed or reused by a new
        socket, and accept a connection it then resets."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            closed = threading.Event()

            def close_in_loop() -> None:
                try:
                    self._server.close()
                finally:
                    closed.set()

            self._server.trigger.pull_trigger(close_in_loop)
            if not closed.wait(10):
                self._server.close()
        else:
            self._server.close()
        self._server.task_dispatcher.shutdown()
