"""Benchmark: generate (not publish) N days of the example building.

    .venv/bin/python benchmarks/simulate.py [--days 90] [--seed 1]

Prints seconds, messages (events) per second and peak memory. The issue's
target: 90 days in under 30 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import resource
import time
from pathlib import Path

from occupancy.building import load_building
from sensors_sim import load_scenario, simulate

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", default="2026-01-05")
    args = ap.parse_args()
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


if __name__ == "__main__":
    main()
