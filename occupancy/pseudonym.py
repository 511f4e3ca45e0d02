"""Pseudonymisation of badge identifiers with a keyed hash.

A raw badge id (BLE MAC, iBeacon uuid/major/minor, badge number) never reaches
the database: the ingester and the badge-register import both store
``pseudonymise(key, raw)`` instead. Without the key the pseudonym cannot be
reversed or recomputed from a guessed id (HMAC-SHA256). Rotating the key
(docs/privacy.md) re-imports the register and makes new pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["PseudonymKeyError", "normalise_badge_id", "pseudonymise"]


class PseudonymKeyError(ValueError):
    """No usable pseudonymisation key is configured."""


def normalise_badge_id(raw: str) -> str:
    """One spelling per badge: lower case, no separators (``:``, ``-``, spaces).

    ``45:E1:74:12:6E:00`` and ``45e174126e00`` are the same badge; an iBeacon is
    ``<uuid>/<major>/<minor>`` with the uuid normalised the same way."""
    parts = raw.strip().split("/")
    return "/".join("".join(ch for ch in p.lower() if ch not in ":- ") for p in parts)


def pseudonymise(key: str | bytes | None, raw_id: str) -> str:
    """HMAC-SHA256 of the normalised id under ``key``, as 32 hex characters."""
    if not key:
        raise PseudonymKeyError(
            "no pseudonymisation key: set OCCUPANCY_PSEUDONYM_KEY (a long random secret)"
        )
    k = key.encode("utf-8") if isinstance(key, str) else key
    digest = hmac.new(k, normalise_badge_id(raw_id).encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:32]
