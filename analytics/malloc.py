"""glibc's allocator tuned for ``occupancy analyze``: keep freed memory.

``analyze`` allocates the same large arrays chunk after chunk. By default glibc
returns freed heap to the kernel at once and serves blocks over 128 KiB with
fresh ``mmap`` pages, so every chunk pays a page fault per page again (about a
tenth of the compute's CPU on a year). :func:`keep_freed_memory` raises the
thresholds with ``mallopt(3)``; peak memory is unchanged (measured,
docs/analytics.md).

Why ctypes: there is no maintained Python binding of ``mallopt``; the same
values could be given as ``GLIBC_TUNABLES=glibc.malloc.trim_threshold=...`` in
the environment, but only before the process starts, and ``analyze`` is also
run in-process (the demo, tests). Elsewhere (musl, macOS, Windows) this is a
no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

logger = logging.getLogger(__name__)

__all__ = ["keep_freed_memory"]

# mallopt(3) parameter numbers (glibc <malloc.h>)
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3

#: (parameter, value): keep up to 1 GiB of free heap, grow the heap 64 MiB at a
#: time, serve blocks below 32 MiB from the heap [bytes].
SETTINGS = (
    (M_TRIM_THRESHOLD, 1 << 30),
    (M_TOP_PAD, 64 << 20),
    (M_MMAP_THRESHOLD, 32 << 20),
)


def keep_freed_memory() -> bool:
    """Apply :data:`SETTINGS` to glibc's allocator; False where the C library
    has no ``mallopt`` (not glibc) or refused a value."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        logger.debug("no glibc mallopt here: allocator left as it is")
        return False
    ok = True
    for param, value in SETTINGS:
        # mallopt returns 1 on success, 0 on error
        ok = bool(mallopt(ctypes.c_int(param), ctypes.c_int(value))) and ok
    return ok
