"""Confused pairs: counts per direction, ranks, and the data-vs-capacity diagnosis."""

from __future__ import annotations

import numpy as np

from audit.pairs import find_confused_pairs, get_confusion_counts


def _onehot(pred, k):
    p = np.full((len(pred), k), 0.01)
    p[np.arange(len(pred)), pred] = 1.0
    return p / p.sum(1, keepdims=True)


def test_diagnosis_data_vs_capacity():
    k, n = 6, 100
    labels = np.repeat(np.arange(k), n)
    small = labels.copy()
    large = labels.copy()
    # pair (0, 1): both models confuse it both ways -> data problem, merge
    for m in (small, large):
        m[np.flatnonzero(labels == 0)[:20]] = 1
        m[np.flatnonzero(labels == 1)[:18]] = 0
    # pair (2, 3): only the small model confuses it -> capacity
    small[np.flatnonzero(labels == 2)[:15]] = 3
    small[np.flatnonzero(labels == 3)[:15]] = 2
    # pair (4, 5): every model, one way only -> relabel
    for m in (small, large):
        m[np.flatnonzero(labels == 4)[:25]] = 5
    table = find_confused_pairs(
        labels, [_onehot(small, k), _onehot(large, k)], class_names=list("abcdef"),
        model_names=["small", "large"], model_sizes=[1e6, 1e9], top_k=5,
    )
    rows = {(r["label_a"], r["label_b"]): r for r in table.to_dict("records")}
    assert rows[("a", "b")]["diagnosis"] == "data" and rows[("a", "b")]["recommendation"] == "merge"
    assert rows[("c", "d")]["diagnosis"] == "capacity"
    assert rows[("e", "f")]["diagnosis"] == "data" and rows[("e", "f")]["recommendation"] == "relabel"
    assert rows[("a", "b")]["n_a_as_b__small"] == 20 and rows[("a", "b")]["n_b_as_a__small"] == 18
    assert list(table.columns[:2]) == ["label_a", "label_b"]
    assert table["confusion_rate"].is_monotonic_decreasing
    # merging a confused pair raises accuracy
    assert rows[("a", "b")]["accuracy_gain"] > 0
    assert "2/2 models" in rows[("a", "b")]["evidence"]


def test_confusion_counts():
    labels = np.array([0, 0, 1, 2])
    pred = _onehot(np.array([0, 1, 1, 0]), 3)
    c = get_confusion_counts(labels, pred)
    assert c.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]
