"""What the row encoders know besides the message: the site's time zone
(local clocks in Pressac and Tasmota payloads) and the names a family puts in
its topics or bodies (defaults in each encoder)."""

from __future__ import annotations

import datetime as dt
from typing import Required, TypedDict

__all__ = ["EncodeContext", "EncodeOptions"]


class EncodeOptions(TypedDict, total=False):
    """Per-family names: TTN application and tenant, ChirpStack application,
    Pressac gateway."""

    ttn_app: str
    ttn_tenant: str
    chirpstack_app: str
    pressac_gateway: str


class EncodeContext(EncodeOptions, total=False):
    """:class:`EncodeOptions` and the site's time zone."""

    tz: Required[dt.tzinfo]
