"""``leakage``: train rows whose text (normalised as in ``duplicates``) also appears in the
test split - a test score on such rows measures memory, not generalisation."""

from __future__ import annotations

import numpy as np

from audit.detectors.base import DetectorContext, DetectorResult
from audit.detectors.duplicates import group_by_normalized_text, normalize_text


def detect_leakage(context: DetectorContext, *, max_listed: int = 3) -> DetectorResult:
    """Train rows whose normalised text is also in the test split.

    score = 0 for a leaked row, 1 elsewhere; summary_score = 1 - the leaked share.
    """
    ds, test = context.dataset, context.test
    classes = np.asarray(ds.classes, dtype=object)
    in_test = group_by_normalized_text(test.texts)
    n = len(ds)
    is_issue = np.zeros(n, dtype=bool)
    reason = np.full(n, "", dtype=object)
    test_rows_hit: set[int] = set()
    n_conflicting = 0
    for i, text in enumerate(ds.texts):
        hits = in_test.get(normalize_text(text))
        if not hits:
            continue
        is_issue[i] = True
        test_rows_hit.update(hits)
        conflict = any(test.labels[j] != context.labels[i] for j in hits)
        n_conflicting += conflict
        listed = "; ".join(
            f"test row {test.rows[j]} (id {test.example_ids[j]}, '{classes[test.labels[j]]}')" for j in hits[:max_listed]
        )
        more = f"; and {len(hits) - max_listed} more" if len(hits) > max_listed else ""
        reason[i] = f"same text as {listed}{more}" + (
            f": conflicting labels (this row: '{classes[context.labels[i]]}')" if conflict else ""
        )
    return DetectorResult(
        is_issue, np.where(is_issue, 0.0, 1.0), reason, 1.0 - float(is_issue.mean()) if n else 1.0,
        {"n_train_leaked": int(is_issue.sum()), "n_test_rows_leaked": len(test_rows_hit),
         "n_conflicting_labels": int(n_conflicting), "test_source": test.source, "test_split": test.split},
    )
