"""``class_quality``: per-class label quality from cleanlab's confident joint
(``cleanlab.dataset.rank_classes_by_label_quality``) on the ensemble's predictions.

Each row's score is its class's label quality score; a class (and so each of its rows) is
flagged when that score is below ``min_quality`` (default 0.9: cleanlab estimates that more
than a tenth of the rows labelled with it are mislabelled). summary_score is cleanlab's
``overall_label_health_score``.
"""

from __future__ import annotations

import numpy as np

from audit.detectors.base import DetectorContext, DetectorResult

COLUMNS = {
    "Class Name": "label",
    "Class Index": "class_index",
    "Label Issues": "n_label_issues",
    "Inverse Label Issues": "n_inverse_label_issues",
    "Label Noise": "label_noise",
    "Inverse Label Noise": "inverse_label_noise",
    "Label Quality Score": "label_quality",
}


def get_class_quality_table(labels: np.ndarray, pred_probs: np.ndarray, *, class_names) -> list[dict]:
    """One dict per class, worst label quality first (keys: the values of ``COLUMNS``, plus ``n_examples``)."""
    from cleanlab.dataset import rank_classes_by_label_quality

    df = rank_classes_by_label_quality(labels, pred_probs, class_names=list(class_names)).rename(columns=COLUMNS)
    counts = np.bincount(labels, minlength=len(class_names))
    floats = ("label_noise", "inverse_label_noise", "label_quality")
    rows = []
    for r in df.to_dict("records"):
        idx = int(r["class_index"])
        row = {"label": str(class_names[idx]), "class_index": idx, "n_examples": int(counts[idx])}
        row.update({k: float(r[k]) if k in floats else int(r[k]) for k in COLUMNS.values() if k not in row})
        rows.append(row)
    return rows


def detect_class_quality(context: DetectorContext, *, min_quality: float = 0.9) -> DetectorResult:
    """Per-class label quality (cleanlab); rows of classes below ``min_quality`` are flagged."""
    from cleanlab.dataset import overall_label_health_score

    labels, probs, classes = context.labels, context.ensemble_pred_probs, context.dataset.classes
    table = get_class_quality_table(labels, probs, class_names=classes)
    for rank, row in enumerate(table, 1):
        row["rank"] = rank
    by_index = {r["class_index"]: r for r in table}
    quality = np.array([by_index[i]["label_quality"] for i in range(len(classes))])
    score = quality[labels]
    is_issue = score < min_quality
    reason = np.full(len(labels), "", dtype=object)
    for i in np.flatnonzero(is_issue):
        r = by_index[int(labels[i])]
        reason[i] = (
            f"class '{r['label']}' has label quality {r['label_quality']:.3f} < {min_quality} "
            f"(#{r['rank']} worst of {len(classes)}; ~{r['n_label_issues']} of its {r['n_examples']} rows likely mislabelled)"
        )
    health = overall_label_health_score(labels, probs, verbose=False)
    return DetectorResult(
        is_issue, score, reason, health,
        {"min_quality": min_quality, "overall_label_health_score": float(health),
         "n_classes_flagged": int(sum(r["label_quality"] < min_quality for r in table)), "classes": table},
    )
