"""Benchmark: sustained ingest end to end, and this machine's ceilings.

    .venv/bin/python benchmarks/ingest.py [--duration 60] [--skip-mix]
    .venv/bin/python benchmarks/ingest.py --skip-mix --ingesters 1 2 3
    .venv/bin/python benchmarks/ingest.py --rate 0 --ingesters 3   # 0: the portfolio's rate

Starts a private Mosquitto and PostgreSQL + TimescaleDB (fsync off) in a
temporary directory, then measures, QoS 1 throughout:

1. broker alone: paho publisher (own process) → Mosquitto → paho subscriber;
2. COPY alone: rows/s COPYed into the ``sensor_events`` hypertable;
3. ingest, our format: publisher (own process) → Mosquitto → ``occupancy ingest``
   (own process) → TimescaleDB, counted when committed (``ingest_stats``);
4. the ingester alone: a backlog of ``--drain`` messages (our format, and the
   mix unless ``--skip-mix``) queued in its session while it was stopped, timed
   from its start until all are committed;
5. ingest, a mix of real formats (zigbee2mqtt, ESPHome, Tasmota, TTS v3 uplink,
   OpenMQTTGateway BLE badge, ours).

For each ingest run it prints messages/s committed, the ratio to the broker-alone
ceiling, the ingester's CPU [% of one core] and its memory (RSS at start, peak,
end, and the slope over the second half [MB/min]: flat memory ≈ 0).
The publisher and the ingester share the machine's cores, as the broker does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import logging
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg2
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
KEY = "benchmark-key"
TICK = os.sysconf("SC_CLK_TCK")
#: The ingester's opt-in paho fast path, on unless --stock-paho.
FAST_PATH = ["true"]


def _client(cid: str, manual: bool = False) -> mqtt.Client:
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=cid,
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    return c


# -- message generators (in the publisher process) ---------------------------
def _ours(root: str, i: int, now: str) -> tuple[str, bytes]:
    dev = f"ds-f0-operations-d{i % 20 + 1:03d}"
    body = f'{{"ts":"{now}","seq":{i},"occupied":{"true" if i % 2 else "false"}}}'
    return f"{root}/hq/{dev}/presence", body.encode()


def _mix(root: str, i: int, now: str) -> tuple[str, bytes]:
    """One message of the mix; formatted from templates (the publisher must not
    be the bottleneck), same shapes as ``json.dumps`` would give."""
    k, n = i % 6, i // 6 % 50
    if k == 0:
        return _ours(root, i, now)
    if k == 1:
        occ = "true" if i % 4 else "false"
        return (
            f"zigbee2mqtt/bm-z-{n}",
            f'{{"battery":97,"linkquality":86,"occupancy":{occ}}}'.encode(),
        )
    if k == 2:
        return f"bm-e-{n}/binary_sensor/presence/state", b"ON" if i % 4 else b"OFF"
    if k == 3:
        # Tasmota's Time: local time without zone, to the second
        return (
            f"tele/bm-t-{n}/SENSOR",
            f'{{"Time":"{_local_now()}","Switch1":"ON"}}'.encode(),
        )
    if k == 4:
        return f"v3/bench@ttn/devices/bm-l-{n}/up", (
            f'{{"end_device_ids": {{"device_id": "bm-l-{n}"}}, "received_at": "{now}", '
            f'"uplink_message": {{"f_cnt": {i}, "decoded_payload": {{"occupancy": '
            f'"occupied", "battery": 90}}, "rx_metadata": [{{"gateway_ids": '
            f'{{"gateway_id": "gw"}}, "rssi": -87}}], "version_ids": {{"brand_id": '
            f'"milesight-iot", "model_id": "vs340"}}}}}}'
        ).encode()
    mac = f"{i % 4096:012X}"
    return f"home/bm-g-{n}/BTtoMQTT/{mac}", f'{{"id":"{mac}","rssi":-60}}'.encode()


_LOCAL: list[Any] = [0.0, ""]


def _local_now() -> str:
    """Local wall time to the second, re-formatted at most every 100 ms."""
    t = time.monotonic()
    if t - _LOCAL[0] > 0.1:
        _LOCAL[0] = t
        _LOCAL[1] = dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    return str(_LOCAL[1])


class _FastPublisher:
    """One thread, no paho network thread: each PUBLISH is written straight to
    the socket and PUBACKs are read between publishes (as
    ``sensors_sim.publish`` does). Paho's in-flight limit is off: with a limit
    it scans every in-flight message on each PUBACK, which caps a publisher at
    ~5k msg/s; the window of unacknowledged messages is bounded here instead."""

    def __init__(self, host: str, port: int, window: int = 1000) -> None:
        self.acked = 0
        self.window = window
        self.c = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"bench-pub-{uuid.uuid4().hex[:6]}",
            protocol=MQTTProtocolVersion.MQTTv311,
        )
        self.c.max_inflight_messages_set(0)
        self.c.max_queued_messages_set(0)
        self.c.on_publish = self._on_publish
        self.connected = False
        self.c.on_connect = self._on_connect
        self.c.connect(host, port, keepalive=30)
        deadline = time.monotonic() + 10
        while not self.connected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"cannot connect to {host}:{port}")
            self.c.loop(timeout=0.05)
        self.sent = 0

    def _on_connect(self, *args: Any) -> None:
        self.connected = True

    def _on_publish(self, *args: Any) -> None:
        self.acked += 1

    def publish(self, topic: str, payload: bytes) -> None:
        while self.sent - self.acked >= self.window:
            self.c.loop(timeout=0.05)
        self.c.publish(topic, payload, 1)
        self.sent += 1
        if not self.sent & 63:
            self.c.loop(timeout=0)

    def finish(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.acked < self.sent:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.sent - self.acked} messages not acknowledged"
                )
            self.c.loop(timeout=0.05)
        self.c.disconnect()
        self.c.loop(timeout=0.1)


def _now() -> str:
    return (
        dt.datetime.now(dt.UTC)
        .isoformat(timespec="microseconds")
        .replace("+00:00", "Z")
    )


def _publisher(
    host: str, port: int, root: str, kind: str, duration: float, out: Any
) -> None:
    """Publish as fast as QoS 1 allows for ``duration`` s; report the count."""
    gen = _mix if kind == "mix" else _ours
    pub = _FastPublisher(host, port)
    end = time.monotonic() + duration
    i = 0
    while time.monotonic() < end:
        now = _now()
        for _ in range(500):
            pub.publish(*gen(root, i, now))
            i += 1
    pub.finish()
    out.put(i)


# -- ceilings -----------------------------------------------------------------
def broker_ceiling(
    host: str, port: int, n: int, protocol: MQTTProtocolVersion
) -> tuple[float, float]:
    """paho → Mosquitto → paho, QoS 1: messages/s seen by a stock paho subscriber
    (its own network thread, automatic PUBACKs) and by the publisher."""
    got = 0
    first = last = 0.0
    done = threading.Event()
    root = f"bench/{uuid.uuid4().hex[:6]}"

    def on_message(cl: Any, u: Any, m: Any) -> None:
        nonlocal got, first, last
        got += 1
        last = time.perf_counter()
        if got == 1:
            first = last
        if got >= n:
            done.set()

    sub = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"bench-sub-{uuid.uuid4().hex[:6]}",
        protocol=protocol,
    )
    sub.on_message = on_message
    sub.connect(host, port)
    sub.subscribe(f"{root}/#", qos=1)
    sub.loop_start()
    time.sleep(0.5)  # SUBACK; the publisher starts after it
    q: Any = mp.Queue()
    p = mp.Process(target=_publisher_n, args=(host, port, root, n, q))
    p.start()
    if not done.wait(timeout=300):
        raise RuntimeError(f"broker alone: received {got} of {n} messages")
    pub_rate = float(q.get(timeout=60))
    p.join()
    sub.disconnect()
    sub.loop_stop()
    return ((got - 1) / (last - first) if last > first else 0.0), pub_rate


def _publisher_n(
    host: str, port: int, root: str, n: int, out: Any, kind: str = "ours"
) -> None:
    gen = _mix if kind == "mix" else _ours
    pub = _FastPublisher(host, port)
    now = _now()
    t0 = time.perf_counter()
    for i in range(n):
        if not i % 500:
            now = _now()
        pub.publish(*gen(root, i, now))
    pub.finish()
    out.put(n / (time.perf_counter() - t0))


def copy_ceiling(db_url: str, n: int) -> float:
    """Rows/s COPYed into the sensor_events hypertable (then removed)."""
    conn = psycopg2.connect(db_url)
    base = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    lines = "".join(
        f"{(base + dt.timedelta(milliseconds=i)).isoformat()}\tbench-copy\t\\N\tpresence\t1\t{i}\tdevice\tbench\t{base.isoformat()}\n"
        for i in range(n)
    )
    cols = "ts, device_id, space_id, kind, value, seq, ts_source, family, received_at"
    t = time.perf_counter()
    with conn, conn.cursor() as cur:
        cur.copy_expert(f"COPY sensor_events ({cols}) FROM STDIN", io.StringIO(lines))
    seconds = time.perf_counter() - t
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM sensor_events WHERE device_id = 'bench-copy'")
    conn.close()
    return n / seconds


# -- ingest runs -----------------------------------------------------------------
def _proc_cpu_rss(pid: int) -> tuple[float, float]:
    with open(f"/proc/{pid}/stat") as fh:
        parts = fh.read().rsplit(")", 1)[1].split()
    cpu = (int(parts[11]) + int(parts[12])) / TICK
    with open(f"/proc/{pid}/status") as fh:
        rss = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
    return cpu, rss / 1024


def _stats(db_url: str, client_ids: list[str]) -> dict[str, int]:
    """Messages each ingester has committed (accepted + rejected + ignored)."""
    conn = psycopg2.connect(db_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT client_id, accepted + rejected + ignored FROM ingest_stats "
                "WHERE client_id = ANY(%s)",
                (client_ids,),
            )
            done = {str(r[0]): int(r[1]) for r in cur.fetchall()}
    finally:
        conn.close()
    return {c: done.get(c, 0) for c in client_ids}


def _mix_devices(db_url: str) -> None:
    rows = []
    for n in range(50):
        rows += [
            (f"bm-z-{n}", "desk_sensor", "zigbee2mqtt", None),
            (f"bm-e-{n}", "desk_sensor", "esphome", None),
            (f"bm-t-{n}", "desk_sensor", "tasmota", None),
            (f"bm-l-{n}", "desk_sensor", "ttn", None),
            (f"bm-g-{n}", "ble_scanner", "openmqttgateway", "f0-hr"),
        ]
    conn = psycopg2.connect(db_url)
    with conn, conn.cursor() as cur:
        for r in rows:
            cur.execute(
                "INSERT INTO devices (device_id, site_id, kind, family, zone_id) "
                "VALUES (%s, 'hq', %s, %s, %s) ON CONFLICT DO NOTHING",
                r,
            )
    conn.close()


def run_ingest(
    db_url: str,
    host: str,
    port: int,
    kind: str,
    duration: float,
    ingesters: int = 1,
    group: str = "",
) -> dict[str, Any]:
    """Publish for ``duration`` s to ``ingesters`` ingester processes (one shared
    subscription ``$share/<group>/...`` when ``group`` is set) and wait until
    all is committed. CPU and memory are per ingester process."""
    root = f"bench/{uuid.uuid4().hex[:6]}/occupancy"
    tag = uuid.uuid4().hex[:4]
    cids = [f"bench-ingest-{kind}-{tag}-{n}" for n in range(ingesters)]
    topics = _topics(root, kind)
    procs = []
    for cid in cids:
        env = {
            **os.environ,
            "OCCUPANCY_DATABASE_URL": db_url,
            "OCCUPANCY_MQTT_URL": f"mqtt://{host}:{port}",
            "OCCUPANCY_TOPIC_ROOT": root,
            "OCCUPANCY_INGEST_TOPICS": ",".join(topics),
            "OCCUPANCY_INGEST_CLIENT_ID": cid,
            "OCCUPANCY_PSEUDONYM_KEY": KEY,
            "OCCUPANCY_METRICS_PORT": "0",
            "OCCUPANCY_BATCH_SIZE": "1000",
            # 20 synthetic devices carry thousands of messages/s each here
            "OCCUPANCY_DEVICE_RATE_LIMIT_PER_S": "0",
            "OCCUPANCY_MQTT_FAST_PATH": FAST_PATH[0],
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
    try:
        # Every ingester is subscribed once it has counted a probe (a shared
        # subscription hands probes out in turn).
        deadline = time.monotonic() + 60
        probe = 0
        while min(_stats(db_url, cids).values()) == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the ingesters did not start")
            p = _client(f"probe-{uuid.uuid4().hex[:4]}")
            p.connect(host, port)
            p.loop_start()
            for _ in range(ingesters):
                probe += 1
                p.publish(
                    *_ours(root, 10**9 + probe, dt.datetime.now(dt.UTC).isoformat()),
                    qos=1,
                ).wait_for_publish(5)
            p.disconnect()
            p.loop_stop()
            time.sleep(0.3)
        base = sum(_stats(db_url, cids).values())
        start = [_proc_cpu_rss(pr.pid) for pr in procs]
        q: Any = mp.Queue()
        pub = mp.Process(target=_publisher, args=(host, port, root, kind, duration, q))
        t0 = time.perf_counter()
        pub.start()
        samples: list[tuple[float, float]] = []
        while pub.is_alive():
            samples.append(
                (
                    time.perf_counter() - t0,
                    sum(_proc_cpu_rss(pr.pid)[1] for pr in procs),
                )
            )
            time.sleep(1.0)
        published = q.get(timeout=60)
        pub.join()
        while sum(_stats(db_url, cids).values()) - base < published:
            if time.perf_counter() - t0 > duration + 300:
                raise RuntimeError("ingest did not finish")
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
        end = [_proc_cpu_rss(pr.pid) for pr in procs]
        shares = _stats(db_url, cids)
    finally:
        for pr in procs:
            pr.terminate()
        for pr in procs:
            pr.wait(timeout=30)
        _drop_sessions(host, port, cids)
    half = [s for s in samples if s[0] >= duration / 2]
    slope = 0.0
    if len(half) >= 2:
        xs, ys = [s[0] for s in half], [s[1] for s in half]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        den = sum((x - mx) ** 2 for x in xs) or 1.0
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den * 60
    cpu_s = [e[0] - s0[0] for s0, e in zip(start, end, strict=True)]
    return {
        "messages": published,
        "seconds": seconds,
        "rate": published / seconds,
        "cpu_pct": [100 * c / seconds for c in cpu_s],
        "us_per_msg": 1e6 * sum(cpu_s) / published,
        "share": [shares[c] for c in cids],
        "rss_start": sum(s0[1] for s0 in start),
        "rss_peak": max([sum(e[1] for e in end), *[s[1] for s in samples]]),
        "rss_end": sum(e[1] for e in end),
        "rss_slope_mb_min": slope,
        # RSS at every 10 % of the run [s, MB]: the memory timeline
        "rss_timeline": [samples[int(i * (len(samples) - 1) / 10)] for i in range(11)]
        if samples
        else [],
    }


def _topics(root: str, kind: str) -> list[str]:
    """The ingester's topic filters for a run of ``kind``."""
    if kind == "mix":
        return [f"{root}/#", *MIX_TOPICS]
    return [f"{root}/#"]


