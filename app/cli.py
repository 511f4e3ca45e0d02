"""The ``occupancy`` command: one click group for the whole pipeline.

This is the top (application) layer: foundation commands live here; each
package contributes its own through the ``COMMANDS`` list of its ``cli.py``
(``sensors_sim.cli``, ``ingest.cli``, ``analytics.cli``, ``dashboard.cli``),
where its domain errors become click errors, listed once in :data:`PLUGINS`.
Nothing below this layer imports it (``.importlinter``).
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from app.services import MosquittoServer, PostgresServer
from occupancy.clictx import CliContext, pass_ctx
from occupancy.db import Connection
from occupancy.plans.cli import building_import as _building_import

if TYPE_CHECKING:
    from occupancy.building import Site

logger = logging.getLogger(__name__)

__all__ = ["CliContext", "configure_logging", "main", "pass_ctx"]

#: The commands each package contributes, one line per package (a new package:
#: add the module holding them and the name of its list, ``COMMANDS``, here).
#: Imported when a command is looked up, not before (see :class:`_PluginGroup`).
PLUGINS: tuple[tuple[str, str], ...] = (
    ("sensors_sim.cli", "COMMANDS"),
    ("ingest.cli", "COMMANDS"),
    ("analytics.cli", "COMMANDS"),
    ("dashboard.cli", "COMMANDS"),
    ("api.cli", "COMMANDS"),
    ("notify.cli", "COMMANDS"),
    ("app.demo_cli", "demo"),
)

#: Commands run often, in a module that imports only what they need: looked
#: up there alone (``occupancy analyze`` imports no dashboard, planner or
#: simulator). Each is also in its package's list above (tests/occupancy/
#: test_cli_plugins.py checks both name the same command).
FAST_COMMANDS: dict[str, tuple[str, str]] = {
    "analyze": ("analytics.analyze_cli", "COMMANDS"),
}


def plugin_commands(module: str, attr: str) -> list[click.Command]:
    """The commands of one :data:`PLUGINS` entry."""
    found = getattr(importlib.import_module(module), attr)
    return list(found) if isinstance(found, Sequence) else [found]


class _PluginGroup(click.Group):
    """The command group; the packages' commands are imported on lookup (a
    fast command's module alone, else every package's), so one command does
    not pay for importing all the others."""

    _loaded = False

    def _load_plugins(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module, attr in PLUGINS:
                for cmd in plugin_commands(module, attr):
                    self.add_command(cmd)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in FAST_COMMANDS:
            for cmd in plugin_commands(*FAST_COMMANDS[cmd_name]):
                self.add_command(cmd)
        if cmd_name not in self.commands:
            self._load_plugins()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return super().list_commands(ctx)


def configure_logging(verbose: int, quiet: bool) -> None:
    level = (
        logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    )
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )


@click.group(
    cls=_PluginGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--database-url", metavar="URL", help="PostgreSQL URL [env OCCUPANCY_DATABASE_URL]."
)
@click.option(
    "--mqtt-url",
    metavar="URL",
    help="mqtt://user:pass@host:port [env OCCUPANCY_MQTT_URL].",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Dev services' data [./.occupancy].",
)
@click.option("--site", help="Site id [env OCCUPANCY_SITE, default hq].")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.version_option(package_name="workplace-occupancy")
@click.pass_context
def main(
    ctx: click.Context,
    database_url: str | None,
    mqtt_url: str | None,
    data_dir: Path | None,
    site: str | None,
    verbose: int,
    quiet: bool,
) -> None:
    """workplace-occupancy: how people use the building, and where departments meet.

    \b
    Typical first run (development, everything on this machine):
      occupancy services start          # private Mosquitto + PostgreSQL/TimescaleDB
      occupancy db migrate              # create or upgrade the schema
      occupancy building load examples/office.yaml
      occupancy demo                    # simulate a week, ingest, analyze, serve
    Every option can also be set in the environment (OCCUPANCY_<NAME>);
    `occupancy settings` lists them all with their current values.
    """
    configure_logging(verbose, quiet)
    overrides = {
        "database_url": database_url,
        "mqtt_url": mqtt_url,
        "data_dir": data_dir,
        "site": site,
    }
    ctx.obj = CliContext({k: v for k, v in overrides.items() if v is not None})


# --------------------------------------------------------------------- settings
@main.command("settings")
@click.option("--names", is_flag=True, help="Only the names, one per line.")
@pass_ctx
def settings_cmd(cli: CliContext, names: bool) -> None:
    """Print every setting, its current value (secrets masked), where the value
    comes from (argument, environment or default) and what it does."""
    from occupancy.settings import SETTINGS

    if names:
        for spec in SETTINGS:
            click.echo(spec.name)
        return
    for name, shown, source, help_text in cli.settings.describe():
        env = "OCCUPANCY_" + name.upper()
        click.echo(f"{name} = {shown}    [{source}; {env}]")
        click.echo(f"    {help_text}")


# --------------------------------------------------------------------- db
@main.group("db")
def db_group() -> None:
    """Database schema: migrate, status."""


def _connect(cli: CliContext) -> Connection:
    return cli.connect()


def _connect_waiting(cli: CliContext, wait_s: float) -> Connection:
    """:func:`_connect`, retried for up to ``wait_s`` seconds."""
    import time

    deadline = time.monotonic() + wait_s
    while True:
        try:
            return cli.connect()
        except click.ClickException as exc:
            if time.monotonic() >= deadline:
                raise
            logger.info("database not ready, retrying: %s", exc.message.splitlines()[0])
            time.sleep(1.0)


@db_group.command("migrate")
@click.option(
    "--no-timescaledb",
    is_flag=True,
    help="Plain PostgreSQL tables even if TimescaleDB is there.",
)
@click.option(
    "--wait",
    "wait_s",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds to keep retrying while the database does not accept connections "
    "yet (a container starting beside it).",
)
@pass_ctx
def db_migrate(cli: CliContext, no_timescaledb: bool, wait_s: float) -> None:
    """Apply the schema migrations not yet applied (idempotent), then the
    service roles' grants (occupancy/grants.py) and, for each role whose
    *_db_password setting is set, its login password."""
    from occupancy.db import has_timescaledb, migrate
    from occupancy.grants import ROLES, set_role_passwords

    conn = _connect_waiting(cli, wait_s)
    try:
        applied = migrate(conn, use_timescaledb=False if no_timescaledb else None)
        for m in applied:
            click.echo(f"applied {m.version:04d}_{m.name}")
        passwords = {r: getattr(cli.settings, s, None) for r, s in ROLES.items()}
        for role in set_role_passwords(conn, passwords):
            click.echo(f"role {role}: login enabled")
        from occupancy.retention import apply_policies

        for line in apply_policies(conn, cli.settings.retention_days):
            click.echo(f"policy {line}")
        ts = (
            "with TimescaleDB"
            if has_timescaledb(conn)
            else "plain PostgreSQL (no hypertables)"
        )
        click.echo(f"schema up to date ({len(applied)} applied now; {ts})")
    finally:
        conn.close()


@db_group.command("status")
@pass_ctx
def db_status(cli: CliContext) -> None:
    """Show applied and pending migrations and the size of the raw tables."""
    from occupancy.db import applied_migrations, has_timescaledb, list_migrations

    conn = _connect(cli)
    try:
        done = set(applied_migrations(conn))
        for m in list_migrations():
            click.echo(
                f"{'applied' if m.version in done else 'PENDING'}  {m.version:04d}_{m.name}"
            )
        click.echo(f"timescaledb: {'yes' if has_timescaledb(conn) else 'no'}")
        if done:
            with conn.cursor() as cur:
                for table in ("sensor_events", "badge_sightings", "rejected_messages"):
                    cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608  fixed names
                    row = cur.fetchone()
                    click.echo(f"{table}: {row[0] if row else 0} rows")
    finally:
        conn.close()


@db_group.command("retention")
@click.option(
    "--days",
    type=int,
    help="Keep this many days of raw events [setting retention_days].",
)
@click.option(
    "--rejected-max-rows",
    type=int,
    default=100_000,
    show_default=True,
    help="Keep at most this many rejected messages.",
)
@pass_ctx
def db_retention(cli: CliContext, days: int | None, rejected_max_rows: int) -> None:
    """Delete raw events (desk, room, zone events and badge sightings) older than
    the retention period; rollups are kept. Run it daily (cron, or the compose
    `analytics` service). Example: occupancy db retention --days 90"""
    from occupancy.retention import apply_retention

    conn = _connect(cli)
    try:
        report = apply_retention(
            conn,
            days or cli.settings.retention_days,
            rejected_max_rows=rejected_max_rows,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        conn.close()
    click.echo(str(report))


# --------------------------------------------------------------------- building
@main.group("building")
def building_group() -> None:
    """The building model: validate and load a site's YAML description."""


