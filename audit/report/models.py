"""The model comparison across scales: one row per backend of a summary.json (the decision
itself is :mod:`audit.decision`)."""

from __future__ import annotations

from typing import Any

from audit.decision import as_number
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


def _size_key(row: dict) -> tuple:
    params, seconds = as_number(row.get("n_parameters")), as_number(row.get("seconds"))
    return (params is None, params or 0.0, seconds is None, seconds or 0.0)




def human_count(n: float | None) -> str:
    """12_700_000 -> '12.7M'."""
    if n is None:
        return "–"
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:.0f}"
