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
        """Stop accepting connections and stop the worker threads."""
        self._server.close()
        self._server.task_dispatcher.shutdown()