#: Topic filters of the other formats of the mix (fixed topics, not per run).
MIX_TOPICS = ("zigbee2mqtt/#", "+/binary_sensor/#", "tele/#", "v3/#", "home/#")


def _drop_sessions(host: str, port: int, client_ids: list[str]) -> None:
    """End the persistent sessions of stopped ingesters (clean start, no
    expiry): a session left subscribed to the mix's fixed topics would have the
    broker queue every later mix message for it too."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    for cid in client_ids:
        c = _client(cid)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 0
        c.connect(host, port, clean_start=True, properties=props)
        c.loop_start()
        time.sleep(0.2)
        c.disconnect()
        c.loop_stop()


def reference_ingester() -> None:
    """The minimal reference ingester (``--reference-ingester``, settings from
    the same environment as ``occupancy ingest``): paho's stock client, QoS 1
    acknowledged on receipt, no validation, no idempotency (a plain table
    without unique keys, like ``sensor_events``), 5000-row COPY; it counts what
    it committed in ``ingest_stats`` as the ingester does."""
    import json
    import queue

    env = os.environ
    db = env["OCCUPANCY_DATABASE_URL"]
    cid = env["OCCUPANCY_INGEST_CLIENT_ID"]
    topics = env["OCCUPANCY_INGEST_TOPICS"].split(",")
    hostport = env["OCCUPANCY_MQTT_URL"].split("//", 1)[1]
    host, port = hostport.rsplit(":", 1)
    conn = psycopg2.connect(db)
    with conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bench_reference_events "
            "(LIKE sensor_events INCLUDING DEFAULTS)"
        )
        cur.execute(
            "INSERT INTO ingest_stats (client_id) VALUES (%s) ON CONFLICT DO NOTHING",
            (cid,),
        )
    q: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=cid,
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    c.on_connect = lambda cl, u, f, rc, p: cl.subscribe([(t, 1) for t in topics])
    c.on_message = lambda cl, u, m: q.put((m.topic, bytes(m.payload)))
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    c.connect(host, int(port), clean_start=False, properties=props)
    c.loop_start()
    cols = "ts, device_id, space_id, kind, value, seq, ts_source, family, received_at"
    while True:
        batch = [q.get()]
        while len(batch) < 5000:
            try:
                batch.append(q.get_nowait())
            except queue.Empty:
                break
        now = dt.datetime.now(dt.UTC).isoformat()
        lines = []
        for topic, payload in batch:
            o = json.loads(payload)
            lines.append(
                f"{o['ts']}\t{topic.rsplit('/', 2)[-2]}\t\\N\tpresence\t"
                f"{1 if o['occupied'] else 0}\t{o['seq']}\tdevice\tref\t{now}\n"
            )
        with conn, conn.cursor() as cur:
            cur.copy_expert(
                f"COPY bench_reference_events ({cols}) FROM STDIN",
                io.StringIO("".join(lines)),
            )
            cur.execute(
                "UPDATE ingest_stats SET received = received + %s, "
                "accepted = accepted + %s WHERE client_id = %s",
                (len(batch), len(batch), cid),
            )


def lone_latency(db_url: str, host: str, port: int, n: int = 10) -> list[float]:
    """Seconds from a lone message's PUBACK to its row committed, ``n`` times
    with a pause between (the ingester idle), default settings."""
    root = f"bench/{uuid.uuid4().hex[:6]}/occupancy"
    cid = f"bench-lone-{uuid.uuid4().hex[:4]}"
    env = {
        **os.environ,
        "OCCUPANCY_DATABASE_URL": db_url,
        "OCCUPANCY_MQTT_URL": f"mqtt://{host}:{port}",
        "OCCUPANCY_TOPIC_ROOT": root,
        "OCCUPANCY_INGEST_TOPICS": ",".join(_topics(root, "ours")),
        "OCCUPANCY_INGEST_CLIENT_ID": cid,
        "OCCUPANCY_PSEUDONYM_KEY": KEY,
        "OCCUPANCY_METRICS_PORT": "0",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest", "--group", ""],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    out: list[float] = []
    p = _client(f"lone-{uuid.uuid4().hex[:4]}")
    p.connect(host, port)
    p.loop_start()
    try:
        deadline = time.monotonic() + 60
        i = 0
        while len(out) < n:
            if time.monotonic() > deadline:
                raise RuntimeError("lone messages not committed")
            before = _stats(db_url, [cid])[cid]
            i += 1
            p.publish(
                *_ours(root, 2 * 10**9 + i, dt.datetime.now(dt.UTC).isoformat()),
                qos=1,
            ).wait_for_publish(5)
            t0 = time.perf_counter()
            while _stats(db_url, [cid])[cid] == before and time.perf_counter() - t0 < 5:
                time.sleep(0.005)
            if _stats(db_url, [cid])[cid] > before and i > 1:  # first: start-up
                out.append(time.perf_counter() - t0)
            time.sleep(0.5)
    finally:
        p.disconnect()
        p.loop_stop()
        proc.terminate()
        proc.wait(timeout=30)
        _drop_sessions(host, port, [cid])
    return out


def run_drain(
    db_url: str,
    host: str,
    port: int,
    n: int,
    kind: str = "ours",
    extra_env: dict[str, str] | None = None,
    reference: bool = False,
) -> dict[str, float]:
    """The ingester's own capacity, without a publisher competing: ``n`` messages
    (``kind``: our format or the mix) are queued in its persistent session while
    it is stopped, then it is started and timed until all are committed.
    ``reference``: the minimal reference ingester instead (our format only)."""
    root = f"bench/{uuid.uuid4().hex[:6]}/occupancy"
    cid = f"bench-drain-{kind}-{uuid.uuid4().hex[:4]}"
    env = {
        **os.environ,
        "OCCUPANCY_DATABASE_URL": db_url,
        "OCCUPANCY_MQTT_URL": f"mqtt://{host}:{port}",
        "OCCUPANCY_TOPIC_ROOT": root,
        "OCCUPANCY_INGEST_TOPICS": ",".join(_topics(root, kind)),
        "OCCUPANCY_INGEST_CLIENT_ID": cid,
        "OCCUPANCY_PSEUDONYM_KEY": KEY,
        "OCCUPANCY_METRICS_PORT": "0",
        "OCCUPANCY_BATCH_SIZE": "1000",
        "OCCUPANCY_DEVICE_RATE_LIMIT_PER_S": "0",
        "OCCUPANCY_MQTT_FAST_PATH": FAST_PATH[0],
        **(extra_env or {}),
    }
    cmd = [sys.executable, "-m", "ingest", "--group", ""]
    if reference:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--reference-ingester"]

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    proc = start()  # creates the session and its subscription
    try:
        deadline = time.monotonic() + 60
        while _stats(db_url, [cid])[cid] == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the ingester did not start")
            p = _client(f"probe-{uuid.uuid4().hex[:4]}")
            p.connect(host, port)
            p.loop_start()
            probe = 10**9 + int(time.monotonic() * 1000) % 10**6
            p.publish(
                *_ours(root, probe, dt.datetime.now(dt.UTC).isoformat()), qos=1
            ).wait_for_publish(5)
            p.disconnect()
            p.loop_stop()
            time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    base = _stats(db_url, [cid])[cid]
    q: Any = mp.Queue()
    pub = mp.Process(target=_publisher_n, args=(host, port, root, n, q, kind))
    pub.start()
    pub.join()
    t0 = time.perf_counter()
    proc = start()
    try:
        while _stats(db_url, [cid])[cid] - base < n:
            if time.perf_counter() - t0 > 600:
                raise RuntimeError("the backlog was not drained")
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
        cpu = _proc_cpu_rss(proc.pid)[0]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        _drop_sessions(host, port, [cid])
    return {"rate": n / seconds, "seconds": seconds, "us_per_msg": 1e6 * cpu / n}


def batch_compare(db_url: str, port: int, n: int) -> None:
    """The minimal reference ingester and ours with fixed and adaptive batches,
    each draining the same backlog, back to back; ratios to the reference."""
    runs: tuple[tuple[str, dict[str, str], bool], ...] = (
        ("reference (no validation, acks on receipt, 5000-row COPY)", {}, True),
        ("ours, batch_size 1000 fixed", {"OCCUPANCY_BATCH_SIZE_MAX": "1000"}, False),
        ("ours, batch_size 1000 adaptive (default)", {}, False),
        (
            "ours, batch_size 5000 fixed",
            {"OCCUPANCY_BATCH_SIZE": "5000", "OCCUPANCY_BATCH_SIZE_MAX": "5000"},
            False,
        ),
    )
    ref = 0.0
    for label, env, reference in runs:
        d = run_drain(db_url, "127.0.0.1", port, n, "ours", env, reference)
        ref = ref or d["rate"]
        print(
            f"drain {n:,} ({label}): {d['rate']:,.0f} msg/s = "
            f"{100 * d['rate'] / ref:.0f} % of the reference; "
            f"{d['us_per_msg']:.0f} µs CPU/message; load {os.getloadavg()[0]:.1f}"
        )
    lat = sorted(lone_latency(db_url, "127.0.0.1", port))
    print(
        f"lone message, PUBACK to commit (default settings): median "
        f"{1000 * lat[len(lat) // 2]:.0f} ms, max {1000 * lat[-1]:.0f} ms "
        f"over {len(lat)}"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (1 min)")


def _rate_runs(db_url: str, port: int, args: argparse.Namespace) -> None:
    from ingest_rate import portfolio, report, run_rate  # benchmarks/ingest_rate.py

    desks, devices, rate = portfolio()
    print(
        f"portfolio: 20 buildings, {desks:,} desks, {devices:,} devices; busiest "
        f"minute of all at once: {rate} msg/s"
    )
    for n in args.ingesters or [3]:
        r = run_rate(db_url, "127.0.0.1", port, n, args.rate or rate, args.duration)
        print(report(r), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--duration",
        type=float,
        default=60.0,
        help="Seconds of publishing per ingest run.",
    )
    ap.add_argument("--broker-messages", type=int, default=100_000)
    ap.add_argument("--copy-rows", type=int, default=200_000)
    ap.add_argument("--skip-mix", action="store_true")
    ap.add_argument(
        "--skip-ours", action="store_true", help="Run only the mix of formats."
    )
    ap.add_argument(
        "--drain",
        type=int,
        default=50_000,
        metavar="N",
        help="Also time the ingester draining N messages queued in its session "
        "(its capacity without a publisher competing; 0: skip).",
    )
    ap.add_argument(
        "--only-drain",
        action="store_true",
        help="Skip the end-to-end runs (ceilings and --drain only).",
    )
    ap.add_argument(
        "--ingesters",
        type=int,
        nargs="+",
        metavar="N",
        help="Run N ingester processes on one shared subscription ($share/<group>/...) "
        "against the same load, for each N given (e.g. --ingesters 1 2 3).",
    )
    ap.add_argument(
        "--rate",
        type=float,
        metavar="N",
        help="Only the rate run (benchmarks/ingest_rate.py): --ingesters K (default "
        "3) on one shared subscription under a steady N msg/s ('portfolio': the "
        "busiest minute of the 20-building portfolio, all at once) for --duration "
        "s; per-ingester share, publish-to-commit latency p50/p95, loss, duplicates.",
    )
    ap.add_argument(
        "--batch-compare",
        action="store_true",
        help="Only the batch comparison: drain --drain messages with the minimal "
        "reference ingester, ours at batch_size 1000 fixed, 1000 adaptive (the "
        "default) and 5000 fixed, in turn, plus the latency of a lone message.",
    )
    ap.add_argument(
        "--stock-paho",
        action="store_true",
        help="Run our ingester with stock paho (setting mqtt_fast_path off).",
    )
    ap.add_argument("--reference-ingester", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.reference_ingester:
        reference_ingester()
        return
    if args.stock_paho:
        FAST_PATH[0] = "false"
    print(f"ingester: mqtt_fast_path={FAST_PATH[0]}")

    sys.path.insert(0, str(ROOT))
    from app.services import MosquittoServer, PostgresServer, free_port
    from occupancy.building import load_building
    from occupancy.db import connect, migrate
    from occupancy.metadata import load_site

    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    os.chmod(tmp, 0o755)
    pg = PostgresServer(tmp / "pg", free_port(), fsync=False)
    mq = MosquittoServer(tmp / "mq", free_port())
    print(
        "starting private PostgreSQL + TimescaleDB and Mosquitto ...", file=sys.stderr
    )
    pg.start()
    mq.start()
    try:
        conn = connect(pg.url())
        migrate(conn)
        load_site(conn, load_building(ROOT / "examples" / "office.yaml"))
        conn.close()
        _mix_devices(pg.url())
        if args.rate is not None:
            _rate_runs(pg.url(), mq.port, args)
            return
        print(
            f"cores: {os.cpu_count()} (shared by publisher, broker, ingester, database)"
        )
        rates = {}
        for label, proto in (
            ("MQTT 3.1.1", MQTTProtocolVersion.MQTTv311),
            ("MQTT 5", MQTTProtocolVersion.MQTTv5),
        ):
            rates[label], pub_rate = broker_ceiling(
                "127.0.0.1", mq.port, args.broker_messages, proto
            )
            print(
                f"broker alone (paho publisher → Mosquitto → paho subscriber, "
                f"QoS 1, subscriber {label}): {rates[label]:,.0f} msg/s "
                f"(publisher {pub_rate:,.0f} msg/s)"
            )
        broker = max(rates.values())
        if args.batch_compare:
            batch_compare(pg.url(), mq.port, args.drain)
            return
        print(f"broker-alone ceiling (the higher): {broker:,.0f} msg/s")
        copy = copy_ceiling(pg.url(), args.copy_rows)
        print(f"COPY alone into the hypertable:               {copy:,.0f} rows/s")
        kinds = ([] if args.skip_ours else ["ours"]) + (
            [] if args.skip_mix else ["mix"]
        )
        for kind in kinds if args.drain else []:
            d = run_drain(pg.url(), "127.0.0.1", mq.port, args.drain, kind)
            print(
                f"ingester alone, draining {args.drain:,} queued messages ({kind}): "
                f"{d['rate']:,.0f} msg/s ({d['seconds']:.1f} s, start-up included), "
                f"{d['us_per_msg']:.0f} µs CPU/message"
            )
        counts = args.ingesters or [1]
        for kind in [] if args.only_drain else kinds:
            for n in counts:
                # A fresh group per run: the persistent sessions of earlier runs'
                # ingesters stay members of their group and would get a share.
                group = f"bench{uuid.uuid4().hex[:6]}" if args.ingesters else ""
                print(
                    f"ingest {kind}, {n} ingester(s): publishing for "
                    f"{args.duration:.0f} s ...",
                    file=sys.stderr,
                )
                r = run_ingest(
                    pg.url(), "127.0.0.1", mq.port, kind, args.duration, n, group
                )
                cpu = " + ".join(f"{c:.0f}" for c in r["cpu_pct"])
                print(
                    f"ingest end to end ({kind:4s}, {n} ingester{'s' if n > 1 else ''}"
                    f"{' on $share/' + group if group else ''}): {r['rate']:,.0f} msg/s "
                    f"committed ({r['messages']:,} messages in {r['seconds']:.1f} s) = "
                    f"{100 * r['rate'] / broker:.0f} % of broker alone; ingester CPU "
                    f"{cpu} % of a core = {r['us_per_msg']:.0f} µs CPU/message; "
                    f"messages per ingester {r['share']}; RSS {r['rss_start']:.0f} → "
                    f"peak {r['rss_peak']:.0f} → end {r['rss_end']:.0f} MB, "
                    f"slope {r['rss_slope_mb_min']:+.1f} MB/min over the second half"
                )
                print(
                    "  ingester RSS over the run: "
                    + ", ".join(f"{s:.0f} s {m:.0f} MB" for s, m in r["rss_timeline"])
                )
        print(f"load average at the end: {os.getloadavg()[0]:.2f} (1 min)")
    finally:
        mq.stop()
        pg.stop(mode="immediate")
        # the database of a run is gigabytes: do not leave it behind
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
