"""The device-id rule shared by the building file and the ingester.

A device id is whatever the device family uses: a zigbee2mqtt friendly name
(spaces, ``/`` for nested topics, any Unicode, even leading or trailing
spaces), an ESPresense id with ``:``, a TTN device id, a MAC in any case. It is
stored verbatim (only ever as a query parameter) and matched to the building
file exactly as written there. Only truly unusable ids are refused.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

__all__ = ["MAX_DEVICE_ID_CHARS", "device_id_problem"]

#: Longest device id accepted [characters] (zigbee2mqtt friendly names are
#: rarely above 60; MQTT topics themselves are capped at 512 by the ingester).
MAX_DEVICE_ID_CHARS = 200


def device_id_problem(device_id: str) -> str | None:
    """Why ``device_id`` cannot be used (empty, contains NUL, longer than
    :data:`MAX_DEVICE_ID_CHARS`), or ``None`` when it can. Spaces, ``/``, ``:``,
    Unicode and any case are fine."""
    if not device_id:
        return "is empty"
    if len(device_id) > MAX_DEVICE_ID_CHARS:
        return f"is {len(device_id)} characters long (at most {MAX_DEVICE_ID_CHARS})"
    if "\x00" in device_id:
        return f"contains NUL at position {device_id.index(chr(0))}"
    return None
