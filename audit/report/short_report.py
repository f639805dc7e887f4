"""The short ``report.md`` of a find-issues run (the full report is :mod:`audit.report.build`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from audit.report.markdown import escape, fmt, table

if TYPE_CHECKING:
    from audit.pipeline import FindIssuesResult

#: Longest text shown in a table cell (the whole text is in issues.csv).
MAX_CELL_CHARS = 200


def short_report(result: "FindIssuesResult", *, n_issues: int = 15, n_pairs: int = 10) -> str:
    s = result.summary
    lines = [
        f"# Label audit: {escape(s.data or s.source, max_chars=MAX_CELL_CHARS)}",
        "",
        f"{s.n_examples:,} examples, {s.n_classes} classes, {s.folds}-fold out-of-fold "
        f"predictions (seed {s.seed}); {s.wall_seconds:.0f} s.",
        "",
        "## Models",
        "",
        table(
            ["backend", "out-of-fold accuracy", "log loss", "ensemble weight", "parameters"],
            [[escape(b.name), fmt(b.oof_accuracy), fmt(b.oof_log_loss), fmt(b.ensemble_weight, digits=2),
              f"{b.n_parameters:,}" if b.n_parameters else "-"]
             for b in s.backends]
            + [["ensemble", f"{s.ensemble_accuracy:.3f}", "", "", ""]],
        ),
        "",
        f"## Likely label errors: {s.n_label_issues:,} flagged "
        f"({s.n_label_issues / max(s.n_examples, 1):.1%})",
        "",
    ]
    flagged = result.issues[result.issues["is_label_issue"]].head(n_issues)
    lines.append(
        table(
            ["row", "text", "given", "suggested", "quality", "why"],
            [[r["row"], escape(r["text"], max_chars=MAX_CELL_CHARS), escape(r["given_label"]), escape(r["suggested_label"]),
              f"{r['label_quality']:.3f}", escape(r["reason"], max_chars=MAX_CELL_CHARS)]
             for r in flagged.to_dict("records")],
        )
    )
    lines += ["", "## Most confused pairs", ""]
    pairs = result.pairs.head(n_pairs)
    if len(pairs):
        lines.append(
            table(
                ["label a", "label b", "a->b", "b->a", "rate", "diagnosis", "recommendation"],
                [[escape(r["label_a"]), escape(r["label_b"]), f"{r['n_a_as_b']:.1f}", f"{r['n_b_as_a']:.1f}",
                  f"{r['confusion_rate']:.1%}", r["diagnosis"], escape(r["recommendation"])]
                 for r in pairs.to_dict("records")],
            )
        )
    else:
        lines.append("No confused pairs.")
    if result.detectors:
        lines += ["", "## Detectors", "", table(
            ["detector", "flagged rows", "summary score (lower = worse)"],
            [[escape(n), f"{r.n_issues:,}", f"{r.summary_score:.3f}"] for n, r in result.detectors.items()],
        ), "", "Per-row flags, scores and reasons: `is_<detector>`, `<detector>_score`, `<detector>_reason` in `issues.csv`."]
    lines += [
        "",
        "Files: `issues.csv` (every example, worst first), `pairs.csv`, `oof.npz`, `summary.json`"
        + (", `classes.csv`." if "class_quality" in result.detectors else "."),
        "Diagnosis: *data* = every model confuses the pair (merge / relabel / write a guideline); "
        "*capacity* = only smaller models do.",
        "",
    ]
    return "\n".join(lines)
