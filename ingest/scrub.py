"""No raw badge identifiers at rest: rejected messages are scrubbed first.

A rejected message is kept for diagnosis (``rejected_messages``: topic, up to
64 KiB of payload, reason, detail, device id). A BLE advertisement refused for
any reason would keep the beacon MACs that pseudonymisation exists to keep
out, in the payload and, for OpenMQTTGateway, in the topic. So before a
rejected row is written, every identifier shaped like a MAC (``45:E1:74:12:6E:00``,
``45-e1-…``, ``45e174126e00``, ``45e1.7412.6e00``), a UUID (dashed or 32 hex
digits: iBeacon, IRK) is replaced by its pseudonym, the same keyed hash the
ingester stores for a badge (:func:`occupancy.pseudonym.pseudonymise`), in
every message's topic, payload, detail and device id. A badge/BLE topic whose
payload is not text (raw bytes could hold a MAC in binary) and, with setting
``badge_payloads_stored = hash``, every badge/BLE payload, is not kept at all:
only ``sha256:<hex>`` of it, with the reason.
"""

from __future__ import annotations

import hashlib
import logging
import re

from occupancy.pseudonym import pseudonymise

logger = logging.getLogger(__name__)

__all__ = ["MODES", "Scrubber", "is_badge_topic"]

MODES = ("pseudonymised", "hash")

_H = "[0-9a-f]"
_IDENTIFIER = re.compile(
    rf"(?<![0-9a-f])(?:"
    rf"{_H}{{8}}-{_H}{{4}}-{_H}{{4}}-{_H}{{4}}-{_H}{{12}}"  # UUID
    rf"|{_H}{{32}}"  # UUID / IRK without dashes
    rf"|{_H}{{2}}([:-])(?:{_H}{{2}}\1){{4}}{_H}{{2}}"  # MAC with separators
    rf"|{_H}{{4}}\.{_H}{{4}}\.{_H}{{4}}"  # MAC, dotted
    rf"|{_H}{{12}}"  # MAC, bare
    rf")(?![0-9a-f])",
    re.IGNORECASE,
)
#: Topics of badge and BLE scanners: OpenMQTTGateway / Theengs (BTtoMQTT,
#: home/presence/...), ESPresense, our ``.../ble``, anything naming beacons.
_BADGE_TOPIC = re.compile(
    r"BTtoMQTT|espresense|theengs|beacon|(^|/)(ble|badges?)(/|$)|^home/presence/",
    re.IGNORECASE,
)


def is_badge_topic(topic: str) -> bool:
    """Whether ``topic`` is one a badge/BLE scanner publishes on."""
    return bool(_BADGE_TOPIC.search(topic))


class Scrubber:
    """Pseudonymises identifiers in rejected rows with ``key``; ``mode``
    ``hash`` keeps no badge/BLE payload (only its SHA-256)."""

    def __init__(self, key: str | None, mode: str = "pseudonymised") -> None:
        if mode not in MODES:
            raise ValueError(
                f"badge_payloads_stored must be one of {', '.join(MODES)}, not {mode!r}"
            )
        self.key = key
        self.mode = mode

    def _sub(self, match: re.Match[str]) -> str:
        if not self.key:
            return "<id>"
        # the spelling ingest pseudonymises (it strips ':' and '-'; '.' too here)
        return pseudonymise(self.key, match.group(0).replace(".", ""))

    def text(self, value: str) -> str:
        """``value`` with every identifier replaced by its pseudonym."""
        return _IDENTIFIER.sub(self._sub, value)

    def payload(self, topic: str, payload: bytes) -> bytes:
        """The payload to store for a rejected message on ``topic``."""
        badge = is_badge_topic(topic)
        if badge and self.mode == "hash":
            return _hashed(payload)
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            if badge:  # binary: a MAC could be there in any encoding
                return _hashed(payload)
            # latin-1 maps bytes 1:1, so the other bytes stay as they were
            return self.text(payload.decode("latin-1")).encode("latin-1")
        return self.text(text).encode("utf-8")


def _hashed(payload: bytes) -> bytes:
    return b"sha256:" + hashlib.sha256(payload).hexdigest().encode()