@building_group.command("validate")
@click.argument("file", type=click.Path(path_type=Path))
def building_validate(file: Path) -> None:
    """Check FILE and print what it describes (no database needed)."""
    site = _load_building_or_fail(file)
    click.echo(_describe_site(site))


def _load_building_or_fail(file: Path) -> Site:
    from occupancy.building import BuildingError, load_building

    try:
        return load_building(file)
    except BuildingError as exc:
        raise click.ClickException(f"invalid building file {exc}") from exc


def _describe_site(site: Site) -> str:
    return (
        f"site {site.id} ({site.name}, {site.timezone}): {len(site.buildings)} building(s), "
        f"{len(list(site.floors()))} floors, {len(list(site.zones()))} zones, "
        f"{len(list(site.desks()))} desks, {len(list(site.rooms()))} rooms, "
        f"{len(site.departments)} departments, {len(site.devices)} devices"
    )


@building_group.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@pass_ctx
def building_load(cli: CliContext, file: Path) -> None:
    """Validate FILE and load it into the metadata tables (insert or update)."""
    from occupancy.metadata import load_site

    site = _load_building_or_fail(file)
    conn = _connect(cli)
    try:
        report = load_site(conn, site)
    finally:
        conn.close()
    click.echo(f"loaded {report}")


building_group.add_command(_building_import)


