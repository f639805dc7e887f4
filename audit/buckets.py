"""One bucket per flagged row: what kind of problem a reviewer is looking at.

=====================  ==================================================================
``duplicate_conflict``  an exact or near duplicate of the row carries another label
                        (the ``duplicates`` detector)
``likely_mislabelled``  a label issue on which every model predicts the same other label
``out_of_scope``        an outlier (the ``outliers`` detector) that is not one of the above
``ambiguous``           a label issue on which the models split: several labels plausible
=====================  ==================================================================

A row is put in the first bucket it qualifies for, in that order; a row in none is not
flagged (bucket ``""``). Rows that only a class-level or leakage detector flags are not
review items and get no bucket.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BUCKETS = ("duplicate_conflict", "likely_mislabelled", "out_of_scope", "ambiguous")
BUCKET_TITLES = {
    "duplicate_conflict": "duplicate with a conflicting label",
    "likely_mislabelled": "likely mislabelled",
    "out_of_scope": "out of scope (outlier)",
    "ambiguous": "ambiguous (the models split)",
}


def assign_buckets(
    labels: np.ndarray,
    model_predictions: np.ndarray,
    *,
    is_label_issue: np.ndarray,
    is_outlier: np.ndarray | None = None,
    is_conflicting_duplicate: np.ndarray | None = None,
) -> np.ndarray:
    """The bucket of every row.

    labels : (N,) given labels (codes or names).
    model_predictions : (N, M) each model's predicted label (same kind as ``labels``).
    is_label_issue, is_outlier, is_conflicting_duplicate : (N,) bool flags (None: no such flags).

    Returns an (N,) object array of bucket names, ``""`` for rows in no bucket.
    """
    labels = np.asarray(labels)
    preds = np.asarray(model_predictions).reshape(len(labels), -1)
    n = len(labels)
    issue = np.asarray(is_label_issue, dtype=bool)
    outlier = np.zeros(n, bool) if is_outlier is None else np.asarray(is_outlier, dtype=bool)
    duplicate = np.zeros(n, bool) if is_conflicting_duplicate is None else np.asarray(is_conflicting_duplicate, bool)
    unanimous = (preds == preds[:, :1]).all(axis=1) & (preds[:, 0] != labels)
    out = np.full(n, "", dtype=object)
    # Fill in reverse priority so that the first bucket a row qualifies for wins.
    out[issue] = "ambiguous"
    out[outlier] = "out_of_scope"
    out[issue & unanimous] = "likely_mislabelled"
    out[duplicate] = "duplicate_conflict"
    return out


def buckets_of_issues(issues: pd.DataFrame) -> np.ndarray:
    """:func:`assign_buckets` from the columns of an issues table (docs/formats.md):
    ``given_label``, ``pred__<backend>``, ``is_label_issue``, and when present ``is_outliers``
    and ``is_duplicates`` / ``duplicates_reason`` (a duplicate group whose labels agree, kept
    with the detector's ``flag_agreeing``, is not a conflict)."""
    def flag(column: str) -> np.ndarray | None:
        if column not in issues:
            return None
        values = issues[column]
        if values.dtype != bool:
            values = values.astype(str).str.strip().str.lower().isin({"true", "1", "yes"})
        return values.to_numpy(bool, copy=True)

    pred_columns = [c for c in issues.columns if c.startswith("pred__")]
    given = issues["given_label"].astype(str).to_numpy()
    preds = issues[pred_columns].astype(str).to_numpy() if pred_columns else given[:, None]
    duplicate = flag("is_duplicates")
    if duplicate is not None and "duplicates_reason" in issues:
        duplicate &= ~issues["duplicates_reason"].astype(str).str.endswith("same label").to_numpy()
    return assign_buckets(given, preds, is_label_issue=flag("is_label_issue"), is_outlier=flag("is_outliers"),
                          is_conflicting_duplicate=duplicate)


def bucket_counts(buckets) -> dict[str, int]:
    """Rows per bucket, in bucket order (every bucket listed, zeros included)."""
    values = pd.Series(np.asarray(buckets, dtype=object)).fillna("").astype(str)
    counts = values.value_counts()
    return {b: int(counts.get(b, 0)) for b in BUCKETS}
