"""The lock files pin what pyproject.toml asks for (scripts/lock.sh), and
scripts/setup.sh refuses a stale one."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

from conftest import ROOT

_spec = importlib.util.spec_from_file_location(
    "lockhash", ROOT / "scripts" / "lockhash.py"
)
assert _spec and _spec.loader
lockhash = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lockhash)


def test_lock_files_are_current() -> None:
    want = lockhash.deps_hash(ROOT / "pyproject.toml")
    for name in ("requirements.lock", "requirements-test.lock"):
        first = (ROOT / name).read_text().splitlines()[0]
        assert first.startswith(f"# pyproject-deps-sha256: {want}"), (
            f"{name} is stale: run bash scripts/lock.sh"
        )
        pins = re.findall(r"^([a-z0-9_.-]+)==\S+", (ROOT / name).read_text(), re.M)
        assert {"dash", "paho-mqtt", "psycopg2-binary"} <= set(pins)


def test_setup_refuses_a_stale_lock(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "requirements.lock", "requirements-test.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "lockhash.py", tmp_path / "scripts")
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    # Only the lock check: no system packages, no venv.
    check = setup[setup.index("# The lock files pin") : setup.index("stamp=")]
    script = tmp_path / "check.sh"
    script.write_text("set -euo pipefail\nPY=python3\n" + check)
    ok = subprocess.run(
        ["bash", str(script)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stderr
    text = (tmp_path / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(
        text.replace('  "pyyaml>=6.0",', '  "pyyaml>=6.0",\n  "rich>=13",')
    )
    stale = subprocess.run(
        ["bash", str(script)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert stale.returncode == 3
    assert "requirements.lock is stale" in stale.stderr
    assert "bash scripts/lock.sh" in stale.stderr
