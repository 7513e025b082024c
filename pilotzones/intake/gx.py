"""Great Expectations in one module: an in-memory context per process, and suite validation of a frame.

GX is imported lazily (it takes seconds); nothing else in the project imports it directly.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import sys
import threading
import types
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

# Expectations that are about the table itself: they run even when a column they name is absent.
_TABLE_LEVEL = ("expect_column_to_exist", "expect_table_")  # prefixes of expectation types
_COLUMN_ARGS = ("column", "column_A", "column_B")

_lock = threading.Lock()  # a GX context is not safe to share between threads
_batch_definition: Any = None


@dataclass(frozen=True)
class Failure:
    """A failed expectation: its type, kwargs and meta, and the failing frame index (None: table-level)."""

    expectation: str
    kwargs: dict[str, Any]
    meta: dict[str, Any]
    indices: list[int] | None
    observed: Any = None
    details: dict[str, Any] | None = None


def validate(frame: pd.DataFrame, suite: dict[str, Any], parameters: dict[str, Any]) -> list[Failure]:
    """Validate `frame` against the suite JSON `suite`; return the failed expectations, suite order."""
    present = set(frame.columns)
    runnable = [e for e in suite["expectations"] if _runnable(e, present)]
    if not runnable:
        return []
    text = json.dumps(dict(suite, expectations=runnable), sort_keys=True, ensure_ascii=False)
    with _lock, _quiet():
        gx_suite = _suite(text)
        result = _validator(_needed(frame, runnable)).validate_expectation_suite(
            gx_suite, expectation_parameters=parameters
        )
    # GX reports results in its own order; the suite's order is the order errors are listed in.
    order = {_check(e.get("meta")): i for i, e in enumerate(runnable)}
    failures = [_failure(r) for r in result.results if not r.success]
    return sorted(failures, key=lambda f: order.get(_check(f.meta), len(order)))


def warm_up() -> None:
    """Import GX and build the context now, so later validations are fast."""
    with _lock, _quiet():
        _whole_frame()


def _validator(frame: pd.DataFrame) -> Any:
    """A validator of `frame` as a whole-dataframe batch.

    What `batch_definition.get_batch(...).validate(...)` builds, without the first batch that call
    loads and throws away: GX fingerprints every batch it loads (0.1 s at national scale).
    """
    _import_gx()
    from great_expectations.validator.v1_validator import Validator

    return Validator(
        batch_definition=_whole_frame(),
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "COMPLETE"},
    )


def _needed(frame: pd.DataFrame, expectations: list[dict[str, Any]]) -> pd.DataFrame:
    """`frame` with only the columns the expectations read, when no check looks at the whole table.

    GX filters the whole frame for each check (nulls, row conditions): fewer columns, less copying.
    A column only a column-set check names (its presence is all that is checked) is handed over
    as a column of booleans: the check reads its name, and filtering it costs next to nothing.
    """
    read: set[str] = set()
    named: set[str] = set()
    for expectation in expectations:
        kind, kwargs = expectation["type"], expectation["kwargs"]
        if kind == "expect_table_columns_to_match_set" and not kwargs.get("exact_match", True):
            named.update(kwargs["column_set"])  # a subset check: the other columns play no part
        elif kind.startswith("expect_table_") and kind != "expect_table_row_count_to_be_between":
            return frame
        read.update(kwargs[a] for a in _COLUMN_ARGS if a in kwargs)
    stand_in = np.zeros(len(frame), dtype=bool)
    columns = {c: frame[c] if c in read else stand_in for c in frame.columns if c in read or c in named}
    return pd.DataFrame(columns, index=frame.index)


def _runnable(expectation: dict[str, Any], present: set[str]) -> bool:
    # A row check on an absent column cannot run; the missing column is reported by its own check.
    if expectation["type"].startswith(_TABLE_LEVEL):
        return True
    kwargs = expectation["kwargs"]
    return all(kwargs[a] in present for a in _COLUMN_ARGS if a in kwargs)


def _check(meta: dict[str, Any] | None) -> str:
    return json.dumps(meta or {}, sort_keys=True, ensure_ascii=False)


def _failure(result: Any) -> Failure:
    config = result.expectation_config
    info = result.exception_info or {}
    raised = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
    if info.get("raised_exception") or raised:
        detail = info.get("exception_message") or raised[0].get("exception_message")
        raise RuntimeError(f"expectation {config.type} could not run: {detail}")
    res = result.result or {}
    indices = res.get("unexpected_index_list")
    return Failure(
        expectation=config.type,
        kwargs=dict(config.kwargs),
        meta=dict(config.meta or {}),
        indices=[int(i) for i in indices] if indices is not None else None,
        observed=res.get("observed_value"),
        details=res.get("details"),
    )


class _quiet:
    """Silence GX's logging and warnings on stderr for the duration of a call."""

    def __enter__(self) -> None:
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        self._logger = logging.getLogger("great_expectations")
        self._level = self._logger.level
        self._logger.setLevel(logging.CRITICAL)

    def __exit__(self, *exc: Any) -> None:
        self._logger.setLevel(self._level)
        self._warnings.__exit__(*exc)


