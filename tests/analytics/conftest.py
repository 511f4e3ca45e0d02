"""Fixtures of the analytics tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture()
def dask_scheduler() -> Iterator[str]:
    """The address of a Dask ``LocalCluster`` with two single-thread workers
    (in this process), closed after the test."""
    from distributed import LocalCluster

    untyped: Any = LocalCluster  # distributed has no type hints
    with untyped(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        scheduler_port=0,
    ) as cluster:
        yield str(cluster.scheduler_address)
