"""`occupancy report weekly` on the seeded week: the PDF (read back with
pdftotext) holds the figures `occupancy export` gives, in English and Dutch,
with the charts as images; and it can be mailed (real SMTP server)."""

from __future__ import annotations

import email
import io
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from app.cli import main
from app.services import free_port
from notify.report_data import parse_week

from .conftest import WEEK

pytestmark = pytest.mark.integration


def _run(url: str, *args: str, env: dict[str, str] | None = None) -> Any:
    res = CliRunner().invoke(
        main, list(args), env={"OCCUPANCY_DATABASE_URL": url, **(env or {})}
    )
    assert res.exit_code == 0, res.output
    return res


def _export(url: str, report: str, *args: str) -> pd.DataFrame:
    res = _run(url, "export", report, "--from", WEEK[0], "--to", WEEK[1], *args)
    return pd.read_csv(io.StringIO(res.stdout))


def _text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    return out.stdout


def test_parse_week() -> None:
    import datetime as dt

    assert parse_week("2026-W45") == dt.date(2026, 11, 2)
    assert parse_week("2026-11-05") == dt.date(2026, 11, 2)
    assert parse_week(None, today=dt.date(2026, 11, 11)) == dt.date(2026, 11, 2)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_weekly_report_holds_the_export_figures(
    demo_db: dict[str, Any], tmp_path: Path, lang: str
) -> None:
    assert shutil.which("pdftotext"), "poppler-utils (scripts/install-system.sh)"
    url = demo_db["url"]
    pdf = tmp_path / f"report-{lang}.pdf"
    _run(url, "report", "weekly", "--building", "main", "--week", "2026-W45", "-o", str(pdf),
         "--language", lang)  # fmt: skip
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = _text(pdf)
    num = (
        (lambda v, d=1: f"{v:.{d}f}")
        if lang == "en"
        else (lambda v, d=1: f"{v:.{d}f}".replace(".", ","))
    )
    b = _export(
        url, "utilization", "--level", "floor", "--floor", "f0"
    )  # sanity: floors exist
    assert len(b)
    head = _export(url, "utilization", "--level", "building")
    row = head[head["level_id"] == "main"].iloc[0]
    assert "Main building" in text and "2026-W45" in text
    assert ("Headline figures" if lang == "en" else "Kerncijfers") in text
    for col in ("time_used_pct", "utilization_pct", "peak_people", "avg_daily_peak"):
        assert num(row[col]) in text, (col, num(row[col]))
    spaces = _export(url, "utilization", "--level", "space")
    spaces = spaces[spaces["time_used_pct"].notna()].sort_values(
        ["time_used_pct", "level_id"], ascending=[False, True]
    )
    top = spaces.iloc[0]
    line = next(x for x in text.splitlines() if top["level_id"] in x)
    assert num(top["time_used_pct"]) in line and num(top["utilization_pct"]) in line
    rooms = _export(url, "rooms")
    resize = rooms[rooms["verdict"].isin(["too_big", "too_small"])]
    for r in resize.head(3).itertuples():
        line = next(x for x in text.splitlines() if r.space_id in x)
        assert (
            f" {r.seats} " in f" {line} " and f" {r.recommended_seats} " in f" {line} "
        )
    coloc = _export(url, "colocation")
    shown = coloc[
        (coloc["source"] == "all")
        & ~coloc["suppressed"]
        & (coloc["department_a"] < coloc["department_b"])
    ]
    for r in shown.head(2).itertuples():
        assert f"{r.department_a} × {r.department_b}" in text and num(r.lift, 2) in text
    assert "legal" not in text  # fewer than k = 5 people: suppressed, as in the export
    devices = _export(url, "devices")
    assert str(len(devices)) in text
    images = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True,
                            text=True, timeout=60).stdout.splitlines()[2:]  # fmt: skip
    assert len(images) >= 2  # the floor chart and the hour profile
    sample = os.environ.get("OCCUPANCY_REPORT_SAMPLE_DIR")
    if sample:  # how docs/sample-weekly-report*.pdf were made
        shutil.copy(pdf, Path(sample) / f"sample-weekly-report-{lang}.pdf")


def test_report_errors_and_mail(demo_db: dict[str, Any], tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    url = demo_db["url"]
    env = {"OCCUPANCY_DATABASE_URL": url}
    bad = CliRunner().invoke(
        main,
        ["report", "weekly", "--building", "annex", "-o", str(tmp_path / "x.pdf")],
        env=env,
    )
    assert bad.exit_code != 0 and "'annex'" in bad.output and "main" in bad.output
    bad = CliRunner().invoke(main, ["report", "weekly", "--building", "main", "--week", "2026-W60",
                                    "-o", str(tmp_path / "x.pdf")], env=env)  # fmt: skip
    assert bad.exit_code != 0 and "2026-W60" in bad.output

    got: list[Any] = []

    class Inbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            got.append(email.message_from_bytes(envelope.content))
            return "250 OK"

    port = free_port()
    ctl = Controller(Inbox(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        pdf = tmp_path / "mailed.pdf"
        _run(url, "report", "weekly", "--building", "main", "--week", WEEK[0], "-o", str(pdf),
             "--mail-to", "fm@example.org", env={"OCCUPANCY_SMTP_URL": f"smtp://127.0.0.1:{port}"})  # fmt: skip
    finally:
        ctl.stop()
    assert (
        len(got) == 1
        and got[0]["To"] == "fm@example.org"
        and "2026-W45" in got[0]["Subject"]
    )
    parts = [p for p in got[0].walk() if p.get_content_type() == "application/pdf"]
    assert parts and parts[0].get_payload(decode=True) == pdf.read_bytes()
