"""Write the imported building document as YAML, with what the facility
manager must still do and what the import could not classify."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from occupancy.plans.layout import ImportSummary

logger = logging.getLogger(__name__)

__all__ = ["building_yaml", "write_building"]


class _FlowPoints(yaml.SafeDumper):
    """Polygons as ``[[x, y], ...]`` on one line: readable and diff-friendly."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = bool(data) and all(not isinstance(v, (dict, list)) for v in data)
    if data and all(isinstance(v, list) for v in data):
        flow = all(not isinstance(c, (dict, list)) for v in data for c in v)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_FlowPoints.add_representer(list, _represent_list)


def building_yaml(
    doc: dict[str, object], summary: ImportSummary, source: str, notes: list[str]
) -> str:
    head = [
        f"# Imported from {source} by `occupancy building import`.",
        f"# {summary}.",
        "# To do before `occupancy building load`: add the departments, make each",
        "# department's home zone kind: neighbourhood with its department, check",
        "# room kinds and capacities (guessed from name and area), add devices.",
        *[f"# Note: {n}" for n in notes],
        "",
    ]
    body = yaml.dump(
        doc, Dumper=_FlowPoints, sort_keys=False, allow_unicode=True, width=100
    )
    tail = []
    if summary.unclassified:
        tail = [
            "",
            "# Not imported (could not be classified as zone, room or desk):",
            *[f"#   - {u}" for u in summary.unclassified],
        ]
    return "\n".join(head) + body + "\n".join(tail) + ("\n" if tail else "")


def write_building(
    path: Path,
    doc: dict[str, object],
    summary: ImportSummary,
    source: str,
    notes: list[str],
) -> None:
    path.write_text(building_yaml(doc, summary, source, notes), "utf-8")
