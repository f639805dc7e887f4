"""Rich tables shared by several commands."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text


def comparison_table(result: dict, *, confidence: float, title: str, group: str, group_key: str) -> Table:
    """after - before per backend, ``group`` (the test set or yardstick, ``r[group_key]``) and
    metric, with the paired-bootstrap interval and verdict (``retrain`` and ``what-if``)."""
    pct = int(round(100 * confidence))
    view = Table(title=title)
    for column in ("backend", group, "metric", "before", "after", "Δ", f"{pct}% CI", "verdict"):
        view.add_column(column, justify="right" if column in ("before", "after", "Δ") else "left")
    for r in result["results"]:
        for metric, s in r["metrics"].items():
            colour = {"gain": "green", "loss": "red"}.get(s["verdict"], "")
            view.add_row(Text(r["backend"]), r[group_key], metric, f"{s['before']:.3f}", f"{s['after']:.3f}",
                         f"{s['diff']:+.3f}", f"[{s['ci_low']:+.3f}, {s['ci_high']:+.3f}]",
                         Text(s["verdict"], style=colour))
    return view
