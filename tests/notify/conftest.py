"""Notify fixtures: the demo-like week of tests/dashboard, seeded and analysed
by the real pipeline."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

_DASH_CONFTEST = Path(__file__).resolve().parent.parent / "dashboard" / "conftest.py"


def _load_seed() -> Any:
    spec = importlib.util.spec_from_file_location(
        "_dashboard_seed_notify", _DASH_CONFTEST
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


SEED = _load_seed()
WEEK = SEED.WEEK


@pytest.fixture(scope="module")
def demo_db(database_url: str) -> dict[str, Any]:
    info = SEED.seed_demo(database_url)
    return {**info, "url": database_url, "week": WEEK}
