"""Commands of the ingester: ``occupancy ingest``, ``occupancy decode``,
``occupancy badges import``. Domain errors become click errors here."""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from occupancy.clictx import CliContext, pass_ctx

if TYPE_CHECKING:
    from ingest.context import DecodeContext
    from ingest.decoders.common import Decoded
    from ingest.discover import Proposal
    from ingest.service import Ingester
    from occupancy.settings import Settings

logger = logging.getLogger(__name__)


@click.command("ingest")
@click.option(
    "--until-idle",
    type=float,
    metavar="SECONDS",
    help="Exit cleanly once no message arrived for SECONDS (demo, tests, backfills).",
)
@click.option(
    "--metrics-port",
    type=int,
    help="Port of /metrics and /health [setting metrics_port; 0: off].",
)
@click.option(
    "--metrics-host",
    metavar="ADDRESS",
    help="Address the metrics endpoint listens on, e.g. 0.0.0.0 in a container "
    "[setting metrics_host; default 127.0.0.1].",
)
@click.option(
    "--client-id",
    help="MQTT client id (its persistent session) [setting ingest_client_id].",
)
@click.option(
    "--group",
    help="Shared-subscription group; '' subscribes plainly [setting ingest_group].",
)
@click.option(
    "--topic",
    "topics",
    multiple=True,
    help="Topic filter to subscribe (repeatable) [setting ingest_topics].",
)
@pass_ctx
def ingest_cmd(
    cli: CliContext,
    until_idle: float | None,
    metrics_port: int | None,
    metrics_host: str | None,
    client_id: str | None,
    group: str | None,
    topics: tuple[str, ...],
) -> None:
    """Take device messages from the broker and store them, exactly once.

    MQTT 5, QoS 1, persistent session (fixed client id), acknowledged only after
    the database committed them. Ends with the accounting line
    received/inserted/duplicates/rejected. Needs OCCUPANCY_PSEUDONYM_KEY.

    \b
    Examples:
      occupancy ingest                                   # run until Ctrl-C / SIGTERM
      occupancy ingest --until-idle 5                    # drain what is queued, then exit
      occupancy ingest --topic 'occupancy/#' --topic 'zigbee2mqtt/#' --metrics-port 9108
      OCCUPANCY_INGEST_CLIENT_ID=ingest-2 occupancy ingest   # a second ingester, same group
      occupancy ingest --metrics-host 0.0.0.0            # in a container: Prometheus scrapes it
    """
    from ingest.service import Ingester, IngestError

    settings = _ingest_settings(cli.settings, client_id, group, topics)
    try:
        ingester = Ingester(
            settings, metrics_port=metrics_port, metrics_host=metrics_host
        )
    except IngestError as exc:
        raise click.ClickException(str(exc)) from exc
    stop = threading.Event()

    def _signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _signal)
    signal.signal(signal.SIGINT, _signal)
    ingester.start()
    click.echo(
        f"ingesting {', '.join(ingester.subscriptions)} from {settings.mqtt.url()} "
        f"as {settings.ingest_client_id}",
        err=True,
    )
    _run_until(ingester, stop, until_idle)
    snap = ingester.stop()
    click.echo(snap.line())


def _ingest_settings(
    settings: Settings,
    client_id: str | None,
    group: str | None,
    topics: tuple[str, ...],
) -> Settings:
    """``settings`` with the command line's client id, group and topics."""
    overrides: dict[str, object] = {}
    if client_id:
        overrides["ingest_client_id"] = client_id
    if group is not None:
        overrides["ingest_group"] = group
    if topics:
        overrides["ingest_topics"] = list(topics)
    return settings.replace(**overrides) if overrides else settings


def _run_until(
    ingester: Ingester, stop: threading.Event, until_idle: float | None
) -> None:
    """Run until ``stop`` is set or (with ``until_idle``) the ingester has been
    idle that long; a progress line every 10 s."""
    last_report = time.monotonic()
    while not stop.is_set():
        if until_idle is not None and ingester.wait_idle(until_idle, timeout=0.5):
            break
        if until_idle is None:
            stop.wait(0.5)
        if time.monotonic() - last_report > 10:
            click.echo(f"progress: {ingester.stats.snapshot().line()}", err=True)
            last_report = time.monotonic()


