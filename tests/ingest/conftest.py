"""Fixtures of the ingester tests; helpers live in ingest_helpers.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parent))


@pytest.fixture()
def topic_root(topic_prefix: str) -> str:
    """Our format's topic root for this test (contains slashes on purpose)."""
    return f"{topic_prefix}/occupancy"


@pytest.fixture(autouse=True)
def _forget_discovered_entities() -> None:
    """Home Assistant entities learnt from discovery messages live in the
    decoder's process-wide registry (as in a running ingester); a test that
    fed discovery must not make another test's topics look discovered."""
    from ingest.decoders import homeassistant

    homeassistant.ENTITIES.clear()
