"""Process-wide switches of Python's cyclic garbage collector, for speed.

They belong to process entry points only (the CLI's `main`, a stage flow's entry), never to a domain
module: they change the whole process, and only its entry knows what the process is for.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Bulk steps (thousands of small frames, thousands of e-mails) allocate so many objects that the
    collector keeps running full collections, each scanning every live object of the process (GX,
    SQLAlchemy, pandas), and finds next to nothing to free: a tenth to a quarter of the step's time.
    Reference counting still frees everything that is not a cycle; the collector runs again after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_frozen = False


def freeze_once() -> None:
    """Move everything the process holds so far (Prefect, GX, pandas, SQLAlchemy, once imported) out
    of the collector's reach, once per process. Each full collection otherwise rescans those
    millions of objects: 0.2 s a time, landing in whichever step allocates when it is due. They
    live as long as the process anyway; a collection first leaves no garbage behind frozen."""
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True


def freeze_before_exit() -> None:
    """The interpreter's last full collection scans every object GX and pandas made, half a second
    at exit for a process about to end; frozen objects are left to the exit itself."""
    gc.freeze()
