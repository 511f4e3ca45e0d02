"""The image has every package the CLI loads (a missing COPY would only show
when `occupancy dashboard` or `occupancy alerts run` starts in production)."""

from __future__ import annotations

import re
import tomllib

from conftest import ROOT


def test_dockerfile_copies_every_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.rstrip("*") for p in include}
    copied = set(
        re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), re.M)
    )
    assert {"api", "notify"} <= packages
    assert packages <= copied, f"Dockerfile lacks COPY for {sorted(packages - copied)}"
