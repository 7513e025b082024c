"""Process-wide switches of Python's cyclic garbage collector, for speed.

They belong to process entry points only (the CLI's `main`, a stage flow's entry), never to a domain
module: they change the whole process, and only its entry knows what the process is for.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


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


def paused(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` runs with the collector paused: for an entry point's bulk step (a stage's steps, its
    publication and notices), not for the whole process: a flow that waits days for approval, or
    a server, must keep collecting."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with no_cyclic_gc():
            return fn(*args, **kwargs)

    return run


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
