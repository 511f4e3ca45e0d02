"""The co-location compute gives the same frames whether the sightings come
with text columns or categorical ones (as analytics.db_io.read_sightings now
returns them: categories in order of appearance, NULL zones as NaN), and
sorted_unique is np.unique."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.coloc_codes import ranks
from analytics.colocation import colocation_daily, department_presence
from analytics.groupsum import sorted_unique


def _sightings(rng: np.random.Generator, n: int) -> pd.DataFrame:
    zones = np.array(["z-b", "lounge", "z-a", None, "meet-1"], dtype=object)
    badges = np.array([f"b{i:03d}" for i in rng.permutation(60)], dtype=object)
    ts = pd.Timestamp("2026-01-05 07:00", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 2 * 86400, n), unit="s"
    )
    return pd.DataFrame(
        {
            "ts": ts,
            "zone_id": zones[rng.integers(0, len(zones), n)],
            "badge": badges[rng.integers(0, len(badges), n)],
        }
    )


def _register() -> pd.DataFrame:
    # b050..b059 are not registered: their sightings are ignored.
    return pd.DataFrame(
        {
            "badge": [f"b{i:03d}" for i in range(50)],
            "department_id": [("hr", "it", "sales", "ops")[i % 4] for i in range(50)],
        }
    )


ZONES = pd.DataFrame(
    {
        "zone_id": ["z-a", "z-b", "lounge", "meet-1"],
        "kind": ["neighbourhood", "neighbourhood", "shared", "meeting"],
    }
)


@pytest.mark.parametrize("seed", [0, 1])
def test_categorical_sightings_give_the_same_presence_and_counts(seed: int) -> None:
    text = _sightings(np.random.default_rng(seed), 5000)
    cat = text.assign(
        zone_id=pd.Categorical(
            text["zone_id"], categories=pd.unique(text["zone_id"].dropna())
        ),
        badge=pd.Categorical(text["badge"], categories=pd.unique(text["badge"])),
    )
    assert list(cat["badge"].cat.categories) != sorted(cat["badge"].cat.categories)
    a = department_presence(text, _register(), ZONES, 900)
    b = department_presence(cat, _register(), ZONES, 900)
    assert len(a) > 100
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    a["day"] = pd.to_datetime(a["bucket"] * 900, unit="s").dt.date
    b["day"] = pd.to_datetime(b["bucket"] * 900, unit="s").dt.date
    ca, cb = colocation_daily(a), colocation_daily(b)
    assert ca.keys() == cb.keys()
    for name in ca:
        pd.testing.assert_frame_equal(ca[name], cb[name], check_exact=True)


def test_ranks_of_a_categorical_are_those_of_its_text() -> None:
    values = pd.Series(["b", "a", "c", "a", "b"])
    cat = pd.Series(pd.Categorical(values, categories=["c", "x", "b", "a"]))
    codes, names = ranks(cat)
    want_codes, want_names = ranks(values)
    np.testing.assert_array_equal(codes, want_codes)
    np.testing.assert_array_equal(names, want_names)
    with_nan = pd.Series(pd.Categorical(["b", None, "a"]))
    np.testing.assert_array_equal(ranks(with_nan)[0], ranks(with_nan.astype(object))[0])


def test_sorted_unique_is_np_unique() -> None:
    rng = np.random.default_rng(3)
    for key in (
        rng.integers(0, 2**60, 10_000),
        rng.integers(0, 50, 10_000),
        np.zeros(0, dtype=np.int64),
        np.array([7]),
    ):
        np.testing.assert_array_equal(sorted_unique(key), np.unique(key))
