"""The right-sizing rule of docs/metrics.md on hand-worked boundary cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.rooms import room_sizing, sizing_verdict

# seats, p90, recommended = ceil(p90 * 1.2), verdict (worked by hand in docs/metrics.md)
CASES = [
    (14, 10, 12, "too_big"),  # 2 seats beyond 12: too big (the example)
    (13, 10, 12, "right"),  # 1 spare seat is not worth moving walls
    (12, 10, 12, "right"),
    (10, 10, 12, "right"),  # full at p90 but nobody stands
    (9, 10, 12, "too_small"),  # fewer seats than the p90
    (12, 8, 10, "too_big"),  # 9.6 rounds up to 10; 12 - 10 = 2
    (6, 4, 5, "right"),  # 4.8 -> 5; one spare seat
    (4, 1, 2, "too_big"),  # 1.2 -> 2; a 4-seat room for one person
    (2, 1, 2, "right"),
]


@pytest.mark.parametrize(("seats", "p90", "rec", "verdict"), CASES)
def test_sizing_verdict_boundaries(
    seats: int, p90: int, rec: int, verdict: str
) -> None:
    got_rec, got_verdict = sizing_verdict(np.array([p90]), np.array([seats]))
    assert (int(got_rec[0]), str(got_verdict[0])) == (rec, verdict)


def test_room_sizing_uses_the_rule() -> None:
    # Room a: 14 seats; 10 people 3600 s, 4 people 400 s -> p90 = 10 (3600/4000
    # of the time at <= 10 reaches 0.9 only at 10). Room b: 9 seats, same counts.
    hc = pd.DataFrame(
        {
            "day": pd.Timestamp("2026-03-02").date(),
            "space_id": ["a", "a", "b", "b"],
            "people": [4, 10, 4, 10],
            "seconds": [400.0, 3600.0, 400.0, 3600.0],
        }
    )
    rooms = pd.DataFrame(
        {
            "space_id": ["a", "b"],
            "kind": "meeting_room",
            "capacity": [14, 9],
            "zone_id": "z",
            "floor_id": "f",
        }
    )
    got = room_sizing(hc, rooms).set_index("space_id")
    assert got.loc["a", "p90_people"] == 10 and got.loc["b", "p90_people"] == 10
    assert got["recommended_seats"].tolist() == [12, 12]
    assert got["seats_change"].tolist() == [-2, 3]
    assert got["verdict"].tolist() == ["too_big", "too_small"]
