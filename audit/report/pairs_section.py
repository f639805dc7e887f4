"""The confused-pairs section of the reports: each pair's cause, the shares behind it with
their intervals, and the rows to review (columns of pairs.csv, see docs/formats.md)."""

from __future__ import annotations

import math

import pandas as pd

from audit.report.markdown import escape, fmt, table

CAUSE_COLUMNS = ("noise_share", "ambiguity", "separation_auc", "rows_a_to_b")


def _interval(rec: dict, name: str, *, percent: bool = True) -> str:
    value = rec.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    low, high = rec.get(f"{name}_low"), rec.get(f"{name}_high")
    f = (lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:.2f}")
    return f"{f(value)} [{f(low)}, {f(high)}]"


def _ids(text) -> list[str]:
    return [] if not isinstance(text, str) or not text.strip() else text.split()


def rows_to_review(rec: dict, *, show: int = 5) -> str:
    """``'12 a→b: 1 2 3 4 5 …; ambiguous: …'``: the rows a reviewer should look at - the rows
    to relabel with their direction (not for a merge), the ambiguous ones for an overlap."""
    parts = []
    if rec.get("recommendation") != "merge":
        for column, source, target in (("rows_a_to_b", "label_a", "label_b"), ("rows_b_to_a", "label_b", "label_a")):
            ids = _ids(rec.get(column))
            if ids:
                more = " …" if len(ids) > show else ""
                parts.append(f"{len(ids)} {rec[source]}→{rec[target]}: {' '.join(ids[:show])}{more}")
    ambiguous = _ids(rec.get("rows_ambiguous"))
    if ambiguous and rec.get("diagnosis") == "overlap":
        parts.append(f"ambiguous: {' '.join(ambiguous[:show])}{' …' if len(ambiguous) > show else ''}")
    return "; ".join(parts)


def pairs_table(pairs: pd.DataFrame) -> str:
    """A markdown table of ``pairs`` (rows of pairs.csv) with the cause and its evidence."""
    header = ["label a", "label b", "cause", "recommendation", "a→b", "b→a", "expected",
              "on flagged rows", "ambiguity", "separation AUC", "rows to review (row ids)"]
    rows = []
    for rec in pairs.to_dict("records"):
        rows.append([
            escape(rec["label_a"]), escape(rec["label_b"]), escape(rec.get("diagnosis")),
            escape(rec.get("recommendation")), fmt(rec["n_a_as_b"], digits=1), fmt(rec["n_b_as_a"], digits=1),
            fmt(rec.get("expected"), digits=1), _interval(rec, "noise_share"), _interval(rec, "ambiguity"),
            _interval(rec, "separation_auc", percent=False), escape(rows_to_review(rec)),
        ])
    return table(header, rows, align="llllrrrllll")


def pairs_section(pairs: pd.DataFrame | None, *, top: int = 10) -> str:
    """The report section: how many pairs are confused above chance and why, the table of the
    first ``top`` rows of pairs.csv, and the evidence sentence of each confused one."""
    if pairs is None or pairs.empty or top <= 0:
        return ""
    if not set(CAUSE_COLUMNS) <= set(pairs.columns):  # an older find-issues run
        return ("## Confused pairs\n\nThis pairs.csv predates the noise / overlap / capacity diagnosis; "
                "rerun `audit find-issues` to get it.")
    confused = pairs[pairs["diagnosis"] != "chance"]
    counts = confused["recommendation"].value_counts()
    summary = ", ".join(f"{n} {escape(r)}" for r, n in counts.items()) or "none"
    shown = pairs.head(top)
    lines = [
        "## Confused pairs",
        "",
        f"{len(confused)} label pairs are confused more often than the models' error rates predict "
        "(Poisson test of the mean count over the models against the count expected from each "
        f"class's errors, false discovery rate 5%); recommendations: {summary}. "
        "Causes: *noise* = rows the models contradict (flagged, or rejected by every model once the "
        "flagged rows are out of training) carry the confusion: relabel the rows listed, in the "
        "direction shown; *overlap* = no model separates the two labels (merge), or the confusion "
        "persists among unflagged rows for every model with the probability split between the two "
        "labels (write a guideline); *capacity* = the largest model separates what smaller ones confuse; "
        "*chance* = not above what the error rates predict. Shares with 95% bootstrap intervals over "
        "the pair's rows; separation = the best model's AUC between the two labels on all the pair's "
        "rows (Hanley-McNeil interval). Method: docs/method.md.",
        "",
        pairs_table(shown),
    ]
    evidence = [r for r in shown.to_dict("records") if r.get("diagnosis") != "chance"]
    if evidence:
        lines += ["", "Evidence:", ""]
        lines += [f"- **{escape(r['label_a'])} / {escape(r['label_b'])}**: {escape(r['evidence'])}" for r in evidence]
    return "\n".join(lines)
