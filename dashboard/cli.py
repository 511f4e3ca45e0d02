"""``occupancy dashboard``: serve the dashboard."""

from __future__ import annotations

import logging

import click

from occupancy.clictx import CliContext, pass_ctx
from occupancy.settings import SettingError

logger = logging.getLogger(__name__)

__all__ = ["COMMANDS", "dashboard"]


@click.command("dashboard")
@click.option(
    "--host", help="Address to listen on [setting dashboard_host, default 127.0.0.1]."
)
@click.option("--port", type=int, help="Port [setting dashboard_port, default 8050].")
@click.option(
    "--language",
    type=click.Choice(["en", "nl"]),
    help="Labels in English or Dutch [setting language].",
)
@click.option(
    "--debug",
    is_flag=True,
    help="Dash's dev tools (callback errors with their traces and the callback graph in "
    "the browser; no reloader), served by waitress like every run. Never in production: "
    "it shows stack traces in the browser.",
)
@click.option(
    "--threads",
    type=int,
    default=8,
    show_default=True,
    help="Worker threads of the production server.",
)
@pass_ctx
def dashboard(
    cli: CliContext,
    host: str | None,
    port: int | None,
    language: str | None,
    debug: bool,
    threads: int,
) -> None:
    """Serve the dashboard (production WSGI server: waitress).

    \b
    Examples:
      occupancy dashboard                                  # http://127.0.0.1:8050
      OCCUPANCY_AUTH_USERS='fm:s3cret,ana:pw' occupancy dashboard --host 0.0.0.0
      OCCUPANCY_AUTH_PROXY_HEADER=X-Forwarded-User OCCUPANCY_AUTH_TRUSTED_PROXIES=10.0.0.5 \
        occupancy dashboard --host 0.0.0.0                 # behind a login proxy
      occupancy dashboard --language nl --port 8051
      occupancy dashboard --debug                          # dev tools: development only

    Fails closed: without auth_users or auth_proxy_header (with
    auth_trusted_proxies) it refuses any address but loopback; placeholder
    secrets from .env.example are refused. GET /health needs no login.
    See docs/dashboard.md and docs/deploy.md.
    """
    from api import register as register_api
    from dashboard.app import create_app
    from dashboard.auth import check_exposure

    try:
        settings = cli.settings.replace(language=language) if language else cli.settings
        host = host or settings.dashboard_host
        check_exposure(host, settings)
        app = create_app(settings)
        register_api(app.server, settings)  # /api/v1 beside the pages (docs/api.md)
    except SettingError as exc:
        raise click.ClickException(str(exc)) from exc
    port = port or settings.dashboard_port
    if debug:  # the dev tools only: still waitress, the one way it is served
        app.enable_dev_tools(debug=True, dev_tools_hot_reload=False)
    from dashboard.serve import DashboardServer

    server = DashboardServer(app, host, port, threads=threads)
    mode = " (DEBUG: Dash dev tools, development only)" if debug else ""
    click.echo(f"dashboard{mode} on {server.url} (Ctrl-C stops)", err=True)
    server.serve_forever()


COMMANDS = [dashboard]
