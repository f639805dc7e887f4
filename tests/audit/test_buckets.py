"""One bucket per flagged row."""

import numpy as np
import pandas as pd

from audit.buckets import BUCKETS, assign_buckets, bucket_counts, buckets_of_issues


def test_each_row_gets_the_first_bucket_it_qualifies_for():
    labels = np.array([0, 0, 0, 0, 0, 0, 0])
    preds = np.array([[1, 1], [1, 2], [1, 1], [0, 0], [1, 1], [0, 0], [2, 1]])
    issue = np.array([1, 1, 1, 0, 1, 1, 0], bool)
    outlier = np.array([0, 0, 1, 1, 0, 0, 0], bool)
    duplicate = np.array([0, 0, 0, 0, 1, 0, 0], bool)
    got = assign_buckets(labels, preds, is_label_issue=issue, is_outlier=outlier, is_conflicting_duplicate=duplicate)
    assert list(got) == [
        "likely_mislabelled",   # every model says 1
        "ambiguous",            # models split 1 / 2
        "likely_mislabelled",   # an outlier too, but the models agree on another label
        "out_of_scope",         # outlier only
        "duplicate_conflict",   # duplicate first, whatever else
        "ambiguous",            # flagged although the models keep the given label
        "",                     # nothing flagged it: no bucket, not flagged
    ]


def test_every_label_issue_has_a_bucket_and_no_unflagged_row_has_one():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 200)
    preds = rng.integers(0, 4, (200, 3))
    issue, outlier = rng.random(200) < 0.2, rng.random(200) < 0.1
    got = assign_buckets(labels, preds, is_label_issue=issue, is_outlier=outlier)
    assert set(got[issue]) <= set(BUCKETS) and "" not in set(got[issue])
    assert set(got[~issue & ~outlier]) == {""}
    assert sum(bucket_counts(got).values()) == int((issue | outlier).sum())


def test_from_an_issues_table_agreeing_duplicates_are_not_conflicts():
    issues = pd.DataFrame({
        "given_label": ["a", "a", "a"], "pred__m1": ["b", "a", "a"], "pred__m2": ["b", "a", "a"],
        "is_label_issue": ["True", "False", "False"], "is_outliers": [False, False, False],
        "is_duplicates": [False, True, True],
        "duplicates_reason": ["", "exact duplicate of row 9 (id x, 'b'): conflicting labels (this row: 'a')",
                              "exact duplicate of row 8 (id y, 'a'): same label"],
    })
    assert list(buckets_of_issues(issues)) == ["likely_mislabelled", "duplicate_conflict", ""]
