"""The import-linter contract (.importlinter) covers every package, and the
house drawn in docs/architecture.md is the contract's (lint-imports itself runs
in scripts/test.sh)."""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _contract() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def test_every_package_is_in_the_contract() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        p.rstrip("*")
        for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    roots = set(_lines(_contract()["importlinter"]["root_packages"]))
    assert roots == packages
    assert set(pyproject["tool"]["mypy"]["packages"]) == packages
    layered = {
        name.strip()
        for layer in _lines(_contract()["importlinter:contract:layers"]["layers"])
        for name in layer.split("|")
    }
    assert layered == packages


def test_the_documented_layers_are_the_contracts() -> None:
    layers = _lines(_contract()["importlinter:contract:layers"]["layers"])
    documented = " > ".join(layers)
    doc = (ROOT / "docs" / "architecture.md").read_text()
    assert f"**layers** `{documented}`" in doc
    independent = _lines(_contract()["importlinter:contract:independence"]["modules"])
    match = re.search(r"\*\*independence\*\* of ([^:]+):", doc)
    assert match is not None
    assert re.findall(r"`(\w+)`", match.group(1)) == independent
