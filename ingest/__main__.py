"""``python -m ingest [OPTIONS]`` = ``occupancy ingest [OPTIONS]`` (subprocess tests)."""

from __future__ import annotations

import sys

from app.cli import main

if __name__ == "__main__":
    main(prog_name="occupancy", args=["ingest", *sys.argv[1:]])
