"""Benchmark the simulator: generation, and publishing through a real broker.

Generation (default): simulate N days of the example building, print seconds,
messages (events) per second and peak memory. The issue's target: 90 days in
under 30 s.

    .venv/bin/python benchmarks/simulate.py [--days 90] [--seed 1]

Publishing (``--publish N``): start a private Mosquitto on a free port under a
temporary directory, simulate one day, and publish its first N messages with
QoS 1 in backfill mode (as fast as PUBACKs allow), twice: with no subscriber,
and with a plain paho subscriber (QoS 1, in its own process) that must receive
them all. Prints messages/s for each.

    .venv/bin/python benchmarks/simulate.py --publish 200000 [--window 1000]

The machine's cores are shared: note ``uptime`` beside the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import multiprocessing as mp
import os
import resource
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from app.services import MosquittoServer, free_port
from occupancy.building import load_building
from sensors_sim import load_scenario, simulate
from sensors_sim.publish import publish

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent


def _generate(args: argparse.Namespace) -> None:
    site = load_building(ROOT / "examples" / "office.yaml")
    sc = load_scenario(None)
    t = time.perf_counter()
    result = simulate(site, sc, dt.date.fromisoformat(args.start), args.days, args.seed)
    seconds = time.perf_counter() - t
    n = len(result.messages)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"days:          {args.days}")
    print(f"messages:      {n}")
    print(f"intervals:     {len(result.truth['intervals'])}")
    print(f"seconds:       {seconds:.1f}")
    print(f"events/s:      {n / seconds:,.0f}")
    print(f"peak memory:   {peak_mb:,.0f} MB")
    print(f"load average:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _subscriber(port: int, topic: str, expect: int, out: mp.Queue[float]) -> None:
    """Count QoS 1 messages on ``topic`` until ``expect`` arrived; put the
    seconds from the first to the last message (or -received on timeout)."""
    state = {"n": 0, "t0": 0.0, "t1": 0.0}

    def on_connect(c: mqtt.Client, u: object, f: object, rc: object, p: object) -> None:
        c.subscribe(topic, qos=1)

    def on_subscribe(*_: object) -> None:
        out.put(0.0)  # subscribed

    def on_message(c: mqtt.Client, u: object, msg: mqtt.MQTTMessage) -> None:
        if state["n"] == 0:
            state["t0"] = time.monotonic()
        state["n"] += 1
        if state["n"] >= expect:
            state["t1"] = time.monotonic()
            c.disconnect()

    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-sub")
    c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message
    c.connect("127.0.0.1", port)
    deadline = time.monotonic() + 600
    while state["t1"] == 0.0 and time.monotonic() < deadline:
        c.loop(timeout=0.5)
    out.put(state["t1"] - state["t0"] if state["t1"] else -float(state["n"]))


def _publish(args: argparse.Namespace) -> None:
    site = load_building(ROOT / "examples" / "office.yaml")
    root = f"bench{os.getpid()}/occupancy"
    result = simulate(
        site, load_scenario(None), dt.date(2026, 3, 3), 1, args.seed, topic_root=root
    )
    msgs = result.messages
    # no retained messages: a benchmark must not leave state in the broker
    msgs = msgs[~msgs["retain"]].head(args.publish).reset_index(drop=True)
    n = len(msgs)
    print(f"messages:      {n} (of one simulated day, QoS 1, window {args.window})")
    with tempfile.TemporaryDirectory(prefix="simbench-") as tmp:
        Path(tmp).chmod(0o711)  # mosquitto (running as its own user) enters it
        server = MosquittoServer(Path(tmp) / "mosquitto", free_port())
        server.start()
        try:
            url = server.url()
            print(f"load average:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            st = publish(msgs, url, backfill=True, progress=False, window=args.window)
            print(f"no subscriber: {st.rate:,.0f} msg/s ({st.seconds:.1f} s)")
            ctx = mp.get_context("spawn")
            q: mp.Queue[float] = ctx.Queue()
            sub = ctx.Process(target=_subscriber, args=(server.port, f"{root}/#", n, q))
            sub.start()
            q.get(timeout=30)  # subscribed
            st = publish(msgs, url, backfill=True, progress=False, window=args.window)
            got = q.get(timeout=600)
            sub.join(10)
            print(f"publisher:     {st.rate:,.0f} msg/s with a subscriber")
            if got > 0:
                print(f"subscriber:    {n / got:,.0f} msg/s received (all {n})")
            else:
                print(f"subscriber:    timed out after {-got:.0f} of {n}")
            print(f"load average:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        finally:
            server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", default="2026-01-05")
    ap.add_argument("--publish", type=int, default=0, metavar="N")
    ap.add_argument("--window", type=int, default=1000)
    args = ap.parse_args()
    if args.publish:
        _publish(args)
    else:
        _generate(args)


if __name__ == "__main__":
    main()
