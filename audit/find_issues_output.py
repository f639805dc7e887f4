"""Write a :class:`FindIssuesResult` to a directory (format: docs/formats.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from audit.find_issues import FindIssuesResult
from labelcore.io import write_csv, write_json, write_npz, write_text
from audit.report.markdown import escape, table
from audit.report.pairs_section import pairs_table


def write_find_issues(result: FindIssuesResult, out_dir: str | Path) -> dict[str, Path]:
    """Write issues.csv, pairs.csv, oof.npz, summary.json, report.md and (when the
    class_quality detector ran) classes.csv; each file atomically."""
    out = Path(out_dir)
    ds = result.dataset
    arrays = {f"pred_probs__{name}": p.astype(np.float32) for name, p in result.pred_probs.items()}
    extra = {}
    if "class_quality" in result.detectors:
        classes = pd.DataFrame(result.detectors["class_quality"].info["classes"])
        extra["classes"] = write_csv(classes, out / "classes.csv")
    return {
        "issues": write_csv(result.issues, out / "issues.csv"),
        "pairs": write_csv(result.pairs, out / "pairs.csv"),
        "oof": write_npz(
            out / "oof.npz",
            labels=ds.labels,
            classes=np.asarray(ds.classes),
            example_ids=np.asarray(ds.example_ids),
            ensemble_pred_probs=result.ensemble_pred_probs.astype(np.float32),
            **arrays,
        ),
        "summary": write_json(result.summary, out / "summary.json"),
        "report": write_text(short_report(result), out / "report.md"),
        **extra,
    }


def short_report(result: FindIssuesResult, *, n_issues: int = 15, n_pairs: int = 10) -> str:
    s = result.summary
    lines = [
        f"# Label audit: {escape(s['data'] or s['source'])}",
        "",
        f"{s['n_examples']:,} examples, {s['n_classes']} classes, {s['folds']}-fold out-of-fold "
        f"predictions (seed {s['seed']}); {s['wall_seconds']:.0f} s.",
        "",
        "## Models",
        "",
        table(
            ["backend", "out-of-fold accuracy", "log loss", "ensemble weight", "parameters"],
            [[escape(b["name"]), f"{b['oof_accuracy']:.3f}", f"{b['oof_log_loss']:.3f}",
              f"{b['ensemble_weight']:.2f}", f"{b['n_parameters']:,}" if b["n_parameters"] else "-"]
             for b in s["backends"]]
            + [["ensemble", f"{s['ensemble_accuracy']:.3f}", "", "", ""]],
        ),
        "",
        f"## Likely label errors: {s['n_label_issues']:,} flagged "
        f"({s['n_label_issues'] / max(s['n_examples'], 1):.1%})",
        "",
    ]
    flagged = result.issues[result.issues["is_label_issue"]].head(n_issues)
    lines.append(
        table(
            ["row", "text", "given", "suggested", "quality", "why"],
            [[r["row"], escape(r["text"]), escape(r["given_label"]), escape(r["suggested_label"]),
              f"{r['label_quality']:.3f}", escape(r["reason"])]
             for r in flagged.to_dict("records")],
        )
    )
    lines += ["", "## Most confused pairs", ""]
    pairs = result.pairs.head(n_pairs)
    lines.append(pairs_table(pairs) if len(pairs) else "No confused pairs.")
    if result.detectors:
        lines += ["", "## Detectors", "", table(
            ["detector", "flagged rows", "summary score (lower = worse)"],
            [[escape(n), f"{r.n_issues:,}", f"{r.summary_score:.3f}"] for n, r in result.detectors.items()],
        ), "", "Per-row flags, scores and reasons: `is_<detector>`, `<detector>_score`, `<detector>_reason` in `issues.csv`."]
    lines += [
        "",
        "Files: `issues.csv` (every example, worst first), `pairs.csv`, `oof.npz`, `summary.json`"
        + (", `classes.csv`." if "class_quality" in result.detectors else "."),
        "Pair causes: *noise* = flagged rows carry the confusion (relabel); *overlap* = it persists "
        "among unflagged rows, probability split (guideline, or merge when no model separates the "
        "labels); *capacity* = only smaller models confuse it; *chance* = not above the error rates. "
        "Evidence and intervals: `pairs.csv`.",
        "",
    ]
    return "\n".join(lines)