def _whole_frame() -> Any:
    """Return the whole-dataframe batch definition of this process's in-memory GX context."""
    global _batch_definition
    if _batch_definition is None:
        context = _context()
        source = context.data_sources.add_pandas(name="pilotzones-intake")
        asset = source.add_dataframe_asset(name="submission")
        _batch_definition = asset.add_batch_definition_whole_dataframe("whole-file")
    return _batch_definition


# Modules the `great_expectations` package imports for expectations and renderers a validation of
# ours never runs (the KL-divergence expectation's scipy.stats, the chart renderers' altair): half
# of GX's import time. They are loaded when first touched.
DEFERRED = ("scipy.stats", "altair")


class _Deferred(types.ModuleType):
    """Stands in sys.modules for a module until one of its attributes is read, then imports it and
    hands every attribute on (an `import` reads only `__spec__`, which is set here)."""

    def __init__(self, name: str, spec: Any) -> None:
        super().__init__(name)
        self.__spec__ = spec
        self.__dict__["_real"] = None

    def __getattr__(self, attr: str) -> Any:
        real = self.__dict__["_real"]
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = self.__dict__["_real"] = importlib.import_module(self.__name__)
        return getattr(real, attr)


def _import_gx() -> Any:
    """Import GX, deferring `DEFERRED` (see above) unless something has loaded them already."""
    if "great_expectations" not in sys.modules:
        for name in DEFERRED:
            if name not in sys.modules and (spec := importlib.util.find_spec(name)) is not None:
                sys.modules[name] = _Deferred(name, spec)
    import great_expectations

    return great_expectations


def _context() -> Any:
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    # Importing GX builds hundreds of thousands of objects (pandas, pydantic models) that the
    # collector would scan over and over: the entry points that import it (`submit`, the benchmark)
    # pause the collector for their command (pilotzones.gcpause).
    gx = _import_gx()
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every in-memory frame below this size (a hash of every cell, 0.07 s for a
    # national batch) for batch metadata we never read; 0 turns the fingerprint off.
    if hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        pandas_execution_engine.HASH_THRESHOLD = 0
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


@lru_cache(maxsize=32)
def _suite(text: str) -> Any:
    _import_gx()
    from great_expectations.core import ExpectationSuite

    raw = json.loads(text)
    suite = ExpectationSuite(
        name=raw["name"], expectations=raw["expectations"], meta=raw.get("meta"), notes=raw.get("notes")
    )
    # GX logs and drops an invalid expectation instead of raising: a suite must not lose checks silently.
    if len(suite.expectations) != len(raw["expectations"]):
        raise ValueError(f"expectation suite {raw['name']!r} has invalid expectations")
    return suite
