"""Live-state latency of the API: publish → visible in ``/api/v1/live``.

Starts a private PostgreSQL + TimescaleDB and Mosquitto, the real ingester
(in this process, default settings: batches, device_health every 5 s) and the
API (waitress), loads examples/office.yaml, keeps a background of heartbeats
from every desk sensor, and then ``--trials`` times: flips a desk's presence
with an MQTT publish (QoS 1) and polls the API every ``--poll-ms`` until the
desk shows the new state. Prints p50 / p95 / max latency and the load average.
Target: p95 ≤ 2 s.

    .venv/bin/python benchmarks/api.py
    .venv/bin/python benchmarks/api.py --trials 100 --background 400
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
]


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Background(threading.Thread):
    """Heartbeats of every desk sensor at ``rate`` messages per second."""

    def __init__(self, client: Any, devices: list[str], rate: float) -> None:
        super().__init__(daemon=True)
        self.client, self.devices, self.rate = client, devices, rate
        self.stop_event = threading.Event()
        self.sent = 0
        #: current presence per device: a heartbeat repeats it, as devices do
        self.state: dict[str, bool] = {}

    def run(self) -> None:
        seq = 10_000_000
        i = 0
        while not self.stop_event.is_set() and self.rate > 0:
            dev = self.devices[i % len(self.devices)]
            i += 1
            seq += 1
            body = {
                "ts": _iso(dt.datetime.now(dt.UTC)),
                "seq": seq,
                "occupied": self.state.get(dev, False),
            }
            self.client.publish(
                f"occupancy/hq/{dev}/heartbeat", json.dumps(body), qos=1
            )
            self.sent += 1
            time.sleep(1.0 / self.rate)


def _setup(tmp: Path, pg_port: int, mqtt_port: int) -> tuple[Any, Any, str, str]:
    from app.services import MosquittoServer, PostgresServer
    from occupancy.building import load_building
    from occupancy.db import connect, migrate
    from occupancy.metadata import load_site

    os.chmod(tmp, 0o755)
    pg = PostgresServer(tmp / "pg", pg_port, fsync=False)
    pg.start()
    broker = MosquittoServer(tmp / "mqtt", mqtt_port)
    broker.start()
    conn = connect(pg.url())
    migrate(conn)
    load_site(conn, load_building(ROOT / "examples" / "office.yaml"))
    conn.close()
    return pg, broker, pg.url(), broker.url()


def _measure(args: argparse.Namespace, db_url: str, mqtt_url: str) -> list[float]:
    import flask
    import paho.mqtt.client as mqtt
    import requests
    from waitress.server import create_server

    from api.app import register
    from api.tokens import create_token
    from ingest.service import Ingester
    from occupancy.db import connect, read_frame
    from occupancy.settings import load_settings

    settings = load_settings(
        {"database_url": db_url, "mqtt_url": mqtt_url, "pseudonym_key": "bench",
         "metrics_port": 0, "ingest_client_id": "bench-ingester"},
        environ={},
    )  # fmt: skip
    conn = connect(db_url)
    desks = read_frame(
        conn,
        "SELECT d.device_id, d.space_id, s.zone_id FROM devices d JOIN spaces s"
        " USING (space_id) WHERE d.kind = 'desk_sensor' ORDER BY d.device_id",
    )
    _, token = create_token(conn, "bench", ("read:live",))
    conn.close()
    ingester = Ingester(settings)
    ingester.start()
    root = flask.Flask("bench_api")
    register(root, settings)
    server = create_server(root, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    api_url = f"http://127.0.0.1:{server.effective_port}/api/v1/live"
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-devices")
    client.connect("127.0.0.1", int(mqtt_url.rsplit(":", 1)[1]))
    client.loop_start()
    bg = Background(client, list(desks["device_id"]), args.background)
    bg.start()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    latencies: list[float] = []
    try:
        time.sleep(2.0)
        for trial in range(args.trials):
            row = desks.iloc[(trial * 7) % len(desks)]
            occupied = trial % 2 == 0
            body = {
                "ts": _iso(dt.datetime.now(dt.UTC)),
                "seq": trial,
                "occupied": occupied,
            }
            want = "occupied" if occupied else "vacant"
            bg.state[row.device_id] = occupied
            t0 = time.perf_counter()
            client.publish(
                f"occupancy/hq/{row.device_id}/presence", json.dumps(body), qos=1
            )
            while True:
                r = session.get(
                    api_url, params={"zone": row.zone_id, "per_page": 1000}, timeout=10
                )
                state = {d["space_id"]: d["state"] for d in r.json()["data"]}
                if state.get(row.space_id) == want:
                    break
                if time.perf_counter() - t0 > 30:
                    raise SystemExit(
                        f"trial {trial}: {row.space_id} not {want} after 30 s"
                    )
                time.sleep(args.poll_ms / 1000)
            latencies.append(time.perf_counter() - t0)
            time.sleep(0.2)
    finally:
        bg.stop_event.set()
        bg.join()
        client.loop_stop()
        client.disconnect()
        server.close()
        ingester.stop()
    say(f"background heartbeats sent: {bg.sent}")
    return latencies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument("--poll-ms", type=float, default=50.0)
    ap.add_argument(
        "--background", type=float, default=200.0, help="heartbeats per second"
    )
    ap.add_argument(
        "--pg-port",
        type=int,
        default=int(os.environ.get("OCCUPANCY_PG_PORT", "0")) or None,
    )
    ap.add_argument(
        "--mqtt-port",
        type=int,
        default=int(os.environ.get("OCCUPANCY_MQTT_PORT", "0")) or None,
    )
    args = ap.parse_args()
    from app.services import free_port

    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    pg, broker, db_url, mqtt_url = _setup(
        tmp, args.pg_port or free_port(), args.mqtt_port or free_port()
    )
    try:
        lat = _measure(args, db_url, mqtt_url)
    finally:
        broker.stop()
        pg.stop(mode="immediate")
    lat_ms = sorted(1000 * x for x in lat)
    p95 = lat_ms[min(len(lat_ms) - 1, round(0.95 * (len(lat_ms) - 1)))]
    load = os.getloadavg()
    print(
        f"live latency publish → API over {len(lat_ms)} flips "
        f"(background {args.background:.0f} heartbeats/s, poll {args.poll_ms:.0f} ms):"
    )
    print(
        f"  p50 {statistics.median(lat_ms):.0f} ms   p95 {p95:.0f} ms   max {lat_ms[-1]:.0f} ms"
        f"   (target p95 ≤ 2000 ms: {'met' if p95 <= 2000 else 'NOT met'})"
    )
    print(
        f"  load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
