"""The paho fast path is used only on a tested paho-mqtt release, and
pyproject pins exactly that range (issue #14: exact tested version ranges,
stock behaviour as the fallback)."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Any

from paho.mqtt.enums import CallbackAPIVersion

from ingest import fastclient
from ingest.fastclient import FastClient, StockClient, make_client

ROOT = Path(__file__).resolve().parents[2]
KW = {"callback_api_version": CallbackAPIVersion.VERSION2, "client_id": "v-test"}


def test_the_installed_paho_is_a_tested_release() -> None:
    assert fastclient._paho_version() in fastclient.TESTED_PAHO
    assert fastclient.SUPPORTED


def test_pyproject_pins_the_tested_paho_range() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    (lo_major, lo_minor), (hi_major, hi_minor) = (
        fastclient.TESTED_PAHO[0],
        fastclient.TESTED_PAHO[-1],
    )
    assert f"paho-mqtt>={lo_major}.{lo_minor},<{hi_major}.{hi_minor + 1}" in deps


def test_make_client_fast_on_a_tested_paho_stock_otherwise() -> None:
    fast, stock = make_client(True, **KW), make_client(False, **KW)
    assert type(fast) is FastClient
    assert type(stock) is StockClient


def test_an_untested_paho_falls_back_to_stock(monkeypatch: Any, caplog: Any) -> None:
    monkeypatch.setattr(fastclient, "SUPPORTED", False)
    monkeypatch.setattr(fastclient, "_paho_version", lambda: (9, 9))
    with caplog.at_level(logging.WARNING, logger="ingest.fastclient"):
        client = make_client(True, **KW)
    assert type(client) is StockClient
    assert any("9.9 is not a tested release" in r.getMessage() for r in caplog.records)