@click.command("decode")
@click.argument("topic")
@click.option(
    "--received-at",
    metavar="ISO",
    help="Arrival time to assume (default now), e.g. 2026-03-02T08:15:00Z.",
)
@click.option(
    "--building",
    type=click.Path(path_type=Path),
    help="Refuse devices not in this building file (default: accept any device).",
)
@pass_ctx
def decode_cmd(
    cli: CliContext, topic: str, received_at: str | None, building: Path | None
) -> None:
    """Decode one payload read from stdin as the ingester would, for TOPIC.

    Prints the normalized events as JSON lines, each with a "meaning" in words
    (kind, value, device, and its space with --building), exit 0; when the
    message carries nothing to store, says why on stderr (exit 0); a refused
    message prints the reason on stderr (exit 1).

    \b
    Examples:
      echo '{"ts":"2026-03-02T08:15:03Z","seq":1,"occupied":true}' \\
        | occupancy decode occupancy/hq/ds-f1-finance-d001/presence
      echo '{"occupancy":true,"battery":97}' | occupancy decode zigbee2mqtt/desk_12
      echo OFF | occupancy decode esphome-ld2410/binary_sensor/presence/state
    """
    from ingest.context import DeviceInfo
    from ingest.service import build_context
    from ingest.timestamps import parse_timestamp

    settings = cli.settings
    devices = None
    if building is not None:
        from occupancy.building import BuildingError, load_building

        try:
            site = load_building(building)
        except BuildingError as exc:
            raise click.ClickException(f"invalid building file {exc}") from exc
        devices = [
            DeviceInfo(d.id, d.kind, d.family, d.space_id, d.zone_id, d.topic)
            for d in site.devices
        ]
    ctx = build_context(settings, devices)
    now = dt.datetime.now(dt.UTC)
    if received_at:
        parsed = parse_timestamp(received_at, ctx.tz)
        if not isinstance(parsed, dt.datetime):
            raise click.BadParameter(str(parsed), param_hint="--received-at")
        now = parsed
    payload = sys.stdin.buffer.read()
    if payload.endswith(b"\n"):  # the newline that echo adds
        payload = payload[:-1]
    result = _decode_remembering(settings, topic, payload, now, ctx)
    _echo_decoded(result, ctx)


def _decode_remembering(
    settings: Settings,
    topic: str,
    payload: bytes,
    now: dt.datetime,
    ctx: DecodeContext,
) -> Decoded:
    """Decode; Home Assistant state topics need their discovery config, so the
    configs decoded before are remembered (one file in data_dir), as the
    ingester remembers them while it runs."""
    from ingest.decoders import homeassistant
    from ingest.registry import decode_message

    remembered = settings.data_path / "decode-ha-discovery.json"
    homeassistant.load_entities(remembered)
    learnt = len(homeassistant.ENTITIES)
    result = decode_message(topic, payload, now, ctx)
    if len(homeassistant.ENTITIES) != learnt or topic.startswith("homeassistant/"):
        try:
            homeassistant.save_entities(remembered)
        except OSError as exc:
            logger.warning(
                "cannot remember discovery configs in %s: %s", remembered, exc
            )
    return result


def _echo_decoded(result: Decoded, ctx: DecodeContext) -> None:
    """Events as JSON lines with their meaning; refusal or note on stderr."""
    from ingest.meaning import describe

    if result.rejection is not None:
        who = f" (device {result.device_id!r})" if result.device_id else ""
        click.echo(f"rejected: {result.rejection}{who}", err=True)
        sys.exit(1)
    for event in result.events:
        click.echo(
            json.dumps(
                {**event.as_json(), "meaning": describe(event, ctx)},
                ensure_ascii=False,
            )
        )
    for d in result.discovered:
        kinds = f", reports {', '.join(d.kinds)}" if d.kinds else ""
        click.echo(f"discovered device {d.device_id!r} ({d.family}{kinds})", err=True)
    if not result.events:
        click.echo(f"nothing to store: {result.note or 'no events'}", err=True)


@click.group("badges")
def badges_group() -> None:
    """The badge register: which department a badge belongs to (pseudonymised)."""


