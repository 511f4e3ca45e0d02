"""The ``value_template`` shapes of Home Assistant discovery configs that can be
read without a template engine (and without running anyone's Jinja).

* a value lookup: ``{{ value_json.occupancy }}``, ``{{ value_json['occupied'] }}``,
  nested ``{{ value_json.sensor.motion }}``, an index ``{{ value_json.zones[0] }}``,
  with at most a case or type filter (``| lower``, ``| int``...);
* an if/else between two words, as Shelly, Tasmota and hand-written configs
  use: ``{% if value_json.motion == true %}ON{% else %}OFF{% endif %}``,
  ``{%if value_json.event=='L'%}ON{%else%}OFF{%endif%}``,
  ``{{ 'ON' if value_json.occupied else 'OFF' }}`` (``==``/``!=`` a literal:
  ``true``/``false``, a number or a quoted string; no operator: truthiness).

Anything else is not read (the caller refuses it, naming the template).
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

logger = logging.getLogger(__name__)

__all__ = ["Template", "evaluate", "parse"]

_PATH = r"value_json((?:\.\w+|\[\s*'[^']+'\s*\]|\[\s*\"[^\"]+\"\s*\]|\[\d+\])+)"
_LIT = r"(true|false|True|False|-?\d+(?:\.\d+)?|'[^']*'|\"[^\"]*\")"
_FILTER = r"(?:\|\s*(?:lower|upper|string|int|float|trim)\s*)?"
_COND = rf"{_PATH}\s*(?:(==|!=)\s*{_LIT})?"
_LOOKUP = re.compile(rf"^\{{\{{\s*{_PATH}\s*{_FILTER}\}}\}}$")
_IF = re.compile(
    rf"^\{{%-?\s*if\s+{_COND}\s*-?%\}}\s*([\w-]*)\s*"
    rf"\{{%-?\s*else\s*-?%\}}\s*([\w-]*)\s*\{{%-?\s*endif\s*-?%\}}$"
)
_INLINE = re.compile(
    rf"^\{{\{{\s*['\"]([\w-]*)['\"]\s+if\s+{_COND}\s+else\s+['\"]([\w-]*)['\"]\s*\}}\}}$"
)
_STEP = re.compile(r"\.(\w+)|\[\s*'([^']+)'\s*\]|\[\s*\"([^\"]+)\"\s*\]|\[(\d+)\]")


@dataclass(frozen=True)
class Template:
    """A readable template: the path into ``value_json``, and for an if/else
    the comparison and the two words it yields."""

    path: tuple[str | int, ...]
    op: str | None = None
    literal: object = None
    then: str | None = None
    other: str | None = None


class Missing(LookupError):
    """The path is not in the message."""


def _steps(text: str) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for m in _STEP.finditer(text):
        name, single, double, index = m.groups()
        out.append(int(index) if index is not None else name or single or double)
    return tuple(out)


def _literal(text: str | None) -> object:
    if text is None:
        return None
    if text in ("true", "True"):
        return True
    if text in ("false", "False"):
        return False
    if text[0] in "'\"":
        return text[1:-1]
    return float(text)


@functools.lru_cache(maxsize=1024)
def parse(template: str) -> Template | None:
    """The template as a :class:`Template`, or ``None`` when it is not one of
    the readable shapes."""
    t = template.strip()
    m = _LOOKUP.match(t)
    if m:
        return Template(_steps(m.group(1)))
    m = _IF.match(t)
    if m:
        path, op, lit, then, other = m.groups()
        return Template(_steps(path), op, _literal(lit), then, other)
    m = _INLINE.match(t)
    if m:
        then, path, op, lit, other = m.groups()
        return Template(_steps(path), op, _literal(lit), then, other)
    return None


def evaluate(template: Template, obj: object) -> object:
    """The template's value for the JSON ``obj`` (raises :class:`Missing`)."""
    value = obj
    for step in template.path:
        if isinstance(step, int) and isinstance(value, list) and step < len(value):
            value = value[step]
        elif isinstance(step, str) and isinstance(value, dict) and step in value:
            value = value[step]
        else:
            raise Missing(".".join(map(str, template.path)))
    if template.then is None:
        return value
    if template.op is None:
        cond = bool(value)
    else:
        same = value == template.literal  # Python's (and Jinja's): 1 == true
        cond = same if template.op == "==" else not same
    return template.then if cond else template.other
