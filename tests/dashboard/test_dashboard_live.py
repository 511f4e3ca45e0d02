"""The live building in a real browser: messages published in real time by
``sensors_sim.live`` go through the real Mosquitto and ingester into
TimescaleDB, and the Overview's "Now" panel moves without a reload; the
Devices page counts exactly the rejections the ingester reported."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from conftest import MqttHandle

pytestmark = [pytest.mark.browser, pytest.mark.integration]

DESKS = ("f0-operations-d001", "f0-operations-d002", "f0-operations-d003")
BAD = 4  # malformed messages among the live ones


def _messages(root: str, start: pd.Timestamp) -> pd.DataFrame:
    """Three desks occupied one after the other (2 s apart), then BAD payloads
    that are not JSON, all sent at their own time."""
    rows = []
    for i, desk in enumerate(DESKS):
        at = start + pd.Timedelta(seconds=2 * (i + 1))
        body = {"ts": at.isoformat().replace("+00:00", "Z"), "seq": i, "occupied": True}
        rows.append((at, f"{root}/hq/ds-{desk}/presence", json.dumps(body).encode()))
    for j in range(BAD):
        at = start + pd.Timedelta(seconds=8 + j * 0.1)
        rows.append((at, f"{root}/hq/ds-{DESKS[0]}/presence", b"{not json"))
    frame = pd.DataFrame(rows, columns=["send_at", "topic", "payload"])
    frame["retain"] = False
    return frame


@pytest.fixture(scope="module")
def live_env(
    demo_db: dict[str, Any], mqtt_server: MqttHandle, serve_app: Any
) -> Iterator[dict[str, Any]]:
    from ingest.service import Ingester
    from occupancy.settings import load_settings

    root = "livetest/occupancy"
    settings = load_settings(
        {
            "database_url": demo_db["url"],
            "mqtt_url": mqtt_server.url,
            "topic_root": root,
            "ingest_topics": f"{root}/#",
            "ingest_client_id": "dashboard-live-test",
            "pseudonym_key": "test-key-live",
            "metrics_port": 0,
        },
        environ={},
    )
    ingester = Ingester(settings)
    ingester.start()
    deadline = time.monotonic() + 20
    while not ingester.stats.subscribed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ingester.stats.subscribed
    served = serve_app(load_settings({"database_url": demo_db["url"]}))
    try:
        yield {"settings": settings, "ingester": ingester, "served": served}
    finally:
        served.stop()
        ingester.stop()


def _people(page: Any) -> str:
    return str(page.locator("#overview-now").inner_text())


def test_now_panel_moves_with_the_live_building(
    new_page: Any, live_env: dict[str, Any], example_site: Any
) -> None:
    from dashboard.app import page_module
    from sensors_sim import load_scenario
    from sensors_sim.live import LiveOptions, LivePublisher

    page_module("overview").NOW_REFRESH_MS = 1000
    served, settings = live_env["served"], live_env["settings"]
    page, log = new_page()
    page.goto(served.url + "/?site=hq")
    # The seeded week lies in the past: no live data, and no fake zeros.
    page.wait_for_selector("#overview-now-none", timeout=15_000)
    assert "No live data" in _people(page)
    assert "0 / " not in _people(page)
    start = pd.Timestamp.now(tz="UTC")
    # The publisher's clock is the test's: each step releases what is due.
    clock = [start]
    live = LivePublisher(
        example_site,
        load_scenario(None),
        settings.mqtt,
        pending=_messages(settings.topic_root, start),
        next_day=dt.date.today() + dt.timedelta(days=1),
        seed=1,
        options=LiveOptions(
            topic_root=settings.topic_root,
            client_id="dashboard-live-test-sim",
            refill=False,
            tick_s=0.2,
            clock=lambda: clock[0],
        ),
    )
    live.start()
    try:
        seen: list[str] = []
        # Without a reload, the panel goes 1 -> 2 -> 3 people as they arrive
        # (one desk released at a time).
        for n in (1, 2, 3):
            clock[0] = start + pd.Timedelta(seconds=2 * n)
            page.wait_for_function(
                "(n) => { const e = document.querySelector('#overview-now-people"
                " .kpi-value'); return e && Number(e.innerText) === n; }",
                arg=n,
                timeout=30_000,
            )
            seen.append(page.locator("#overview-now-people .kpi-value").inner_text())
        assert seen == ["1", "2", "3"]
        free = page.locator("#overview-now-free-desks .kpi-value").inner_text()
        free_n, measured = (int(x) for x in free.split(" / "))
        # Only the three desks have live data, and all three are occupied.
        assert (free_n, measured) == (0, 3)
        clock[0] = start + pd.Timedelta(seconds=10)  # the malformed ones
        deadline = time.monotonic() + 20
        while live.stats.published < len(DESKS) + BAD and time.monotonic() < deadline:
            time.sleep(0.1)
        assert live.stats.published == len(DESKS) + BAD
    finally:
        live.stop()
    assert live.error is None
    assert log.errors == [], log.errors


def test_devices_rejected_count_matches_the_ingester(
    new_page: Any, live_env: dict[str, Any]
) -> None:
    ingester, served = live_env["ingester"], live_env["served"]
    assert ingester.wait_idle(1.0, timeout=30)
    rejected = ingester.stats.snapshot().rejected
    assert rejected == BAD
    page, log = new_page()
    # The default period (the 28 days ending yesterday) still counts the
    # rejections received today, as the ingester reported them.
    page.goto(served.url + "/devices?site=hq")
    page.wait_for_function("() => location.search.includes('from=')", timeout=15_000)
    kpi = page.locator("#devices-kpi-rejected .kpi-value")
    kpi.wait_for(timeout=15_000)
    assert kpi.inner_text() == str(rejected)
    assert log.errors == [], log.errors
