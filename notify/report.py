"""``occupancy report weekly``: the facility manager's Monday page as a PDF
(HTML + CSS rendered by WeasyPrint, charts drawn by matplotlib as PNG)."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd

from notify.report_data import ReportData
from notify.report_i18n import TEXT, fmt_num

logger = logging.getLogger(__name__)

__all__ = ["render_html", "write_pdf"]

_CSS = """
@page { size: A4; margin: 14mm 14mm 16mm 14mm;
        @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 9pt; color: #222; }
h1 { font-size: 16pt; margin: 0 0 2mm 0; } h2 { font-size: 11pt; margin: 5mm 0 2mm 0;
     border-bottom: 1px solid #999; }
.sub { color: #555; margin-bottom: 3mm; }
table { border-collapse: collapse; width: 100%; } td, th { padding: 1mm 2mm; text-align: left; }
th { background: #eef; } tr:nth-child(even) td { background: #f7f7f7; }
td.n { text-align: right; } td:first-child { white-space: nowrap; } .cols { display: flex; gap: 6mm; } .cols > div { flex: 1; }
img { width: 100%; max-height: 52mm; object-fit: contain; } .note { color: #666; font-size: 7.5pt; margin-top: 4mm; }
"""


def _esc(v: Any) -> str:
    return html.escape(
        "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    )


def _table(head: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    th = "".join(f"<th>{_esc(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r)
        ) + "</tr>"
        for r in rows
    )  # fmt: skip
    return f"<table><tr>{th}</tr>{body}</table>"


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _floor_chart(d: ReportData, t: dict[str, str]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    this = d.floors.set_index("level_id")["utilization_pct"]
    last = d.floors_last.set_index("level_id")["utilization_pct"].reindex(this.index)
    fig, ax = plt.subplots(figsize=(7, 1.9))
    x = range(len(this))
    ax.bar(
        [i - 0.2 for i in x],
        last.astype(float).fillna(0),
        0.4,
        label=t["last_week"],
        color="#bbb",
    )
    ax.bar(
        [i + 0.2 for i in x],
        this.astype(float).fillna(0),
        0.4,
        label=t["this_week"],
        color="#3060c0",
    )
    ax.axhspan(d.target_low, d.target_high, color="#9c9", alpha=0.25, label=t["target"])
    ax.set_xticks(list(x), [str(i) for i in this.index])
    ax.set_ylabel("%")
    ax.legend(fontsize=7, loc="upper right")
    return _png(fig)


def _profile_chart(d: ReportData, t: dict[str, str], lang: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = d.profile.pivot_table(index="weekday", columns="hour", values="people_mean")
    fig, ax = plt.subplots(figsize=(7, 1.9))
    im = ax.imshow(p.to_numpy(dtype=float), aspect="auto", cmap="Blues")
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] if lang == "en" else \
        ["ma", "di", "wo", "do", "vr", "za", "zo"]  # fmt: skip
    ax.set_yticks(range(len(p.index)), [days[int(i)] for i in p.index])
    ax.set_xticks(range(len(p.columns)), [f"{int(h)}" for h in p.columns], fontsize=7)
    fig.colorbar(im, ax=ax, label=t["people"])
    return _png(fig)


def _headline(d: ReportData, t: dict[str, str], lang: str) -> str:
    rows = []
    cur = d.headline.iloc[0] if len(d.headline) else pd.Series(dtype=object)
    prev = d.headline_last.iloc[0] if len(d.headline_last) else pd.Series(dtype=object)
    band = f"{fmt_num(d.target_low, lang, 0)}–{fmt_num(d.target_high, lang, 0)} %"
    for key in (
        "time_used_pct",
        "utilization_pct",
        "peak_people",
        "avg_daily_peak",
        "free_desks_at_peak",
    ):
        a, b = cur.get(key), prev.get(key)
        diff = float(a) - float(b) if pd.notna(a) and pd.notna(b) else float("nan")
        sign = "+" if diff > 0 else ""
        rows.append([t[key], fmt_num(a, lang), fmt_num(b, lang),
                     (sign + fmt_num(diff, lang)) if not math.isnan(diff) else t["none"],
                     band if key == "utilization_pct" else ""])  # fmt: skip
    rows.append([t["band"], t.get(str(cur.get("band")), t["none"]),
                 t.get(str(prev.get("band")), t["none"]), "", ""])  # fmt: skip
    head = [t["measure"], t["this_week"], t["last_week"], t["change"], t["target"]]
    return _table(head, rows, {1, 2, 3})


def _spaces(d: ReportData, t: dict[str, str], lang: str) -> tuple[str, str]:
    s = d.spaces[d.spaces["time_used_pct"].notna()]
    s = s.sort_values(["time_used_pct", "level_id"], ascending=[False, True])
    head = [t["space"], t["kind"], t["time_used_pct"], t["utilization_pct"]]

    def rows(frame: pd.DataFrame) -> list[list[str]]:
        return [[_esc(r.level_id), _esc(r.kind), fmt_num(r.time_used_pct, lang),
                 fmt_num(r.utilization_pct, lang)] for r in frame.itertuples()]  # fmt: skip

    emptiest = s.sort_values(["time_used_pct", "level_id"]).head(5)
    return _table(head, rows(s.head(5)), {2, 3}), _table(head, rows(emptiest), {2, 3})


def _rooms(d: ReportData, t: dict[str, str], lang: str) -> str:
    r = d.rooms[d.rooms["verdict"].isin(["too_big", "too_small"])].head(10)
    if r.empty:
        return f"<p>{_esc(t['no_rooms'])}</p>"
    rows = [[_esc(x.space_id), str(x.seats), fmt_num(x.p90_people, lang),
             str(x.recommended_seats), _esc(t.get(str(x.verdict), x.verdict))]
            for x in r.itertuples()]  # fmt: skip
    return _table(
        [t["room"], t["seats"], t["p90_people"], t["recommended_seats"], t["verdict"]],
        rows,
        {1, 2, 3},
    )


def _coloc(d: ReportData, t: dict[str, str], lang: str, k: int) -> str:
    c = d.colocation.head(5)
    if c.empty:
        return f"<p>{_esc(t['no_colocation'].replace('k', str(k), 1))}</p>"
    rows = [[_esc(f"{x.department_a} × {x.department_b}"), fmt_num(x.minutes, lang, 0),
             fmt_num(x.lift, lang, 2)] for x in c.itertuples()]  # fmt: skip
    return _table([t["departments"], t["minutes"], t["lift"]], rows, {1, 2})


def _devices(d: ReportData, t: dict[str, str], lang: str, battery_pct: float) -> str:
    dv = d.devices
    offline = int((dv["online"] == False).sum())  # noqa: E712 (None = unknown)
    low = int((pd.to_numeric(dv["battery_pct"], errors="coerce") < battery_pct).sum())
    nodata = int((pd.to_numeric(dv["no_data_pct"], errors="coerce") > 20).sum())
    rows = [[t["devices_total"], str(len(dv))], [t["offline"], str(offline)],
            [t["low_battery"].format(pct=battery_pct), str(low)], [t["no_data"], str(nodata)]]  # fmt: skip
    return _table([t["measure"], ""], rows, {1})


def render_html(d: ReportData, lang: str, *, k: int, battery_pct: float) -> str:
    """The report as one HTML page (images inline)."""
    if lang not in TEXT:
        raise ValueError(f"language {lang!r}: use en or nl")
    t = TEXT[lang]
    iso = d.monday.isocalendar()
    sunday = d.monday + dt.timedelta(days=6)
    busiest, emptiest = _spaces(d, t, lang)
    charts = ""
    if len(d.floors):
        charts += f'<h2>{t["floors"]}</h2><img src="{_floor_chart(d, t)}">'
    if len(d.profile):
        charts += f'<h2>{t["profile"]}</h2><img src="{_profile_chart(d, t, lang)}">'
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<style>{_CSS}</style></head><body>
<h1>{_esc(t["title"])}: {_esc(d.building_name)}</h1>
<div class="sub">{_esc(t["week"].format(week=f"{iso.year}-W{iso.week:02d}", first=d.monday, last=sunday))}</div>
<h2>{t["headline"]}</h2>{_headline(d, t, lang)}
{charts}
<h2>{t["busiest"]}</h2>{busiest}
<h2>{t["emptiest"]}</h2>{emptiest}
<h2>{t["rooms"]}</h2>{_rooms(d, t, lang)}
<div class="cols"><div><h2>{t["colocation"]}</h2>{_coloc(d, t, lang, k)}</div>
<div><h2>{t["devices"]}</h2>{_devices(d, t, lang, battery_pct)}</div></div>
<p class="note">{_esc(t["privacy"].format(k=k))}</p>
</body></html>"""


def write_pdf(page: str, out: Path) -> None:
    from weasyprint import HTML

    HTML(string=page).write_pdf(str(out))
