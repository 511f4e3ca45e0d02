"""``occupancy demo --portfolio N``: the demo over a small simulated portfolio
(sensors_sim.portfolio) instead of the example office: N small buildings in
Amsterdam, Rotterdam, London, New York and Singapore, each its own site,
published through MQTT to one ingester per site (the ingester takes the
topics of one site: ``occupancy/<site>/#``), analysed, then the dashboard
opens on its Portfolio page."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import click

from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["run_portfolio_demo"]


def _say(msg: str) -> None:
    click.echo(f"[demo] {msg}", err=True)


def _ingesters(settings: Settings, sites: list[Any]) -> list[Any]:
    """One running ingester per site, subscribed to that site's topics."""
    from app.demo import _wait_subscribed
    from ingest.service import Ingester

    out = []
    for site in sites:
        s = settings.replace(
            site=site.id,
            timezone=site.timezone,
            ingest_topics=f"{settings.topic_root}/{site.id}/#",
            ingest_group="",
            ingest_client_id=f"occupancy-demo-ingest-{site.id}",
        )
        ing = Ingester(s, metrics_port=0)
        ing.start()
        out.append(ing)
    for ing in out:
        _wait_subscribed(ing)
    return out


def _simulate(items: list[Any], start: dt.date, days: int, seed: int, root: str) -> Any:
    import pandas as pd

    from sensors_sim import simulate

    messages, badges = [], []
    for i, b in enumerate(items):
        r = simulate(b.site, b.scenario, start, days, seed + i, topic_root=root)
        messages.append(r.messages)
        badges.append(r.truth["badges"])
        _say(f"{b.code} ({b.city.name}, {b.site.timezone}): {b.desks} desks, "
             f"{len(r.messages):,} messages")  # fmt: skip
    all_messages = pd.concat(messages, ignore_index=True)
    return all_messages.sort_values("send_at", kind="stable"), pd.concat(badges)


def run_portfolio_demo(
    settings: Settings, *, buildings: int, days: int, seed: int, start: dt.date | None
) -> Settings:
    """Every stage up to computed analytics for a portfolio; the settings in
    effect (the first building's site, the demo key) are returned."""
    from analytics.pipeline import run_analyze
    from app.demo import _demo_key, default_start, site_today
    from ingest.badges import import_badges
    from occupancy.db import connect, migrate
    from occupancy.metadata import load_site
    from sensors_sim.portfolio import make_portfolio
    from sensors_sim.publish import publish

    if not settings.database_url and not settings.mqtt_url:
        from app.services import MosquittoServer, PostgresServer

        _say(f"starting private services in {settings.data_path}")
        PostgresServer(settings.data_path / "postgres", settings.pg_port).start()
        MosquittoServer(settings.data_path / "mosquitto", settings.mqtt_port).start()
    items = make_portfolio(buildings, seed=seed, scale=0.1)
    first = items[0].site
    settings = settings.replace(
        pseudonym_key=_demo_key(settings), site=first.id, timezone=first.timezone
    )
    start = start or default_start(
        days, site_today(first.timezone) - dt.timedelta(days=1)
    )
    conn = connect(
        settings.effective_database_url, timeout_s=settings.db_connect_timeout_s
    )
    try:
        migrate(conn)
        for b in items:
            load_site(conn, b.site)
        messages, badges = _simulate(items, start, days, seed, settings.topic_root)
        n = import_badges(conn, settings.pseudonym_key,
                          list(zip(badges["badge_id"].astype(str),
                                   badges["department_id"].astype(str), strict=True)),
                          replace=True)  # fmt: skip
        _say(f"{len(items)} buildings loaded, {n} badges registered")
        ingesters = _ingesters(settings, [b.site for b in items])
        try:
            stats = publish(messages, settings.mqtt, backfill=True,
                            client_id="occupancy-demo-sim")  # fmt: skip
            for ing in ingesters:
                if not ing.wait_idle(2.0, timeout=300):
                    raise click.ClickException(
                        "an ingester did not settle in 5 minutes"
                    )
        finally:
            for ing in ingesters:
                ing.stop()
        _say(f"published {stats.messages:,} messages at {stats.rate:,.0f} msg/s")
        t0 = time.perf_counter()
        run_analyze(conn, settings, full=True, progress=_say)
        _say(f"analytics done in {time.perf_counter() - t0:.1f} s; "
             f"the Portfolio page: /portfolio")  # fmt: skip
    finally:
        conn.close()
    return settings
