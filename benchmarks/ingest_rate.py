"""``benchmarks/ingest.py --rate N --ingesters K``: K ingesters on one shared
subscription under a steady N msg/s (a portfolio's rate, see ``portfolio``),
measured end to end: each ingester's share, latency from publish to committed
row (p50/p95 of probe messages in the stream), loss and duplicates.

The portfolio (issue #19): 20 buildings of mixed sizes. The simulator's
per-device rate was measured on ``examples/office.yaml`` (298 desks, 351
devices: desk and room sensors, counters, BLE scanners; `occupancy simulate
--days 1 --no-publish`, 2026-03-03, default scenario): 111,442 messages in the
day, 6,414 in the busiest hour, 407 in the busiest minute (the morning
arrival), i.e. per device 0.0193 msg/s in the busiest minute.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg2
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

ROOT = Path(__file__).resolve().parent.parent
KEY = "benchmark-key"
TICK = os.sysconf("SC_CLK_TCK")

#: (desks, buildings) of the 20-building portfolio.
PORTFOLIO = ((2000, 2), (1000, 4), (500, 6), (200, 8))
#: examples/office.yaml: devices per desk, and the simulator's busiest-minute
#: messages per device and second (see the module docstring).
DEVICES_PER_DESK = 351 / 298
PEAK_MINUTE_PER_DEVICE_S = 407 / 60 / 351
PROBES_PER_S = 10.0
PROBE_DEVICE = "pf-probe"


def portfolio() -> tuple[int, int, int]:
    """(desks, devices, msg/s at the busiest minute, all buildings at once)."""
    desks = sum(d * n for d, n in PORTFOLIO)
    devices = round(desks * DEVICES_PER_DESK)
    return desks, devices, round(devices * PEAK_MINUTE_PER_DEVICE_S)


def _client(cid: str) -> mqtt.Client:
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=cid,
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    return c


def _message(root: str, device: str, seq: int) -> tuple[str, bytes]:
    """Our format; ``ts`` is the publish time (microseconds)."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    body = f'{{"ts":"{now}","seq":{seq},"occupied":{"true" if seq % 2 else "false"}}}'
    return f"{root}/hq/{device}/presence", body.encode()


def add_devices(db_url: str, n: int) -> list[str]:
    """``n`` desk sensors of our format in site hq (the portfolio's devices),
    and the probes' device."""
    ids = [f"pf-d{i:05d}" for i in range(n)]
    conn = psycopg2.connect(db_url)
    with conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO devices (device_id, site_id, kind) VALUES (%s, 'hq', "
            "'desk_sensor') ON CONFLICT DO NOTHING",
            [(d,) for d in [*ids, PROBE_DEVICE]],
        )
    conn.close()
    return ids


def _paced_publisher(
    host: str, port: int, root: str, devices: list[str], rate: float,
    duration: float, base: int, out: Any,
) -> None:  # fmt: skip
    """Publish ``rate`` msg/s for ``duration`` s (seq from ``base``, devices in
    turn), paced every 10 ms; wait for every PUBACK; report the count."""
    c = _client(f"bench-rate-pub-{uuid.uuid4().hex[:6]}")
    c.connect(host, port, keepalive=30)
    c.loop_start()
    infos = []
    t0 = time.monotonic()
    i = 0
    while (now := time.monotonic() - t0) < duration:
        due = int(now * rate) + 1
        while i < due:
            dev = devices[i % len(devices)]
            infos.append(c.publish(*_message(root, dev, base + i), qos=1))
            i += 1
        time.sleep(0.01)
    for info in infos:
        info.wait_for_publish(60)
    c.disconnect()
    c.loop_stop()
    out.put(i)


