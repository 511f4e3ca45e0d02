"""The JSON API (``/api/v1``): sites, spaces, live state and every report of
``occupancy export``, with token authentication; see docs/api.md.

``register(server, settings)`` mounts it on the dashboard's Flask server;
``create_api(settings)`` builds it as a WSGI app of its own.
"""

from __future__ import annotations

from api.app import create_api, register

__all__ = ["create_api", "register"]