@badges_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--replace", is_flag=True, help="Delete the register first (after a key rotation)."
)
@pass_ctx
def badges_import(cli: CliContext, file: Path, replace: bool) -> None:
    """Import FILE.csv (columns badge_id,department_id) into the badge register.

    Only pseudonymise(OCCUPANCY_PSEUDONYM_KEY, badge_id) is stored, never the raw
    id; the same key must be used by the ingester.

    \b
    Example:
      OCCUPANCY_PSEUDONYM_KEY=... occupancy badges import hr/badges.csv
    """
    from ingest.badges import BadgeImportError, import_badges
    from occupancy.db import DatabaseError, connect
    from occupancy.pseudonym import PseudonymKeyError

    settings = cli.settings
    try:
        rows = _read_badges(file)
        conn = connect(
            settings.effective_database_url, timeout_s=settings.db_connect_timeout_s
        )
    except (BadgeImportError, DatabaseError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        n = import_badges(conn, settings.pseudonym_key, rows, replace=replace)
    except (PseudonymKeyError, BadgeImportError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        conn.close()
    click.echo(f"imported {n} badges from {file}")


def _read_badges(file: Path) -> list[tuple[str, str]]:
    from ingest.badges import BadgeImportError

    with open(file, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"badge_id", "department_id"} - set(reader.fieldnames or [])
        if missing:
            raise BadgeImportError(
                f"{file}: missing column(s) {', '.join(sorted(missing))}"
            )
        rows = []
        for lineno, row in enumerate(reader, start=2):
            badge, dept = (
                (row.get("badge_id") or "").strip(),
                (row.get("department_id") or "").strip(),
            )
            if not badge or not dept:
                raise BadgeImportError(
                    f"{file}:{lineno}: empty badge_id or department_id"
                )
            rows.append((badge, dept))
    return rows


@click.group("devices")
def devices_group() -> None:
    """Onboard a building's devices: see what the broker carries."""


@devices_group.command("discover")
@click.option(
    "--seconds",
    type=click.FloatRange(0.1),
    default=60.0,
    show_default=True,
    help="How long to listen [s] (battery sensors report every few minutes).",
)
@click.option(
    "--building",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Building file whose space names the guesses use [setting building_file].",
)
@click.option(
    "--topic",
    "topics",
    multiple=True,
    help="Topic filter (repeatable) [default: #, everything].",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("devices-discovered.yaml"),
    show_default=True,
    help="Where to write the YAML fragment to merge into the building file.",
)
@click.option("--mqtt-url", help="mqtt://user:pass@host:port [setting mqtt_url].")
@pass_ctx
def discover_cmd(
    cli: CliContext,
    seconds: float,
    building: Path | None,
    topics: tuple[str, ...],
    output: Path,
    mqtt_url: str | None,
) -> None:
    """Listen to the broker and propose a building-file entry per device.

    Read-only: its own client id, a clean session, QoS 0; it never publishes
    and writes nothing to the database. Groups what it hears by family and
    device and prints, per device, the family, the kinds it reports, its last
    payload (BLE/badge payloads withheld: personal data) and the space it
    probably covers (its name against the building file's space names). The
    YAML fragment lists the devices the building file does not know yet.

    \b
    Examples:
      occupancy devices discover --seconds 120
      occupancy devices discover --topic 'zigbee2mqtt/#' --output z2m.yaml
    """
    from ingest.discover import Collector, listen, proposals, yaml_fragment
    from occupancy.building import BuildingError, load_building
    from occupancy.settings import parse_mqtt_url

    settings = cli.settings
    path = building or Path(settings.building_file)
    site = None
    try:
        site = load_building(path) if path.exists() else None
    except BuildingError as exc:
        raise click.ClickException(f"invalid building file {exc}") from exc
    if site is None:
        click.echo(f"no building file {path}: no space guesses", err=True)
    url = parse_mqtt_url(mqtt_url) if mqtt_url else settings.mqtt
    collector = Collector(site.timezone if site else "UTC")
    click.echo(f"listening {seconds:g} s on {url.url()} ...", err=True)
    try:
        listen(url, list(topics) or ["#"], seconds, collector)
    except ConnectionError as exc:
        raise click.ClickException(str(exc)) from exc
    props = proposals(collector, site)
    _print_proposals(props, collector.messages, collector.unknown_topics)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    header = (
        f"occupancy devices discover: {now}, {seconds:g} s on {url.url()}\n"
        "merge the entries below into the building file's devices: list"
    )
    output.write_text(yaml_fragment(props, header), encoding="utf-8")
    new = sum(not p.known for p in props)
    click.echo(f"wrote {new} proposed device(s) to {output}")


def _print_proposals(
    props: list[Proposal], messages: int, unknown: dict[str, int]
) -> None:
    click.echo(f"{messages} messages heard, {len(props)} devices")
    for p in props:
        where = (
            f"{p.space_kind} {p.space!r} (similarity {p.score})"
            if p.space
            else "no space guessed"
        )
        state = "in the building file" if p.known else "NEW"
        click.echo(f"- {p.device_id!r} [{p.family}] {state}")
        click.echo(
            f"    reports: {', '.join(p.kinds) or 'nothing yet'}; {p.messages} msg"
        )
        click.echo(f"    probable space: {where}")
        click.echo(f"    last: {p.last_topic}  {p.last_payload}")
        if p.refused:
            reasons = ", ".join(f"{k} x{v}" for k, v in sorted(p.refused.items()))
            click.echo(f"    refused: {reasons}")
    if unknown:
        roots = ", ".join(f"{k}/... x{v}" for k, v in sorted(unknown.items()))
        click.echo(f"topics no decoder knows: {roots}")


COMMANDS = [ingest_cmd, decode_cmd, badges_group, devices_group]
