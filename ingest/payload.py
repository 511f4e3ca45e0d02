"""Defensive payload parsing: size, UTF-8, NUL, JSON, NaN/Infinity, huge numbers,
nesting depth. Each failure is a :class:`Rejection` naming what was wrong."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from occupancy.events import Rejection

logger = logging.getLogger(__name__)

__all__ = ["as_bool", "as_number", "parse_json", "parse_text"]

#: Integers with more digits than this are refused (no device sends them).
MAX_INT_DIGITS = 24


class _Refused(ValueError):
    def __init__(self, rejection: Rejection) -> None:
        super().__init__(str(rejection))
        self.rejection = rejection


def _constant(name: str) -> Any:
    raise _Refused(Rejection("non_finite_number", f"JSON contains {name}"))


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(Rejection("huge_number", f"integer with {len(text)} digits"))
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(Rejection("huge_number", f"number {text[:30]} overflows"))
    return value


def parse_text(payload: bytes, max_bytes: int) -> str | Rejection:
    """The payload as text: refused when too large, not UTF-8 or containing NUL."""
    if len(payload) > max_bytes:
        return Rejection("too_large", f"{len(payload)} bytes > {max_bytes}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection("invalid_utf8", f"byte {exc.start}: {exc.reason}")
    if "\x00" in text:
        return Rejection("nul_character", f"NUL at character {text.index(chr(0))}")
    return text


def parse_json(payload: bytes, max_bytes: int, max_depth: int = 32) -> object:
    """Parsed JSON, or a :class:`Rejection` (``too_large``, ``invalid_utf8``,
    ``nul_character``, ``bad_json``, ``non_finite_number``, ``huge_number``,
    ``too_deep``)."""
    text = parse_text(payload, max_bytes)
    if isinstance(text, Rejection):
        return text
    # Depth is at most the number of openers; scan only when that could exceed it.
    opened = text.count("{") + text.count("[")
    depth = _max_depth(text) if opened > max_depth else opened
    if depth > max_depth:
        return Rejection("too_deep", f"nesting depth {depth} > {max_depth}")
    try:
        return _DECODER.decode(text)
    except _Refused as exc:
        return exc.rejection
    except (ValueError, RecursionError) as exc:
        return Rejection("bad_json", str(exc)[:200])


#: One decoder for every message (``json.loads`` with hooks builds one per call).
_DECODER = json.JSONDecoder(
    parse_constant=_constant, parse_int=_int, parse_float=_float
)


def _max_depth(text: str) -> int:
    """Bracket nesting depth outside strings (cheap, no recursion)."""
    if "[" not in text and "{" not in text:
        return 0
    depth = best = 0
    in_str = escape = False
    for ch in text:
        if in_str:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth -= 1
    return best


_TRUE = frozenset({"true", "on", "1", "yes", "occupied", "detected", "online"})
_FALSE = frozenset(
    {"false", "off", "0", "no", "vacant", "free", "unoccupied", "clear", "offline"}
)


def as_bool(value: object) -> bool | Rejection | None:
    """A boolean from a JSON value: true/false, 0/1, "ON"/"OFF", "true"/"false";
    ``None`` stays ``None`` (unknown)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        if low in ("", "null", "none", "unknown", "nan"):
            return None
    return Rejection("bad_value", f"not a boolean: {str(value)[:40]!r}")


def as_number(value: object) -> float | None:
    """A finite number from a JSON number or numeric string, else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None
