"""Aggregating several models: ensemble weights, the noise-aware posterior, flags."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from audit.ensemble import get_ensemble_weights
from audit.aggregation import (
    find_label_issues_ensemble,
    get_label_quality_scores_ensemble,
    get_noise_aware_pred_probs,
    get_noise_transition,
)
from audit.noise import plant_noise


def _simulated(n_per_class=200, k=6, seed=0, rate=0.08):
    """Two 'models' that see the true class through noise; labels with near-class flips
    from class c to c+1 (a one-way systematic error), plus natural confusion between 2 and 3."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(k), n_per_class)
    confusion = np.eye(k)
    for c in range(k):
        confusion[c, (c + 1) % k] = 0.5
    noisy, flipped = plant_noise(truth, kind="near", rate=rate, seed=seed, confusion=confusion)
    models = []
    for s in range(2):
        logits = rng.normal(0, 1.0, (len(truth), k))
        logits[np.arange(len(truth)), truth] += 1.6
        # natural, symmetric confusion between classes 2 and 3
        both = np.isin(truth, [2, 3])
        logits[both, 2] += 1.2
        logits[both, 3] += 1.2
        # the model partly learns the flips (it was trained on noisy labels)
        logits[np.arange(len(truth)), noisy] += 0.4
        p = np.exp(logits - logits.max(1, keepdims=True))
        models.append(p / p.sum(1, keepdims=True))
    return truth, noisy, flipped, models


def test_noise_aware_posterior_is_a_distribution_and_ranks_better():
    truth, noisy, flipped, models = _simulated()
    avg = np.mean(models, 0)
    post = get_noise_aware_pred_probs(noisy, avg)
    assert post.shape == avg.shape and np.allclose(post.sum(1), 1)
    ap_plain, ap_aware = [], []
    for seed in range(4):
        _, noisy, flipped, models = _simulated(seed=seed)
        plain = get_label_quality_scores_ensemble(noisy, models, noise_aware=False)
        aware = get_label_quality_scores_ensemble(noisy, models, noise_aware=True)
        assert ((0 <= aware) & (aware <= 1)).all()
        ap_plain.append(average_precision_score(flipped, -plain))
        ap_aware.append(average_precision_score(flipped, -aware))
    # one-way (planted) confusion is kept, symmetric natural confusion discounted
    assert np.mean(ap_aware) > np.mean(ap_plain) + 0.01


def _systematic_pairs(seed: int, k: int = 10, n_per_class: int = 300):
    """30% of class 0 labelled 1 and of class 4 labelled 5 (one-way, systematic), natural
    two-way overlap between 2/3 and 6/7. Out of fold, the models learn the planted mapping for
    every row of the source class (not for the row's own label: they never saw it)."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(k), n_per_class)
    noisy, flipped = plant_noise(truth, kind="pairs", rate=0.3, seed=seed, n_classes=k, pairs=[(0, 1), (4, 5)])
    models = []
    for _ in range(3):
        logits = rng.normal(0, 1.0, (len(truth), k))
        logits[np.arange(len(truth)), truth] += 1.2
        for a, b in [(2, 3), (6, 7)]:
            both = np.isin(truth, [a, b])
            logits[both, a] += 1.5
            logits[both, b] += 1.5
        for a, b in [(0, 1), (4, 5)]:
            logits[truth == a, b] += 1.0
        p = np.exp(logits - logits.max(1, keepdims=True))
        models.append(p / p.sum(1, keepdims=True))
    return noisy, flipped, models


def test_systematic_pairs_outrank_natural_overlap():
    """The one-way excess the confident joint sees lifts planted pair flips above the rows of
    pairs that are merely ambiguous (both directions): twice the plain ensemble's AUPRC."""
    ap_plain, ap_aware = [], []
    for seed in range(3):
        noisy, flipped, models = _systematic_pairs(seed)
        plain = get_label_quality_scores_ensemble(noisy, models, noise_aware=False)
        aware = get_label_quality_scores_ensemble(noisy, models, noise_aware=True)
        ap_plain.append(average_precision_score(flipped, -plain))
        ap_aware.append(average_precision_score(flipped, -aware))
    assert np.mean(ap_aware) > 1.6 * np.mean(ap_plain)


def test_the_transition_fills_zeros_evenly_not_from_the_models_confusion():
    """A (given, true) pair the confident joint counts zero for keeps exactly floor / K, the same
    for every such pair: the models' natural confusion gets no extra weight."""
    joint = np.array([[50, 0, 0, 0], [10, 40, 0, 0], [0, 0, 30, 5], [0, 0, 5, 30]])
    t = get_noise_transition(joint, floor=0.04)
    assert np.allclose(t.sum(0), 1)
    assert np.allclose(t[joint == 0], 0.04 / 4)
    assert t[1, 0] == pytest.approx(0.96 * 10 / 60 + 0.01)
    assert np.allclose(get_noise_transition(joint, floor=0.0)[joint == 0], 0)


def test_flags_per_model_columns_and_agreement():
    truth, noisy, flipped, models = _simulated()
    table, ens, w = find_label_issues_ensemble(noisy, models, model_names=["a", "b"])
    assert len(table) == len(noisy) and np.allclose(w, [0.5, 0.5])
    assert {"pred__a", "quality__b", "flag__a", "n_models_disagree"} <= set(table.columns)
    flagged = table["is_label_issue"].to_numpy()
    precision = flipped[flagged].mean()
    recall = flagged[flipped].mean()
    from cleanlab.filter import find_label_issues

    # how many: as many as confident learning flags; which: the lowest noise-aware scores
    assert flagged.sum() == find_label_issues(noisy, ens).sum()
    assert precision > 0.9 and recall > 0.3
    assert (table["n_models_disagree"] == (table["pred__a"] != noisy).astype(int) + (table["pred__b"] != noisy)).all()
    # a flagged row's suggestion is mostly its true label
    assert (table.loc[flagged & flipped, "suggested"].to_numpy() == truth[flagged & flipped]).mean() > 0.8


def test_cleanlab_filter_option_and_bad_filter():
    _, noisy, _, models = _simulated()
    table, _, _ = find_label_issues_ensemble(noisy, models, model_names=["a", "b"], filter_by="prune_by_noise_rate")
    assert table["is_label_issue"].any()
    with pytest.raises(ValueError, match="filter_by"):
        find_label_issues_ensemble(noisy, models, model_names=["a", "b"], filter_by="nope")


def test_log_loss_weights_prefer_the_better_model():
    truth, noisy, _, models = _simulated()
    k = models[0].shape[1]
    uniform = np.full_like(models[0], 1 / k)
    w = get_ensemble_weights(noisy, [models[0], uniform])
    assert w[0] > 0.9 and np.isclose(w.sum(), 1)
