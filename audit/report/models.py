"""The model comparison across scales: one row per backend of a summary.json (the decision
itself is :mod:`audit.decision`)."""

from __future__ import annotations

import math
from typing import Any

#: Accepted names for each field of a ``summary.json`` backend entry (first found wins).
FIELDS = {
    "name": ("name", "backend"),
    "spec": ("spec",),
    "n_parameters": ("n_parameters", "parameters", "n_params", "num_parameters"),
    "oof_accuracy": ("oof_accuracy",),
    "test_accuracy": ("test_accuracy",),
    "seconds": ("seconds", "train_seconds", "wall_seconds"),
}


def model_rows(summary: dict) -> list[dict[str, Any]]:
    """One dict per backend of ``summary["backends"]`` with the keys of :data:`FIELDS`
    (None where the summary has no value), sorted by size (unknown sizes last)."""
    rows = []
    for entry in summary.get("backends") or []:
        if not isinstance(entry, dict):
            continue
        row = {key: _first(entry, names) for key, names in FIELDS.items()}
        row["name"] = row["name"] or row["spec"] or "?"
        rows.append(row)
    return sorted(rows, key=_size_key)


def _size_key(row: dict) -> tuple:
    params, seconds = _number(row.get("n_parameters")), _number(row.get("seconds"))
    return (params is None, params or 0.0, seconds is None, seconds or 0.0)


def _first(entry: dict, names: tuple[str, ...]) -> Any:
    for name in names:
        if entry.get(name) is not None:
            return entry[name]
    return None


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
