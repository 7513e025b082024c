"""What every stage's tasks share: result persistence, cache policies, and the fault hook."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

from prefect.cache_policies import DEFAULT, CachePolicy

# Results are persisted so that retrying a failed flow run (same run id) skips finished steps.
# They go where PREFECT_RESULTS_LOCAL_STORAGE_PATH says (default PREFECT_HOME/storage): on several
# machines prefect.yaml points it at the shared home, so a retry on another worker finds them.
PERSIST = {"persist_result": True, "cache_policy": DEFAULT}


def state_aware(digest: Callable[[str, int], str]) -> CachePolicy:
    """DEFAULT caching plus a digest of the database state a step reads (files, pilots, lists).

    A retried run reuses a step's result only while the state it read is unchanged: a file
    accepted in between invalidates this step, and through its changed output every step after it.
    """

    def key(_context: Any, parameters: dict[str, Any]) -> str:
        return digest(parameters["home"], parameters["year"])

    return DEFAULT + CachePolicy.from_cache_key_fn(key)


def fault(step: str) -> None:
    """Operator drill and test hook: fail, die or stall at a named step (PILOTZONES_FAULT=step[:kill|:sleep])."""
    from pilotzones.settings import settings

    cfg = settings()
    name, _, how = cfg.fault.partition(":")
    if name != step:
        return
    marker = cfg.fault_once
    if marker:
        # Fire once: the retry that follows the drill must succeed.
        if os.path.exists(marker):
            return
        open(marker, "w").close()
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "sleep":  # hold the stage (and its lock) for a while: the concurrency drill
        time.sleep(cfg.fault_sleep)
        return
    raise RuntimeError(f"injected fault at step {step}")
