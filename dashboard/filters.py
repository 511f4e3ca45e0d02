"""The view filters and their place in the URL query string.

A view is shared as a link: ``?site=hq&building=main&floor=f1&zone=&department=it
&from=2026-11-02&to=2026-11-29&wh=1``. Parsing is forgiving (a bad value falls
back to the default and is logged) because links get edited by hand.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from urllib.parse import parse_qs, urlencode

from analytics.api import Filters

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_DAYS", "Filters", "ViewFilters", "parse_query", "to_query"]

#: Length of the default period, ending yesterday [days].
DEFAULT_DAYS = 28
#: Longest range a view may ask for unless the setting says otherwise [days]
#: (setting dashboard_max_range_days): bounds what one request can make the
#: database read.
MAX_RANGE_DAYS = 400

_TEXT_KEYS = ("site", "building", "floor", "zone", "department")


#: The dashboard's view is the analytics :class:`~analytics.api.Filters` (one
#: filter type); the name stays for the pages.
ViewFilters = Filters


def _date(raw: str | None, key: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        logger.info("ignoring bad %s=%r in the URL", key, raw)
        return None


def parse_query(
    search: str | None,
    today: dt.date,
    *,
    site: str | None = None,
    max_days: int = MAX_RANGE_DAYS,
) -> ViewFilters:
    """Filters from a query string (with or without the leading ``?``).

    Missing dates give the :data:`DEFAULT_DAYS` days ending yesterday; a range
    given backwards is swapped; a range longer than ``max_days`` is cut to the
    ``max_days`` days ending at its last day; ``site`` is the default site.
    """
    text = (search or "").lstrip("?")
    qs = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    values: dict[str, Any] = {k: (qs.get(k) or None) for k in _TEXT_KEYS}
    if values["site"] is None:
        values["site"] = site
    start = _date(qs.get("from"), "from")
    end = _date(qs.get("to"), "to")
    if end is None:
        end = today - dt.timedelta(days=1)
    if start is None:
        start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        start, end = end, start
    if (end - start).days + 1 > max_days:
        logger.info("date range %s..%s cut to %d days", start, end, max_days)
        start = end - dt.timedelta(days=max(1, max_days) - 1)
    wh = (qs.get("wh") or "1").strip().lower() not in ("0", "false", "no", "off")
    return ViewFilters(**values, start=start, end=end, working_hours_only=wh)


def to_query(filters: ViewFilters) -> str:
    """The query string (with ``?``) that :func:`parse_query` turns back into
    ``filters``; empty filters are left out so links stay short."""
    pairs: list[tuple[str, str]] = []
    for key in _TEXT_KEYS:
        value = getattr(filters, key)
        if value:
            pairs.append((key, str(value)))
    if filters.start is not None:
        pairs.append(("from", filters.start.isoformat()))
    if filters.end is not None:
        pairs.append(("to", filters.end.isoformat()))
    pairs.append(("wh", "1" if filters.working_hours_only else "0"))
    return "?" + urlencode(pairs)


FILTER_KEYS = (*_TEXT_KEYS, "from", "to", "wh")


def extra_params(search: str | None) -> dict[str, str]:
    """Query keys that are not filters (e.g. ``space`` of the space history page)."""
    text = (search or "").lstrip("?")
    return {
        k: v[-1]
        for k, v in parse_qs(text, keep_blank_values=True).items()
        if k not in FILTER_KEYS
    }


def with_query(search: str | None, **extra: str | None) -> str:
    """``search`` with keys added or replaced (``None`` removes a key)."""
    text = (search or "").lstrip("?")
    qs = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    for key, value in extra.items():
        if value is None:
            qs.pop(key, None)
        else:
            qs[key] = value
    return "?" + urlencode(list(qs.items())) if qs else ""
