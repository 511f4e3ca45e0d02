"""Commands of the notify package: webhooks, alerts (and report weekly)."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

import click

from occupancy.clictx import CliContext, pass_ctx

logger = logging.getLogger(__name__)

__all__ = ["COMMANDS"]


def _serve(cli: CliContext, *, alerts: bool, states: bool, label: str) -> None:
    from notify.service import Notifier

    notifier = Notifier(cli.settings, alerts=alerts, states=states)
    stop = threading.Event()

    def _stop(*_args: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(
        f"{label}: every {cli.settings.notify_interval_s} s (Ctrl-C stops)", err=True
    )
    notifier.run(stop)
    st = notifier.stats
    click.echo(
        f"{label} stopped after {st.rounds} rounds: {st.state_changes} state changes, "
        f"{st.raised} alerts raised, {st.resolved} resolved, {st.delivered} webhook "
        f"deliveries, {st.emails} emails",
        err=True,
    )


# ------------------------------------------------------------------ webhooks
@click.group("webhooks")
def webhooks() -> None:
    """Webhook subscriptions: signed JSON on live state changes and alerts.

    \b
    Deliveries are made by `occupancy alerts run` (or `occupancy webhooks run`
    without alerts); see docs/integrations.md for the payloads and the signature.
    """


@webhooks.command("add")
@click.argument("url")
@click.option("--events", default="space.state,alert", show_default=True,
              help="Comma-separated event types: space.state, alert.")  # fmt: skip
@click.option("--secret", help="Signing secret (default: a random one, printed once).")
@pass_ctx
def wh_add(cli: CliContext, url: str, events: str, secret: str | None) -> None:
    """Subscribe URL to events.

    \b
    Example:
      occupancy webhooks add https://bms.example.org/hooks/occupancy --events space.state
    """
    from notify.webhooks import WebhookError, add_subscription

    types = tuple(e.strip() for e in events.split(",") if e.strip())
    conn = cli.connect()
    try:
        sid, sec = add_subscription(conn, url, types, secret)
    except WebhookError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        conn.close()
    click.echo(
        f"subscription {sid}: {url} ({', '.join(types)}); signing secret:", err=True
    )
    click.echo(sec)


@webhooks.command("list")
@pass_ctx
def wh_list(cli: CliContext) -> None:
    """List subscriptions with their state and failures in a row."""
    from notify.webhooks import list_subscriptions

    conn = cli.connect()
    try:
        subs = list_subscriptions(conn)
    finally:
        conn.close()
    click.echo("id\turl\tevents\tactive\tfailures\tdisabled_reason")
    for s in subs:
        click.echo(f"{s.subscription_id}\t{s.url}\t{','.join(s.events)}\t"
                   f"{'yes' if s.active else 'no'}\t{s.failures}\t{s.disabled_reason or '-'}")  # fmt: skip


def _set(cli: CliContext, sid: int, active: bool) -> None:
    from notify.webhooks import set_active

    conn = cli.connect()
    try:
        found = set_active(conn, sid, active)
    finally:
        conn.close()
    if not found:
        raise click.ClickException(f"no subscription {sid}")
    click.echo(f"subscription {sid} {'enabled' if active else 'disabled'}")


@webhooks.command("enable")
@click.argument("sid", type=int)
@pass_ctx
def wh_enable(cli: CliContext, sid: int) -> None:
    """Enable subscription SID again (failures reset, pending events retried)."""
    _set(cli, sid, True)


@webhooks.command("disable")
@click.argument("sid", type=int)
@pass_ctx
def wh_disable(cli: CliContext, sid: int) -> None:
    """Pause subscription SID (events are no longer queued for it)."""
    _set(cli, sid, False)


@webhooks.command("remove")
@click.argument("sid", type=int)
@pass_ctx
def wh_remove(cli: CliContext, sid: int) -> None:
    """Delete subscription SID with its queue and delivery log."""
    from notify.webhooks import remove_subscription

    conn = cli.connect()
    try:
        if not remove_subscription(conn, sid):
            raise click.ClickException(f"no subscription {sid}")
    finally:
        conn.close()
    click.echo(f"subscription {sid} removed")


@webhooks.command("log")
@click.option("--subscription", "sid", type=int, help="Only this subscription.")
@click.option("-n", "--limit", type=int, default=50, show_default=True)
@pass_ctx
def wh_log(cli: CliContext, sid: int | None, limit: int) -> None:
    """The delivery log, newest first: every attempt with its outcome."""
    from occupancy.db import read_frame

    conn = cli.connect()
    try:
        frame = read_frame(
            conn,
            "SELECT d.attempted_at, d.subscription_id, d.event_id, o.event_type, o.subject,"
            " d.ok, d.status_code, d.error, round(d.duration_ms::numeric, 1) AS ms"
            " FROM webhook_deliveries d JOIN webhook_outbox o USING (event_id)"
            " WHERE %(sid)s::int IS NULL OR d.subscription_id = %(sid)s"
            " ORDER BY d.delivery_id DESC LIMIT %(n)s",
            {"sid": sid, "n": limit},
        )
    finally:
        conn.close()
    click.echo(frame.to_string(index=False) if len(frame) else "no deliveries yet")


@webhooks.command("run")
@pass_ctx
def wh_run(cli: CliContext) -> None:
    """Announce live state changes (debounced) and deliver webhooks, without
    alert rules (use `occupancy alerts run` for both)."""
    _serve(cli, alerts=False, states=True, label="webhooks")


# -------------------------------------------------------------------- alerts
@click.group("alerts")
def alerts() -> None:
    """Alert rules (device silent, battery, room over capacity, data gap,
    ingester lag, rejected rate): thresholds are `alert_*` settings."""


@alerts.command("run")
@pass_ctx
def alerts_run(cli: CliContext) -> None:
    """The notifier service: evaluate the alert rules continuously (each alert
    raised once and resolved once, by email and webhook), announce live state
    changes and deliver webhooks.

    \b
    Example:
      OCCUPANCY_SMTP_URL=smtp://mail:25 OCCUPANCY_ALERT_EMAIL_TO=fm@example.org occupancy alerts run
    """
    _serve(cli, alerts=True, states=True, label="alerts")


@alerts.command("list")
@click.option("--all", "show_all", is_flag=True, help="Resolved alerts too.")
@pass_ctx
def alerts_list(cli: CliContext, show_all: bool) -> None:
    """Open alerts (with --all: resolved ones too), newest first."""
    from occupancy.db import read_frame

    conn = cli.connect()
    try:
        frame = read_frame(
            conn,
            "SELECT alert_id, rule, subject, severity, message, raised_at, resolved_at"
            " FROM alerts WHERE %(all)s OR resolved_at IS NULL ORDER BY alert_id DESC",
            {"all": show_all},
        )
    finally:
        conn.close()
    click.echo(frame.to_string(index=False) if len(frame) else "no alerts")


# -------------------------------------------------------------------- report
@click.group("report")
def report() -> None:
    """Reports as PDF for people who do not open the dashboard."""


@report.command("weekly")
@click.option("--building", required=True, help="Building id (from the building file).")
@click.option(
    "--week", help="ISO week (2026-W45) or any date in it [default: last week]."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="PDF file to write.")  # fmt: skip
@click.option("--language", type=click.Choice(["en", "nl"]),
              help="English or Dutch [setting language].")  # fmt: skip
@click.option("--mail-to", help="Also email the PDF to these addresses (comma separated; "
              "through setting smtp_url).")  # fmt: skip
@pass_ctx
def report_weekly(cli: CliContext, building: str, week: str | None, output: Path,
                  language: str | None, mail_to: str | None) -> None:  # fmt: skip
    """The facility manager's Monday page for BUILDING and WEEK as PDF:
    headline figures against last week and the target band, busiest and
    emptiest spaces, room right-sizing, co-location highlights, device health,
    charts. Every figure is the one `occupancy export` gives for that week.

    \b
    Examples:
      occupancy report weekly --building main --week 2026-W45 -o week45.pdf
      occupancy report weekly --building main --language nl -o week.pdf --mail-to fm@example.org
    Schedule it (cron, Monday 07:00):
      0 7 * * 1  occupancy report weekly --building main -o /srv/reports/last-week.pdf --mail-to fm@example.org
    """
    from notify.mail import MailError, send_mail
    from notify.report import render_html, write_pdf
    from notify.report_data import ReportDataError, gather, parse_week

    s = cli.settings
    lang = language or s.language
    for noisy in (
        "weasyprint",
        "fontTools",
    ):  # per-step INFO lines; we say what happens
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        monday = parse_week(week)
    except ReportDataError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"week of {monday}: reading the figures ...", err=True)
    conn = cli.connect()
    try:
        data = gather(conn, building, monday, s)
    except ReportDataError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        conn.close()
    click.echo("rendering the PDF ...", err=True)
    page = render_html(
        data, lang, k=int(s.k_anonymity), battery_pct=s.alert_battery_pct
    )
    write_pdf(page, output)
    click.echo(f"weekly report {building} {monday} ({lang}) → {output}", err=True)
    if mail_to:
        if not s.smtp_url:
            raise click.ClickException(
                "--mail-to needs setting smtp_url (OCCUPANCY_SMTP_URL)"
            )
        to = tuple(a.strip() for a in mail_to.split(",") if a.strip())
        iso = monday.isocalendar()
        try:
            send_mail(s.smtp_url, s.smtp_from, to,
                      f"[occupancy] {data.building_name} week {iso.year}-W{iso.week:02d}",
                      "The weekly occupancy report is attached.\n", attachment=output)  # fmt: skip
        except MailError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"mailed to {', '.join(to)}", err=True)


COMMANDS = [webhooks, alerts, report]
