"""Errors of ``occupancy analyze`` that its command catches, apart from the
modules raising them so that the command imports them without pandas."""

from __future__ import annotations

__all__ = ["ParallelError"]


class ParallelError(RuntimeError):
    """Bad parallel settings or an unreachable cluster; the message names them."""
