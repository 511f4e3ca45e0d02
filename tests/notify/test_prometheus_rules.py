"""deploy/prometheus/alerts.yml: promtool accepts it, its unit tests pass, and
every metric it names is one the ingester really exposes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import ROOT

RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
PROMQL_WORDS = {"time", "sum", "by", "rate", "and", "or", "unless", "instance", "device",
                "humanizeDuration", "humanizePercentage"}  # fmt: skip


def _promtool() -> str:
    tool = shutil.which("promtool")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail(
                "promtool missing: scripts/install-system.sh installs prometheus"
            )
        pytest.skip("promtool not installed (Debian package prometheus)")
    return tool


def test_promtool_check_and_unit_tests() -> None:
    tool = _promtool()
    check = subprocess.run(
        [tool, "check", "rules", str(RULES)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 7 rules found" in check.stdout
    unit = subprocess.run([tool, "test", "rules", "alerts.test.yml"], cwd=RULES.parent,
                          check=False, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert unit.returncode == 0, unit.stdout + unit.stderr


def test_rules_use_only_metrics_the_ingester_exposes() -> None:
    from ingest.metrics import IngestStats

    stats = IngestStats()
    stats.device_last_seen["ds-x"] = 1.0
    exposed = set(re.findall(r"^# TYPE (\S+) ", stats.prometheus(), re.M))
    doc = yaml.safe_load(RULES.read_text())
    rules = [r for g in doc["groups"] for r in g["rules"]]
    assert len(rules) == 7
    for rule in rules:
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        names = set(re.findall(r"\b(occupancy_[a-z_]+)\b", rule["expr"]))
        assert names and names <= exposed, (rule["alert"], names - exposed)
