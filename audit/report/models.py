"""The model comparison across scales and the decision rule: the smallest model that clears
an accuracy bar."""

from __future__ import annotations

import math
from typing import Any

from audit.formats.summary import RunSummary

#: The backend fields the model comparison uses (of :class:`audit.formats.summary.BackendSummary`).
FIELDS = ("name", "spec", "n_parameters", "oof_accuracy", "test_accuracy", "seconds")


def model_rows(summary: RunSummary | None) -> list[dict[str, Any]]:
    """One dict per backend of the run's summary with the keys of :data:`FIELDS` (None where the
    run has no value), sorted by size (unknown sizes last)."""
    if summary is None:
        return []
    rows = [{key: getattr(b, key) for key in FIELDS} for b in summary.backends]
    return sorted(rows, key=_size_key)


def smallest_clearing(rows: list[dict[str, Any]], *, bar: float, metric: str = "oof_accuracy") -> dict | None:
    """The smallest model whose ``metric`` is >= ``bar``: fewest parameters, then least
    training time (models of unknown size rank after those of known size). None if none clears."""
    passing = [r for r in rows if _clears(_number(r.get(metric)), bar)]
    return min(passing, key=_size_key) if passing else None


def _clears(value: float | None, bar: float) -> bool:
    return value is not None and value >= bar


def _size_key(row: dict) -> tuple:
    params, seconds = _number(row.get("n_parameters")), _number(row.get("seconds"))
    return (params is None, params or 0.0, seconds is None, seconds or 0.0)


def _number(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def human_count(n: float | None) -> str:
    """12_700_000 -> '12.7M'."""
    if n is None:
        return "–"
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:.0f}"
