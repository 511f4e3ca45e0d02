"""The badge bitmaps of analytics.coloc_bits hold exactly each cell's badges,
whether the per-badge rows come sorted (as colocation_daily gives them) or
not (hand-built frames)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import coloc_bits

KEYS = ["day", "zone_id", "source", "department_a", "department_b"]


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    pick = lambda values, size: np.array(values, dtype=object)[  # noqa: E731
        rng.integers(0, len(values), size)
    ]
    return pd.DataFrame(
        {
            "day": pick(list(pd.date_range("2026-01-05", periods=3).date), n),
            "zone_id": pick(["z-a", "z-b", "lounge"], n),
            "source": pick(["shared", "meeting"], n),
            "department_a": pick(["hr", "it", "sales"], n),
            "department_b": pick(["hr", "it", "sales"], n),
            "badge": pick([f"b{i:03d}" for i in range(70)], n),
        }
    ).drop_duplicates()


def _decode(bits: pd.Series, names: dict[int, str]) -> list[set[str]]:
    out = []
    for text in bits.astype(str):
        assert text.startswith("X")
        flags = np.unpackbits(np.frombuffer(bytes.fromhex(text[1:]), dtype=np.uint8))
        out.append({names[int(i)] for i in np.flatnonzero(flags)})
    return out


@pytest.mark.parametrize("ordered", [True, False])
def test_bitmaps_hold_each_cells_badges(ordered: bool) -> None:
    rng = np.random.default_rng(3)
    frame = _frame(rng, 3000)
    frame = (
        frame.sort_values([*KEYS, "badge"])
        if ordered
        else frame.sample(frac=1, random_state=4)
    ).reset_index(drop=True)
    # Codes with gaps and not in badge order (a dictionary grown over time).
    badges = sorted(frame["badge"].unique())
    perm = rng.permutation(200)[: len(badges)]
    codes = {b: int(c) for b, c in zip(badges, perm, strict=True)}
    got = coloc_bits._pack(frame, codes)
    assert len(got) == len(frame[KEYS].drop_duplicates())
    names = {c: b for b, c in codes.items()}
    got["badges"] = _decode(got["bits"], names)
    want = frame.groupby(KEYS)["badge"].agg(set).rename("want").reset_index()
    both = got.merge(want, on=KEYS, how="outer", indicator=True)
    assert (both["_merge"] == "both").all()
    assert (both["badges"] == both["want"]).all()
    # As wide as the largest code, in whole bytes.
    assert (
        got["bits"]
        .astype(str)
        .str.len()
        .eq(1 + 2 * (max(codes.values()) // 8 + 1))
        .all()
    )


def test_decoded_names_only_bitmap_tables() -> None:
    with pytest.raises(ValueError, match="analytics_coloc_badges"):
        coloc_bits.decoded("analytics_coloc_badges")


_OLD_ROWS = {
    # per-badge table of migrations 0204/0207 -> (bitmap table, key columns)
    "analytics_coloc_badges": (
        "analytics_coloc_bits",
        "day, zone_id, source, department_a, department_b, badge",
    ),
    "analytics_coloc_badges_site": (  # site_id: migration 0209
        "analytics_coloc_bits_site",
        "day, source, department_a, department_b, site_id, badge",
    ),
    "analytics_coloc_week_badges": (
        "analytics_coloc_week_bits",
        "week, source, department_a, department_b, badge",
    ),
}


def test_migration_0210_converts_the_badge_rows(empty_database_url: str) -> None:
    """A database analysed before 0210: its per-badge rows become bitmaps
    holding exactly the same badges."""
    from occupancy.db import connect, list_migrations, migrate

    conn = connect(empty_database_url)
    migrate(conn)
    # Back to before 0210, with per-badge rows.
    with conn, conn.cursor() as cur:
        cur.execute(
            "DROP TABLE analytics_coloc_bits, analytics_coloc_bits_site,"
            " analytics_coloc_week_bits, analytics_badge_codes"
        )
        cur.execute("DELETE FROM schema_migrations WHERE version = 210")
        for table, (_bits, cols) in _OLD_ROWS.items():
            cur.execute(
                f"CREATE TABLE {table} ("
                + ", ".join(
                    f"{c} {'date' if c in ('day', 'week') else 'text'}"
                    for c in cols.split(", ")
                )
                + ")"
            )
        cur.execute(
            "INSERT INTO analytics_coloc_badges SELECT DISTINCT DATE '2026-01-05'"
            " + (i % 9), 'z' || (i % 4), 'shared', 'd' || (i % 3),"
            " 'd' || (i % 5 % 3), 'b' || (i * 7 % 1013)"
            " FROM generate_series(1, 20000) i"
        )
        # Zones z0, z1 in site a, z2, z3 in site b: a badge of both sites on
        # one day is a row per site.
        cur.execute(
            "INSERT INTO analytics_coloc_badges_site SELECT DISTINCT day, source,"
            " department_a, department_b,"
            " CASE WHEN zone_id IN ('z0', 'z1') THEN 'a' ELSE 'b' END, badge"
            " FROM analytics_coloc_badges"
        )
        cur.execute(
            "INSERT INTO analytics_coloc_week_badges SELECT DISTINCT"
            " DATE '2026-01-05', source, department_a, department_b, badge"
            " FROM analytics_coloc_badges"
        )
        for table in _OLD_ROWS:
            cur.execute(f"CREATE TABLE keep_{table} AS SELECT * FROM {table}")
    applied = migrate(conn)
    assert [m.version for m in applied] == [210]
    assert 210 in [m.version for m in list_migrations()]
    with conn, conn.cursor() as cur:
        for table, (bits, cols) in _OLD_ROWS.items():
            dec = coloc_bits.decoded(bits)
            cur.execute(f"SELECT count(*) FROM keep_{table}")
            n = cur.fetchone()[0]
            cur.execute(
                f"SELECT count(*) FROM ((SELECT {cols} FROM keep_{table}"
                f" EXCEPT ALL SELECT * FROM ({dec}) d)"
                f" UNION ALL (SELECT * FROM ({dec}) d"
                f" EXCEPT ALL SELECT {cols} FROM keep_{table})) x"
            )
            assert (n, cur.fetchone()[0]) == (n, 0), table
            assert n > 1000
    conn.close()
