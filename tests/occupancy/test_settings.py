from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from occupancy.settings import (
    SETTINGS,
    SettingError,
    load_settings,
    mask_url,
    parse_mqtt_url,
)


def test_every_setting_is_documented_and_typed() -> None:
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names)), "a setting is declared twice"
    for spec in SETTINGS:
        assert len(spec.help) > 20, f"{spec.name} has no real help text"
        assert spec.type in {
            "str",
            "int",
            "float",
            "bool",
            "path",
            "list",
            "days",
            "dates",
        }


def test_precedence_argument_over_environment_over_default() -> None:
    env = {"OCCUPANCY_K_ANONYMITY": "7", "OCCUPANCY_SITE": "ams"}
    s = load_settings({"k_anonymity": 9}, environ=env)
    assert s.k_anonymity == 9 and s.sources["k_anonymity"] == "argument"
    assert s.site == "ams" and s.sources["site"] == "environment"
    assert s.timezone == "Europe/Amsterdam" and s.sources["timezone"] == "default"
    assert load_settings(environ=env).k_anonymity == 7


def test_settings_are_frozen() -> None:
    s = load_settings(environ={})
    with pytest.raises(AttributeError):
        s.site = "x"  # type: ignore[misc]


def test_bad_values_name_the_setting() -> None:
    with pytest.raises(SettingError, match="k_anonymity.*OCCUPANCY_K_ANONYMITY"):
        load_settings(environ={"OCCUPANCY_K_ANONYMITY": "five"})
    with pytest.raises(SettingError, match="working_hours"):
        load_settings({"working_hours": "18:00-08:00"}, environ={})
    with pytest.raises(SettingError, match="day"):
        load_settings({"working_days": "mon,funday"}, environ={})
    with pytest.raises(SettingError, match="unknown setting"):
        load_settings({"nope": 1}, environ={})


def test_derived_values() -> None:
    s = load_settings(
        {"working_days": "fri,mon", "holidays": "2026-12-25, 2026-12-26"}, environ={}
    )
    assert s.working_weekdays == (0, 4)
    assert s.holidays == (dt.date(2026, 12, 25), dt.date(2026, 12, 26))
    assert s.working_hours_range == (dt.time(8), dt.time(18))
    assert s.effective_database_url.endswith(":55432/occupancy")


def test_mqtt_url_parsing_and_masking() -> None:
    m = parse_mqtt_url("mqtt://dev%40x:s3cr%3At@broker.local:1884")
    assert (m.host, m.port, m.username, m.password, m.tls) == (
        "broker.local",
        1884,
        "dev@x",
        "s3cr:t",
        False,
    )
    assert parse_mqtt_url("mqtts://h").port == 8883
    assert "s3cr" not in m.url()
    with pytest.raises(SettingError, match="scheme"):
        parse_mqtt_url("http://h:1")
    assert mask_url("postgresql://u:pw@h:5/db") == "postgresql://u:****@h:5/db"


def test_settings_command_masks_secrets() -> None:
    env = {
        "OCCUPANCY_DATABASE_URL": "postgresql://u:topsecret@h/db",
        "OCCUPANCY_PSEUDONYM_KEY": "k3y-value",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-m", "occupancy", "settings"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "topsecret" not in out and "k3y-value" not in out
    assert "postgresql://u:****@h/db" in out
    for spec in SETTINGS:
        assert f"{spec.name} = " in out


def test_empty_environment_value() -> None:
    # Empty turns a text setting off; for a number or a secret it means unset.
    s = load_settings(
        environ={
            "OCCUPANCY_INGEST_CLIENT_ID": "",
            "OCCUPANCY_K_ANONYMITY": "",
            "OCCUPANCY_DATABASE_URL": "",
        }
    )
    assert s.ingest_client_id == ""
    assert s.sources["ingest_client_id"] == "environment"
    assert s.k_anonymity == 5 and s.database_url is None


def test_settings_are_typed_fields_of_one_frozen_object() -> None:
    # Each declared field is a setting, and its resolved default has the
    # declared type (the annotation is what mypy checks `settings.<name>` against).
    import dataclasses
    from pathlib import Path

    from occupancy.settings import Settings

    declared = [f.name for f in dataclasses.fields(Settings) if f.name != "sources"]
    assert declared == [s.name for s in SETTINGS]
    s = load_settings(environ={})
    python_type = {
        "str": str,
        "int": int,
        "float": float,
        "bool": bool,
        "path": Path,
        "list": tuple,
        "days": tuple,
        "dates": tuple,
    }
    for spec in SETTINGS:
        value = getattr(s, spec.name)
        if spec.default is None:
            assert value is None, spec.name
        else:
            assert isinstance(value, python_type[spec.type]), spec.name
    assert s.working_days == ("mon", "tue", "wed", "thu", "fri")
    assert s.replace(batch_size="7").batch_size == 7
    with pytest.raises(AttributeError):
        s.no_such_setting  # type: ignore[attr-defined]  # noqa: B018