class Probes:
    """Probe messages in the stream (their own device, ``PROBES_PER_S``): each
    timed from the publish call to its row being visible (committed), polled
    every 5 ms (the figure includes up to ~5 ms of polling)."""

    def __init__(self, db_url: str, host: str, port: int, root: str) -> None:
        self.db_url, self.root, self.device = db_url, root, PROBE_DEVICE
        self.client = _client(f"bench-probe-{uuid.uuid4().hex[:6]}")
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()
        self.sent: dict[int, float] = {}
        self.latency: dict[int, float] = {}
        self.stop = threading.Event()
        self.seq = 9 * 10**9 + int(time.time()) % 10**6 * 1000

    def _send(self, duration: float) -> None:
        t0 = time.monotonic()
        n = 0
        while time.monotonic() - t0 < duration:
            n += 1
            self.sent[self.seq + n] = time.monotonic()
            self.client.publish(*_message(self.root, self.device, self.seq + n), qos=1)
            self.stop.wait(max(0.0, t0 + n / PROBES_PER_S - time.monotonic()))

    def _poll(self, until: threading.Event) -> None:
        conn = psycopg2.connect(self.db_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            while not (until.is_set() and len(self.latency) >= len(self.sent)):
                todo = [s for s in list(self.sent) if s not in self.latency]
                if todo:
                    cur.execute(
                        "SELECT seq FROM sensor_events WHERE device_id = %s "
                        "AND seq = ANY(%s)",
                        (self.device, todo),
                    )
                    now = time.monotonic()
                    for (seq,) in cur.fetchall():
                        self.latency[int(seq)] = now - self.sent[int(seq)]
                if self.stop.wait(0.005):
                    break
        conn.close()

    def run(self, duration: float) -> threading.Thread:
        sent_all = threading.Event()

        def send() -> None:
            self._send(duration)
            sent_all.set()

        threading.Thread(target=send, daemon=True).start()
        poller = threading.Thread(target=self._poll, args=(sent_all,), daemon=True)
        poller.start()
        return poller

    def close(self) -> None:
        self.stop.set()
        self.client.disconnect()
        self.client.loop_stop()


def _start_ingesters(
    db_url: str, host: str, port: int, root: str, cids: list[str], group: str
) -> list[subprocess.Popen[bytes]]:
    procs = []
    for cid in cids:
        env = {
            **os.environ,
            "OCCUPANCY_DATABASE_URL": db_url,
            "OCCUPANCY_MQTT_URL": f"mqtt://{host}:{port}",
            "OCCUPANCY_TOPIC_ROOT": root,
            "OCCUPANCY_INGEST_TOPICS": f"{root}/#",
            "OCCUPANCY_INGEST_CLIENT_ID": cid,
            "OCCUPANCY_PSEUDONYM_KEY": KEY,
            "OCCUPANCY_METRICS_PORT": "0",
            "OCCUPANCY_MQTT_FAST_PATH": "true",
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "ingest", "--group", group],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return procs


def _done(db_url: str, cids: list[str]) -> dict[str, int]:
    """Messages each ingester committed (accepted + rejected + ignored)."""
    conn = psycopg2.connect(db_url)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT client_id, accepted + rejected + ignored FROM ingest_stats "
            "WHERE client_id = ANY(%s)",
            (cids,),
        )
        got = {str(r[0]): int(r[1]) for r in cur.fetchall()}
    conn.close()
    return {c: got.get(c, 0) for c in cids}


def _wait_members(
    db_url: str, host: str, port: int, root: str, cids: list[str]
) -> None:
    """Probe until every member of the group committed a message (a shared
    subscription hands them out in turn); their seq are far below the run's."""
    deadline = time.monotonic() + 240  # start-up of K processes at load 20
    c = _client(f"bench-warm-{uuid.uuid4().hex[:6]}")
    c.connect(host, port)
    c.loop_start()
    n = 0
    while min(_done(db_url, cids).values()) == 0:
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the ingesters did not all start: {_done(db_url, cids)}"
            )
        for _ in cids:
            n += 1
            c.publish(*_message(root, "pf-d00000", n), qos=1).wait_for_publish(5)
        time.sleep(0.3)
    c.disconnect()
    c.loop_stop()


def _counts(db_url: str, base: int, n: int) -> tuple[int, int]:
    """(rows, distinct seq) of the run's load messages."""
    conn = psycopg2.connect(db_url)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(DISTINCT seq) FROM sensor_events "
            "WHERE kind = 'presence' AND device_id LIKE 'pf-d%%' "
            "AND seq BETWEEN %s AND %s",
            (base, base + n - 1),
        )
        row = cur.fetchone()
    conn.close()
    assert row is not None
    return int(row[0]), int(row[1])