# --------------------------------------------------------------------- people
@main.group("people")
def people_group() -> None:
    """People and departments from HR (membership with history)."""


@people_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--replace", is_flag=True, help="Forget every membership not in FILE first."
)
@pass_ctx
def people_import(cli: CliContext, file: Path, replace: bool) -> None:
    """Import FILE.csv with columns badge_id,department,valid_from,valid_to
    (dates YYYY-MM-DD, both included; empty valid_to = still a member). A
    badge's history in the file replaces what was stored for it, so a
    reorganisation is one more row, and last year's co-location keeps the
    departments people had then. Badge ids are pseudonymised as at ingest
    (setting pseudonym_key) and never stored.

    \b
    Example (Finance's payables team moved to Operations on 1 March):
      badge_id,department,valid_from,valid_to
      45:E1:74:12:6E:00,finance,2025-01-01,2026-02-28
      45:E1:74:12:6E:00,operations,2026-03-01,
    """
    from occupancy.people import (
        PeopleImportError,
        decode_people_file,
        parse_people_csv,
        store_memberships,
    )
    from occupancy.pseudonym import PseudonymKeyError

    try:
        text = decode_people_file(file.read_bytes())
    except OSError as exc:
        raise click.ClickException(f"{file}: cannot read: {exc}") from exc
    conn = _connect(cli)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT department_id FROM departments")
            known = [r[0] for r in cur.fetchall()]
        rows = parse_people_csv(text, known, str(file))
        n, badges = store_memberships(
            conn, cli.settings.pseudonym_key, rows, replace=replace
        )
    except (PeopleImportError, PseudonymKeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        conn.close()
    click.echo(f"imported {n} memberships of {badges} badges from {file}")


# --------------------------------------------------------------------- services
@main.group("services")
def services_group() -> None:
    """Private development services: Mosquitto and PostgreSQL + TimescaleDB under
    the data directory (default ./.occupancy), on ports pg_port and mqtt_port."""


def _dev_services(
    cli: CliContext, auth: bool = False
) -> tuple[PostgresServer, MosquittoServer]:
    from app.services import ServiceError

    s = cli.settings
    base = s.data_path
    try:
        pg = PostgresServer(base / "postgres", s.pg_port)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    mq = MosquittoServer(base / "mosquitto", s.mqtt_port)
    if auth:
        pw, acl = base / "mosquitto-auth" / "passwd", base / "mosquitto-auth" / "acl"
        if not pw.exists() or not acl.exists():
            raise click.ClickException(
                f"--auth needs {pw} and {acl} (see docs/deploy.md)"
            )
        mq.password_file, mq.acl_file = pw, acl
    return pg, mq


@services_group.command("start")
@click.option(
    "--auth",
    is_flag=True,
    help="Mosquitto with the password and ACL files in DATA_DIR/mosquitto-auth.",
)
@pass_ctx
def services_start(cli: CliContext, auth: bool) -> None:
    """Start both services (initialising them the first time) and print their URLs."""
    from app.services import ServiceError

    pg, mq = _dev_services(cli, auth)
    try:
        click.echo(
            f"starting PostgreSQL {pg.bindir.parent.name} "
            f"({'with' if pg.timescaledb else 'WITHOUT'} TimescaleDB) in {pg.pgdata} ...",
            err=True,
        )
        pg.start()
        click.echo(f"starting Mosquitto in {mq.data_dir} ...", err=True)
        mq.start()
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"OCCUPANCY_DATABASE_URL={pg.url()}")
    click.echo(f"OCCUPANCY_MQTT_URL={mq.url()}")


@services_group.command("stop")
@pass_ctx
def services_stop(cli: CliContext) -> None:
    """Stop both services (data is kept)."""
    pg, mq = _dev_services(cli)
    mq.stop()
    pg.stop()
    click.echo("stopped")


@services_group.command("status")
@pass_ctx
def services_status(cli: CliContext) -> None:
    """Say whether each service runs, and its URL. Exit 1 if one is down."""
    pg, mq = _dev_services(cli)
    ok = True
    for name, svc in (("postgres", pg), ("mosquitto", mq)):
        up = svc.running()
        ok = ok and up
        click.echo(f"{name:10s} {'running' if up else 'stopped':8s} {svc.url()}")
    if not ok:
        sys.exit(1)
