"""Shared label-free features and warm starts in the out-of-fold engine (issue #12): every row is
still predicted by a model that never saw its label, and a result does not depend on whether
the round before it came from the cache."""

import numpy as np
import pytest

from finetune.backends import parse_backend_spec
from finetune.oof import cross_val_predict_proba, cross_val_predict_proba_many


@pytest.fixture(scope="module")
def demo():
    from labelcore.data import load_data

    return load_data("demo").train


def test_second_round_starts_from_the_first_and_is_the_same_whether_cached_or_not(demo, tmp_path):
    config = parse_backend_spec("tfidf-lr", seed=0)
    mask = np.ones(len(demo), bool)
    mask[::7] = False  # as if every 7th row had been flagged
    first = cross_val_predict_proba(config, demo, n_folds=3, seed=0, cache_dir=str(tmp_path / "a"))
    assert all(s is not None and s["coef"].dtype == np.float32 for s in first.states)
    assert first.prepared is not None and first.prepared.matrix.shape[0] == len(demo)
    warm = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, train_mask=mask, cache_dir=str(tmp_path / "a"),
                                        init_states=[first.states], prepared=[first.prepared])[0]
    cold = cross_val_predict_proba(config, demo, n_folds=3, seed=0, train_mask=mask)
    # the same convex problem: a warm start ends near the cold optimum
    assert np.abs(warm.pred_probs - cold.pred_probs).mean() < 5e-3  # both stop at tol, from different starts
    assert np.mean(warm.pred_probs.argmax(1) == cold.pred_probs.argmax(1)) > 0.98
    # round 1 read back from the cache (its states with it): round 2 is bit-identical
    again = cross_val_predict_proba(config, demo, n_folds=3, seed=0, cache_dir=str(tmp_path / "a"))
    assert again.cached.all()
    for s, t in zip(first.states, again.states):
        assert all(np.array_equal(s[k], t[k]) for k in s)
    fresh = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, train_mask=mask, cache_dir=str(tmp_path / "b"),
                                         init_states=[again.states])[0]
    np.testing.assert_array_equal(fresh.pred_probs, warm.pred_probs)


def test_a_state_of_other_classes_is_ignored_and_the_fit_starts_cold(demo):
    from finetune.backends import make_backend

    texts, y = list(demo.texts), np.asarray(demo.label_names)
    model = make_backend("tfidf-lr").fit(texts, y)
    state = model.warm_start_state()
    keep = y != y[0]  # one class fewer
    warm = make_backend("tfidf-lr").fit([t for t, k in zip(texts, keep) if k], y[keep], init=state)
    cold = make_backend("tfidf-lr").fit([t for t, k in zip(texts, keep) if k], y[keep])
    np.testing.assert_allclose(warm.predict_proba(texts[:20]), cold.predict_proba(texts[:20]), atol=1e-12)


def test_shared_features_keep_predictions_out_of_fold(demo):
    """The vectorizer is fitted on every text (no labels): a fold's prediction of a row never
    used that row's label - flipping the labels of fold 0's rows leaves fold 0's predictions."""
    config = parse_backend_spec("tfidf-lr", seed=0)
    base = cross_val_predict_proba(config, demo, n_folds=3, seed=0)
    flipped = demo.labels.copy()
    rows = np.flatnonzero(base.folds == 0)
    flipped[rows] = (flipped[rows] + 1) % len(demo.classes)
    import dataclasses

    from finetune.backends.tfidf import TfidfLRBackend
    from finetune.oof import _run_fold

    other = dataclasses.replace(demo, labels=flipped)
    train = np.flatnonzero(base.folds != 0)  # the same folds for both label sets
    a, b = (_run_fold((list(d.texts), np.asarray(d.label_names)), TfidfLRBackend, config, train, rows,
                      tuple(demo.classes), base.prepared)[0] for d in (demo, other))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, base.pred_probs[rows], atol=1e-12)
