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
