"""The shape of a report: its ordered, documented columns
(:data:`analytics.reports.REPORTS` lists every report)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Column", "ReportSpec"]


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    unit: str = ""


@dataclass(frozen=True)
class ReportSpec:
    """A report: ordered columns (per level when the level changes them)."""

    name: str
    description: str
    columns: tuple[Column, ...]
    sort: tuple[str, ...]
    levels: tuple[str, ...] = ()
    default_level: str | None = None
    level_columns: dict[str, tuple[Column, ...]] = field(default_factory=dict)

    def columns_for(self, level: str | None) -> tuple[Column, ...]:
        if level and level in self.level_columns:
            return self.level_columns[level]
        return self.columns

    def names(self, level: str | None = None) -> list[str]:
        return [c.name for c in self.columns_for(level)]
