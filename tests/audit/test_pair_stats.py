"""The statistics of the pair diagnosis: expectation, Poisson tail, intervals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import poisson
from sklearn.metrics import roc_auc_score

from audit.pair_stats import (
    get_auc_interval,
    get_bootstrap_weights,
    get_expected_confusion,
    get_poisson_p_values,
    get_q_values,
    get_ratio_interval,
)


def test_expected_confusion_follows_the_other_classes_error_profiles():
    counts = np.array([[90, 6, 4, 0], [2, 95, 3, 0], [8, 0, 92, 0], [0, 0, 5, 95]])
    e = get_expected_confusion(counts, uniform_weight=0.0)
    assert np.allclose(np.diag(e), 0)
    assert np.allclose(e.sum(1), counts.sum(1) - np.diag(counts))  # every class's errors, no more
    # class 0's 10 errors follow the profiles of classes 1 (0.4 -> 0, 0.6 -> 2), 2 (all -> 0) and
    # 3 (all -> 2), column 0 dropped: class 1 gets nothing, class 2 gets everything
    assert e[0, 1] == pytest.approx(0.0) and e[0, 2] == pytest.approx(10.0)
    # class 3's 5 errors: mean of the profiles of 0 (0, .6, .4), 1 (.4, 0, .6), 2 (1, 0, 0)
    assert e[3, :3] == pytest.approx(5 * np.array([1.4, 0.6, 1.0]) / 3)
    # mixing with the uniform profile keeps every expectation above zero
    mixed = get_expected_confusion(counts)
    assert (mixed[:3][~np.eye(4, dtype=bool)[:3]] > 0).all()
    assert mixed[0, 1] == pytest.approx(0.5 * 10 / 3) and np.allclose(mixed.sum(1), e.sum(1))


def test_expected_confusion_without_errors_elsewhere_is_uniform():
    counts = np.diag([10, 10, 10]).astype(float)
    counts[0, 1] = 4
    e = get_expected_confusion(counts)
    assert e[0, 1] == pytest.approx(2.0) and e[0, 2] == pytest.approx(2.0)


def test_poisson_p_values_match_scipy_on_whole_counts():
    x = np.array([0, 1, 3, 10])
    mu = np.array([0.5, 0.5, 2.0, 1.0])
    expected = np.where(x > 0, poisson.sf(x - 1, mu), 1.0)
    assert np.allclose(get_poisson_p_values(x, mu), expected)
    # fractional means lie between their neighbours; zero expectation makes any count certain
    assert get_poisson_p_values(2.0, 1.0) > get_poisson_p_values(2.5, 1.0) > get_poisson_p_values(3.0, 1.0)
    assert get_poisson_p_values(1.0, 0.0) == 0.0


def test_q_values_are_benjamini_hochberg():
    q = get_q_values(np.array([0.01, 0.04, 0.03, 0.5]))
    assert np.allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.5])  # p * n / rank, then the running minimum


def test_ratio_interval_brackets_the_estimate_and_narrows_with_rows():
    rng = np.random.default_rng(0)
    small = rng.random(20) < 0.3
    large = rng.random(2000) < 0.3
    est, lo, hi = get_ratio_interval(small.astype(float), np.ones(20))
    assert lo <= est <= hi and est == pytest.approx(small.mean())
    est2, lo2, hi2 = get_ratio_interval(large.astype(float), np.ones(2000))
    assert lo2 <= 0.3 <= hi2 and (hi2 - lo2) < (hi - lo)
    assert all(np.isnan(get_ratio_interval(np.zeros(3), np.zeros(3))))


def test_auc_interval():
    rng = np.random.default_rng(1)
    y = np.repeat([False, True], 50)
    score = rng.random(100) + y * 0.8
    auc, lo, hi = get_auc_interval(y, score)
    assert auc == pytest.approx(roc_auc_score(y, score)) and lo < auc < hi <= 1
    chance, lo0, hi0 = get_auc_interval(y, rng.random(100))
    assert lo0 < 0.5 < hi0
    assert np.isnan(get_auc_interval(np.ones(5, bool), np.ones(5))[0])


@pytest.mark.parametrize("n_rows, n_bootstrap, seed", [(10_003, 1000, 0), (7, 50, 3), (1, 4, 1)])
def test_bootstrap_weights_count_the_seeded_draws_of_each_resample(n_rows, n_bootstrap, seed):
    """Every interval's resamples are the counts of ``default_rng(seed).integers(0, n, (B, n))``:
    the same draws whatever the counting does (taking them as int32 must not change a value)."""
    weights = get_bootstrap_weights(n_rows, n_bootstrap=n_bootstrap, seed=seed)
    draws = np.random.default_rng(seed).integers(0, n_rows, size=(n_bootstrap, n_rows))
    expected = np.stack([np.bincount(row, minlength=n_rows) for row in draws]).astype(float)
    assert weights.dtype == np.float64
    np.testing.assert_array_equal(weights, expected)
    assert (weights.sum(1) == n_rows).all()