def _rejected(db_url: str, root: str) -> dict[str, int]:
    """Messages of the run refused by the ingesters, by reason."""
    conn = psycopg2.connect(db_url)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT reason, count(*) FROM rejected_messages WHERE topic LIKE %s "
            "GROUP BY 1",
            (root + "/%",),
        )
        got = {str(r[0]): int(r[1]) for r in cur.fetchall()}
    conn.close()
    return got


def _cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        parts = fh.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICK


def run_rate(
    db_url: str, host: str, port: int, ingesters: int, rate: float, duration: float
) -> dict[str, Any]:
    """One run; the figures."""
    root = f"bench/{uuid.uuid4().hex[:6]}/occupancy"
    group = f"rate{uuid.uuid4().hex[:6]}"
    cids = [f"bench-rate-{group}-{k}" for k in range(1, ingesters + 1)]
    _, n_devices, _ = portfolio()
    devices = add_devices(db_url, n_devices)
    procs = _start_ingesters(db_url, host, port, root, cids, group)
    try:
        _wait_members(db_url, host, port, root, cids)
        before = _done(db_url, cids)
        cpu0 = [_cpu(p.pid) for p in procs]
        base = 10**9 + int(time.time() * 10) % 10**5 * 10**4  # own range per run
        probes = Probes(db_url, host, port, root)
        q: Any = mp.Queue()
        load = max(0.0, rate - PROBES_PER_S)
        pub = mp.Process(
            target=_paced_publisher,
            args=(host, port, root, devices, load, duration, base, q),
        )
        t0 = time.monotonic()
        pub.start()
        poller = probes.run(duration)
        sent = int(q.get(timeout=duration + 120))
        pub.join(30)
        poller.join(120)
        deadline = time.monotonic() + 120
        while _counts(db_url, base, sent)[1] < sent and time.monotonic() < deadline:
            time.sleep(0.2)
        seconds = time.monotonic() - t0
        probes.close()
        rows, distinct = _counts(db_url, base, sent)
        after = _done(db_url, cids)
        rejected = _rejected(db_url, root)
        cpu = [_cpu(p.pid) - c for p, c in zip(procs, cpu0, strict=True)]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
    lat = sorted(probes.latency.values())
    return {
        "rate": rate, "duration_s": duration, "ingesters": ingesters,
        "sent": sent + len(probes.sent), "load_sent": sent, "rows": rows,
        "lost": sent - distinct, "duplicates": rows - distinct,
        "rejected": rejected,
        "probes": len(probes.sent), "probes_seen": len(lat),
        "share": [after[c] - before[c] for c in cids],
        "cpu_pct": [100 * c / seconds for c in cpu],
        "p50_ms": 1000 * statistics.median(lat) if lat else float("nan"),
        "p95_ms": 1000 * lat[int(0.95 * (len(lat) - 1))] if lat else float("nan"),
        "max_ms": 1000 * lat[-1] if lat else float("nan"),
    }  # fmt: skip


def report(r: dict[str, Any]) -> str:
    total = sum(r["share"]) or 1
    shares = " + ".join(f"{s:,} ({100 * s / total:.1f} %)" for s in r["share"])
    cpu = " + ".join(f"{c:.1f}" for c in r["cpu_pct"])
    return (
        f"rate {r['rate']:,.0f} msg/s for {r['duration_s']:.0f} s, {r['ingesters']} "
        f"ingester(s) on one shared subscription: {r['sent']:,} sent; per ingester "
        f"{shares}; publish → committed (probes {r['probes_seen']}/{r['probes']}) "
        f"p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, max {r['max_ms']:.0f} ms; "
        f"lost {r['lost']}, duplicates {r['duplicates']}, refused "
        f"{sum(r['rejected'].values())} {r['rejected'] or ''}; ingester CPU {cpu} % of a "
        f"core; load average {os.getloadavg()[0]:.1f}"
    )
