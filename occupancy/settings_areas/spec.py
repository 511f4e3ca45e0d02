"""The machinery of :mod:`occupancy.settings`: how a setting is declared
(``_S``), its kinds, how raw values parse and show, and MQTT URLs."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    Any,
    SupportsFloat,
    SupportsIndex,
    SupportsInt,
    TypeVar,
    dataclass_transform,
)
from urllib.parse import quote, unquote, urlsplit

ENV_PREFIX = "OCCUPANCY_"
_T = TypeVar("_T")

#: A comma-separated list of text values (env ``a,b``), as a tuple.
Topics = tuple[str, ...]
#: Weekdays mon..sun (env ``mon,tue``), in week order.
Days = tuple[str, ...]
#: ISO dates (env ``2026-12-25,2026-12-26``).
Dates = tuple[dt.date, ...]

#: A setting's value, as :func:`convert` parses it (``None``: not set).
SettingValue = str | int | float | bool | Path | Topics | Dates | None

#: Annotation of a field (without ``| None``) -> the kind its raw values parse as.
KINDS = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "Path": "path",
    "Topics": "list",
    "Days": "days",
    "Dates": "dates",
}


class SettingError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


@dataclass(frozen=True)
class SettingSpec:
    name: str
    type: str  # str | int | float | bool | path | list | days | dates
    default: Any
    help: str
    secret: bool = False

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


def _S(default: Any, help: str, *, secret: bool = False) -> Any:
    """Declare a setting: its raw default (as it could be written in the
    environment; ``None``: not set), its help text, whether it is a secret.
    The value itself has no dataclass default: :func:`load_settings` resolves
    every one."""
    return field(metadata={"default": default, "help": help, "secret": secret})


@dataclass_transform(frozen_default=True, field_specifiers=(_S, field))
def _settings_class(cls: type[_T]) -> type[_T]:
    """``@dataclass(frozen=True)`` that type checkers know takes ``_S`` fields."""
    return dataclass(frozen=True)(cls)


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _not_convertible(raw: object, kind: str) -> TypeError:
    # The TypeError int(), float() or Path() raise for such a value.
    return TypeError(f"{kind}() argument cannot be {type(raw).__name__!r}")


def _int(raw: object) -> int:
    if isinstance(raw, (str, bytes, bytearray, SupportsInt, SupportsIndex)):
        return int(raw)
    raise _not_convertible(raw, "int")


def _float(raw: object) -> float:
    if isinstance(raw, (str, bytes, bytearray, SupportsFloat, SupportsIndex)):
        return float(raw)
    raise _not_convertible(raw, "float")


def _path(raw: object) -> Path:
    if isinstance(raw, (str, os.PathLike)):
        return Path(raw)
    raise _not_convertible(raw, "Path")


def convert(spec: SettingSpec, raw: object) -> SettingValue:
    """``raw`` (an argument, an environment variable's text or the default)
    as the value of ``spec``'s kind; :class:`SettingError` naming the setting
    when it does not parse."""
    if raw is None:
        return None
    try:
        if spec.type == "int":
            return _int(raw)
        if spec.type == "float":
            return _float(raw)
        if spec.type == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"not a boolean: {raw!r}")
        if spec.type == "path":
            return _path(raw)
        if spec.type == "list":
            if isinstance(raw, (list, tuple)):
                return tuple(str(x) for x in raw)
            return tuple(x.strip() for x in str(raw).split(",") if x.strip())
        if spec.type == "days":
            items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
            days = tuple(str(d).strip().lower()[:3] for d in items if str(d).strip())
            bad = [d for d in days if d not in DAYS]
            if bad:
                raise ValueError(f"unknown day(s) {bad}; use mon..sun")
            return tuple(sorted(set(days), key=DAYS.index))
        if spec.type == "dates":
            items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
            return tuple(
                d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d).strip())
                for d in items
                if str(d).strip()
            )
        return str(raw)
    except ValueError as exc:
        raise SettingError(
            f"setting {spec.name} ({spec.env}): invalid value {raw!r}: {exc}"
        ) from exc


def show(spec: SettingSpec, value: object) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, tuple):
        text = ",".join(str(v) for v in value)
    else:
        text = str(value)
    if spec.secret:
        if "://" in text:
            return mask_url(text)
        return "********"
    return text


def mask_url(url: str) -> str:
    """The URL with its password replaced by ****."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":****@", 1)
    return parts._replace(netloc=netloc).geturl()


def empty_allowed(spec: SettingSpec) -> bool:
    """An empty environment value sets a text setting that has a non-empty
    default to "" (e.g. OCCUPANCY_INGEST_GROUP= turns shared subscriptions off);
    for every other setting it means "not set"."""
    return spec.type in ("str", "list", "dates") and bool(spec.default)


@dataclass(frozen=True)
class MqttUrl:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    def url(self, *, masked: bool = True) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        auth = ""
        if self.username:
            pw = "****" if masked else quote(self.password or "", safe="")
            auth = (
                quote(self.username, safe="")
                + (f":{pw}" if self.password else "")
                + "@"
            )
        return f"{scheme}://{auth}{self.host}:{self.port}"


def parse_mqtt_url(url: str) -> MqttUrl:
    """Parse ``mqtt://user:pass@host:port`` (or ``mqtts://``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise SettingError(
            f"MQTT URL {mask_url(url)!r}: scheme must be mqtt:// or mqtts://"
        )
    tls = parts.scheme in ("mqtts", "ssl")
    if not parts.hostname:
        raise SettingError(f"MQTT URL {mask_url(url)!r} has no host")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise SettingError(f"MQTT URL {mask_url(url)!r}: bad port") from exc
    return MqttUrl(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )
