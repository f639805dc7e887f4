"""torch's L-BFGS solves scikit-learn's logistic-regression objective: same solution, same estimator."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from finetune.backends.softmax_lbfgs import fit_logistic_regression


def _problem(n=600, d=300, k=6, seed=0):
    """Sparse non-negative features (TF-IDF-like) with class-dependent words, some label noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = sp.random(n, d, density=0.03, random_state=seed, format="lil", dtype=np.float32)
    for i, c in enumerate(y):
        X[i, c * 5 + rng.integers(0, 5)] = 1.0
    y = np.where(rng.random(n) < 0.1, rng.integers(0, k, n), y)
    names = np.array([f"class_{c}" for c in range(k)])
    return X.tocsr(), names[y]


def _objective(model, X, y, C):
    proba = model.predict_proba(X)
    rows = np.searchsorted(model.classes_, y)
    return -np.log(proba[np.arange(len(y)), rows]).mean() + (model.coef_ ** 2).sum() / (2 * C * len(y))


def test_it_reaches_the_solution_scikit_learn_converges_to():
    X, y = _problem()
    reference = LogisticRegression(C=30, tol=1e-10, max_iter=5000).fit(X.astype(np.float64), y)
    ours = fit_logistic_regression(X, y, C=30, tol=1e-6, max_iter=2000)
    assert isinstance(ours, LogisticRegression)
    assert list(ours.classes_) == list(reference.classes_)
    assert ours.coef_.shape == reference.coef_.shape and ours.intercept_.shape == reference.intercept_.shape
    assert _objective(ours, X, y, 30) == pytest.approx(_objective(reference, X, y, 30), rel=1e-4)
    assert np.abs(ours.predict_proba(X) - reference.predict_proba(X)).max() < 5e-3
    assert ours.n_iter_[0] > 1


def test_a_loose_tolerance_stops_sooner_and_further_from_the_optimum():
    X, y = _problem(seed=1)
    tight = fit_logistic_regression(X, y, C=30, tol=1e-6, max_iter=2000)
    loose = fit_logistic_regression(X, y, C=30, tol=1e-2, max_iter=2000)
    assert loose.n_iter_[0] < tight.n_iter_[0]
    assert _objective(loose, X, y, 30) > _objective(tight, X, y, 30)


def test_a_warm_start_at_the_solution_stays_there():
    X, y = _problem(seed=2)
    solved = fit_logistic_regression(X, y, C=10, tol=1e-6, max_iter=2000)
    again = fit_logistic_regression(X, y, C=10, tol=1e-4, max_iter=2000, init=(solved.coef_, solved.intercept_))
    assert again.n_iter_[0] <= 2
    np.testing.assert_allclose(again.predict_proba(X), solved.predict_proba(X), atol=1e-4)


def test_it_is_deterministic():
    X, y = _problem(seed=3)
    first = fit_logistic_regression(X, y, C=30, tol=1e-4, max_iter=300)
    second = fit_logistic_regression(X, y, C=30, tol=1e-4, max_iter=300)
    np.testing.assert_array_equal(first.coef_, second.coef_)


def test_two_classes_are_scikit_learns_own_binary_model():
    X, y = _problem(k=2, seed=4)
    ours = fit_logistic_regression(X, y, C=30, tol=1e-4, max_iter=300)
    reference = LogisticRegression(C=30, tol=1e-4, max_iter=300).fit(X, y)
    assert ours.coef_.shape == (1, X.shape[1])
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), atol=1e-6)


def test_one_class_is_refused_as_scikit_learn_refuses_it():
    X, _ = _problem(seed=5)
    with pytest.raises(ValueError, match="class"):
        fit_logistic_regression(X, np.array(["a"] * X.shape[0]), C=30, tol=1e-4, max_iter=300)


def test_columns_no_training_row_has_are_left_out_and_stay_zero():
    X, y = _problem(seed=6)
    empty = sp.csr_matrix((X.shape[0], 40), dtype=np.float32)
    widened = sp.hstack([X[:, :100], empty, X[:, 100:]], format="csr")  # 40 features only held-out rows would have
    ours = fit_logistic_regression(widened, y, C=30, tol=1e-6, max_iter=2000)
    narrow = fit_logistic_regression(X, y, C=30, tol=1e-6, max_iter=2000)
    assert ours.coef_.shape == (6, X.shape[1] + 40) and ours.n_features_in_ == X.shape[1] + 40
    assert not ours.coef_[:, 100:140].any()
    np.testing.assert_allclose(np.delete(ours.coef_, np.s_[100:140], axis=1), narrow.coef_, atol=1e-6)
    held_out = sp.random(5, X.shape[1] + 40, density=0.3, random_state=0, format="csr", dtype=np.float32)
    assert ours.predict_proba(held_out).shape == (5, 6)  # rows with those features are still predicted


def test_a_warm_start_across_left_out_columns_keeps_the_solution():
    X, y = _problem(seed=7)
    widened = sp.hstack([X, sp.csr_matrix((X.shape[0], 10), dtype=np.float32)], format="csr")
    solved = fit_logistic_regression(widened, y, C=10, tol=1e-6, max_iter=2000)
    again = fit_logistic_regression(widened, y, C=10, tol=1e-4, max_iter=2000, init=(solved.coef_, solved.intercept_))
    assert again.n_iter_[0] <= 2
    np.testing.assert_allclose(again.coef_, solved.coef_, atol=1e-4)



def test_a_fit_leaves_torchs_compiler_unloaded_and_the_optimizer_class_as_it_was():
    """torch.optim's constructor would import torch._dynamo (~0.9 s of a fresh worker's start);
    the fit does without it, and a later optimizer gets torch's own wrapper back."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import sys
        import numpy as np, scipy.sparse as sp, torch
        from finetune.backends.softmax_lbfgs import fit_logistic_regression
        X = sp.random(60, 20, density=0.3, random_state=0, format="csr", dtype=np.float32)
        model = fit_logistic_regression(X, np.arange(60) % 3, C=1.0, tol=1e-4, max_iter=50)
        assert model.n_iter_[0] > 1
        print("dynamo" if "torch._dynamo" in sys.modules else "no dynamo")
        method = torch.optim.Optimizer.add_param_group.__wrapped__
        print("cached" if hasattr(method, "__dynamo_disable") else "not cached")
        torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
        print("dynamo" if "torch._dynamo" in sys.modules else "no dynamo")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:3] == ["no dynamo", "not cached", "dynamo"]


def _with_single_row_columns(X, seed=0, n_columns=120):
    """``X`` and ``n_columns`` more columns, each with one nonzero (a word seen in one text):
    several in some rows, none in others."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, X.shape[0] // 3, n_columns)  # a third of the rows hold them all
    extra = sp.csr_matrix((rng.uniform(0.1, 1.0, n_columns).astype(np.float32), (rows, np.arange(n_columns))),
                          shape=(X.shape[0], n_columns))
    return sp.hstack([extra[:, :50], X, extra[:, 50:]], format="csr", dtype=np.float32)


def _with_parallel_columns(X, seed=0):
    """``X`` with single-row columns (:func:`_with_single_row_columns`) and identical columns: the
    n-grams of rare words, each word in 2-4 rows with the same value in all its n-grams, 2-6 of them."""
    rng = np.random.default_rng(seed)
    blocks = []
    for _ in range(40):
        rows = rng.choice(X.shape[0], rng.integers(2, 5), replace=False)
        column = sp.csr_matrix((rng.uniform(0.1, 1.0, len(rows)).astype(np.float32), (rows, np.zeros(len(rows), int))),
                               shape=(X.shape[0], 1))
        blocks += [column] * int(rng.integers(2, 7))
    wide = _with_single_row_columns(X, seed=seed)
    return sp.hstack([wide[:, :30], *blocks[:60], wide[:, 30:], *blocks[60:]], format="csr", dtype=np.float32)


def test_parallel_columns_are_merged_and_give_scikit_learns_solution():
    """Columns of one row merged per row, identical columns merged into one, for the solve, and
    expanded after: every weight, those columns' too, is the one scikit-learn converges to."""
    X, y = _problem(seed=8)
    wide = _with_parallel_columns(X)
    reference = LogisticRegression(C=30, tol=1e-10, max_iter=5000).fit(wide.astype(np.float64), y)
    ours = fit_logistic_regression(wide, y, C=30, tol=1e-6, max_iter=3000)
    assert ours.coef_.shape == reference.coef_.shape
    assert _objective(ours, wide, y, 30) == pytest.approx(_objective(reference, wide, y, 30), rel=1e-4)
    np.testing.assert_allclose(ours.coef_, reference.coef_, atol=2e-2)
    single = np.flatnonzero(np.diff(wide.tocsc().indptr) == 1)
    assert len(single) >= 120 and np.abs(ours.coef_[:, single]).max() > 0.1  # they were fitted, not dropped
    np.testing.assert_allclose(ours.coef_[:, single], reference.coef_[:, single], atol=2e-2)
    copies = np.flatnonzero(np.diff(wide.tocsc().indptr) <= 4)
    copies = copies[~np.isin(copies, single)]
    assert len(copies) >= 80 and np.abs(ours.coef_[:, copies]).max() > 0.1
    np.testing.assert_allclose(ours.coef_[:, copies], reference.coef_[:, copies], atol=2e-2)


def test_a_warm_start_across_merged_columns_keeps_the_solution():
    X, y = _problem(seed=9)
    wide = _with_parallel_columns(X, seed=1)
    solved = fit_logistic_regression(wide, y, C=10, tol=1e-6, max_iter=3000)
    again = fit_logistic_regression(wide, y, C=10, tol=1e-4, max_iter=3000, init=(solved.coef_, solved.intercept_))
    assert again.n_iter_[0] <= 2
    np.testing.assert_allclose(again.coef_, solved.coef_, atol=1e-4)


def test_merging_is_an_isometry_that_project_undoes():
    from finetune.backends.merged_columns import merge_parallel_columns

    X, _ = _problem(seed=10)
    wide = _with_parallel_columns(X, seed=2)
    merged = merge_parallel_columns(wide.copy())
    n_copies = 40 * 4 - 40  # at least: 40 rare words of 2+ n-grams each, one column left per word
    assert merged is not None and merged.matrix.shape[1] < wide.shape[1] - 50 and len(merged.columns) > n_copies
    v = np.random.default_rng(0).normal(size=(merged.matrix.shape[1], 4)).astype(np.float32)
    w = merged.expand(v)
    np.testing.assert_allclose(wide @ w, merged.matrix @ v, rtol=1e-4, atol=1e-5)  # the same logits
    assert (w ** 2).sum() == pytest.approx((v ** 2).sum(), rel=1e-5)  # the same penalty
    np.testing.assert_allclose(merged.project(w), v, rtol=1e-4, atol=1e-5)
