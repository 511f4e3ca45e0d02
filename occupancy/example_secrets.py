"""Refuse the placeholder secrets of ``.env.example`` (``change-me`` ...).

A deployment that copied the example file and forgot a value must not start
with a password everybody can read in the repository.
"""

from __future__ import annotations

import logging
import re

from occupancy.settings import SETTINGS, SettingError, Settings

logger = logging.getLogger(__name__)

__all__ = ["PLACEHOLDER", "check_no_example_secrets", "example_secrets"]

#: What the example file's placeholders look like (change-me, changeme, change_me).
PLACEHOLDER = re.compile(r"change[-_ ]?me", re.IGNORECASE)


def example_secrets(settings: Settings) -> list[str]:
    """Names of the secret settings whose value is still a placeholder."""
    bad = []
    for spec in SETTINGS:
        if not spec.secret:
            continue
        value = getattr(settings, spec.name, None)
        if isinstance(value, str) and PLACEHOLDER.search(value):
            bad.append(spec.name)
    return bad


def check_no_example_secrets(settings: Settings) -> None:
    """Raise :class:`SettingError` naming every setting left at a placeholder."""
    bad = example_secrets(settings)
    if bad:
        names = ", ".join(f"{n} (OCCUPANCY_{n.upper()})" for n in bad)
        raise SettingError(
            f"example secret refused: {names} still contain the placeholder "
            "'change-me' from .env.example; set a real value (e.g. `openssl rand "
            "-hex 32`) in .env"
        )
