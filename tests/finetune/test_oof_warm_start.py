"""Shared label-free features and warm starts (issue #12): every row is still predicted by a
model that never saw its label; a final model starts from a fold's solution (tfidf-lr's in the
fold's own task); a second round's fold starts from the first round's solution of the same
fold, and ends near where a cold fit ends."""

import numpy as np
import pytest

from finetune.backends import parse_backend_spec
from finetune.oof import cross_val_predict_proba, cross_val_predict_proba_many


@pytest.fixture(scope="module")
def demo():
    from labelcore.data import load_data

    return load_data("demo").train


def test_second_round_shares_the_features_starts_cold_and_caches_the_states(demo, tmp_path):
    config = parse_backend_spec("minilm-lr", seed=0)
    mask = np.ones(len(demo), bool)
    mask[::7] = False  # as if every 7th row had been flagged
    first = cross_val_predict_proba(config, demo, n_folds=3, seed=0, cache_dir=str(tmp_path / "a"))
    assert all(s is not None and s["coef"].shape == (len(demo.classes), 384) for s in first.states)
    assert first.prepared is not None and first.prepared.matrix.shape[0] == len(demo)
    shared = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, train_mask=mask,
                                          cache_dir=str(tmp_path / "a"), prepared=[first.prepared])[0]
    alone = cross_val_predict_proba(config, demo, n_folds=3, seed=0, train_mask=mask, cache_dir=str(tmp_path / "b"))
    # the features are label-free, so sharing them changes nothing: the same fits, cold
    np.testing.assert_array_equal(shared.pred_probs, alone.pred_probs)
    # the fold models' states come back from the cache as they were saved
    again = cross_val_predict_proba(config, demo, n_folds=3, seed=0, cache_dir=str(tmp_path / "a"))
    assert again.cached.all()
    for s, t in zip(first.states, again.states):
        assert s.keys() == t.keys() and all(np.array_equal(s[k], t[k]) for k in s)


def test_a_backend_whose_final_model_trains_beside_the_folds_keeps_no_state(demo, tmp_path):
    result = cross_val_predict_proba(parse_backend_spec("tfidf-lr", seed=0), demo, n_folds=3, seed=0,
                                     cache_dir=str(tmp_path))
    assert result.states == (None, None, None)
    # with the final model: fold 0's solution only, which the final model starts from
    final = cross_val_predict_proba_many([parse_backend_spec("tfidf-lr", seed=0)], demo, n_folds=3, seed=0,
                                         fit_final=True, cache_dir=str(tmp_path))[0]
    assert final.states[0] is not None and final.states[1:] == (None, None)
    assert final.cached[1:].all() and not final.cached[0]  # fold 0 had been cached without it


def test_the_final_model_started_from_a_fold_ends_near_the_cold_optimum(demo, tmp_path):
    from finetune.backends import make_backend

    texts, y = list(demo.texts), np.asarray(demo.label_names)
    spec = f"minilm-lr:cache_dir={tmp_path}"
    shared = make_backend(spec).prepare(texts)  # as in the pipeline: one set of embeddings
    part = np.arange(len(texts)) % 3 != 0  # a fold: two thirds of the rows, every class in it
    fold = make_backend(spec).fit([t for t, k in zip(texts, part) if k], y[part], prepared=shared)
    warm = make_backend(spec).fit(texts, y, prepared=shared, init=fold.warm_start_state())
    cold = make_backend(spec).fit(texts, y, prepared=shared)
    assert warm.model_.n_iter_[0] < cold.model_.n_iter_[0]  # the point of starting there
    p, q = warm.predict_proba(texts), cold.predict_proba(texts)
    assert np.abs(p - q).mean() < 5e-3 and np.mean(p.argmax(1) == q.argmax(1)) > 0.98


def test_a_state_of_other_classes_is_ignored_and_the_fit_starts_cold(demo, tmp_path):
    from finetune.backends import make_backend

    texts, y = list(demo.texts), np.asarray(demo.label_names)
    spec = f"minilm-lr:cache_dir={tmp_path}"
    state = make_backend(spec).fit(texts, y).warm_start_state()
    keep = y != y[0]  # one class fewer
    warm = make_backend(spec).fit([t for t, k in zip(texts, keep) if k], y[keep], init=state)
    cold = make_backend(spec).fit([t for t, k in zip(texts, keep) if k], y[keep])
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
                      tuple(demo.classes), base.prepared).pred_probs for d in (demo, other))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, base.pred_probs[rows], atol=1e-12)


def test_the_final_model_trains_beside_the_folds_near_a_fit_alone(demo, tmp_path):
    """``fit_final``: the task of the first fold also trains the final model on every row, from
    that fold's solution; it comes back without the shared features, predicts as a cold fit in
    this process does (within the solver's tolerance), is not cached, and changes no fold."""
    from finetune.backends import make_backend

    config = parse_backend_spec("tfidf-lr", seed=0)
    texts, y = list(demo.texts), np.asarray(demo.label_names)
    result = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, n_jobs=2, fit_final=True,
                                          cache_dir=str(tmp_path))[0]
    alone = make_backend(config).fit(texts, y, prepared=result.prepared)
    assert result.final is not None and result.final._prepared is None and result.final_seconds > 0
    p, q = result.final.predict_proba(texts), alone.predict_proba(texts)
    assert np.abs(p - q).mean() < 5e-3 and np.mean(p.argmax(1) == q.argmax(1)) > 0.98
    without = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0)[0]
    assert without.final is None
    np.testing.assert_array_equal(result.pred_probs, without.pred_probs)  # the folds are the same
    # every fold cached: the final model trains alone, from fold 0's cached solution - the same
    # model as the one trained in fold 0's task
    cached = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, fit_final=True,
                                          cache_dir=str(tmp_path))[0]
    assert cached.cached.all() and cached.final is not None
    np.testing.assert_allclose(cached.final.predict_proba(texts), p, atol=1e-10)
    assert not np.allclose(cached.final.predict_proba(texts), q, atol=1e-10)  # not a cold fit


def test_the_final_model_predicts_the_given_texts_where_it_trains(demo, tmp_path):
    """``final_texts``: the final model's predictions of a test split come back with it, made in
    its task (in fold 0's, or alone when the folds are cached), and are what it predicts here."""
    from finetune.oof import predict_proba_canonical

    config = parse_backend_spec("tfidf-lr", seed=0)
    test = list(demo.texts[:40]) + ["a text no fold has seen", "card arrival?"]
    first = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, n_jobs=2, fit_final=True,
                                         final_texts=test, cache_dir=str(tmp_path))[0]
    cached = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, n_jobs=2, fit_final=True,
                                          final_texts=test, cache_dir=str(tmp_path))[0]
    assert cached.cached.all()
    for result in (first, cached):
        assert result.final_pred_probs.shape == (len(test), len(demo.classes))
        np.testing.assert_allclose(result.final_pred_probs,
                                   predict_proba_canonical(result.final, test, tuple(demo.classes)), atol=1e-12)
    without = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, fit_final=True)[0]
    assert without.final is not None and without.final_pred_probs is None


def test_the_callers_next_work_runs_beside_the_last_tasks_once_and_its_failure_is_left_to_the_caller(demo, tmp_path):
    """``while_waiting`` starts once, in its own driver thread, before the call returns; not at all
    when every fold is cached or the tasks run in this process; what it raises is not raised here."""
    import threading

    config = parse_backend_spec("tfidf-lr:char_ngrams=0", seed=0)
    calls: list[str] = []

    def note():
        calls.append(threading.current_thread().name)

    first = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, n_jobs=2, cache_dir=str(tmp_path),
                                         while_waiting=note)[0]
    assert calls == ["while-waiting"]
    calls.clear()
    cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, n_jobs=2, cache_dir=str(tmp_path),
                                 while_waiting=note)
    assert calls == []  # nothing trained: the caller does its work itself
    cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, n_jobs=1, while_waiting=note)
    assert calls == []  # the tasks ran here: no CPU of this process was idle

    def broken():
        calls.append("broken")
        raise ImportError("not installed")

    again = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, n_jobs=2, while_waiting=broken)[0]
    assert calls == ["broken"]
    np.testing.assert_array_equal(again.pred_probs, first.pred_probs)


def _count_iterations(monkeypatch, module):
    """Record ``n_iter_`` of every fit ``module`` makes with the shared solver (in this process)."""
    from finetune.backends import softmax_lbfgs

    seen = []

    def counted(*args, **kwargs):
        model = softmax_lbfgs.fit_logistic_regression(*args, **kwargs)
        seen.append(int(model.n_iter_[0]))
        return model

    monkeypatch.setattr(module, "fit_logistic_regression", counted)
    return seen


@pytest.mark.parametrize("spec, module", [("tfidf-lr", "finetune.backends.tfidf"),
                                          ("minilm-lr", "finetune.backends.minilm")])
def test_a_second_round_starts_from_the_first_rounds_folds_and_ends_near_a_cold_round(demo, tmp_path, monkeypatch,
                                                                                      spec, module):
    import importlib

    config = parse_backend_spec(spec, seed=0)
    module = importlib.import_module(module)
    mask = np.ones(len(demo), bool)
    mask[::7] = False  # as if every 7th row had been flagged
    cache = str(tmp_path / "cache")
    first = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, keep_states=True, cache_dir=cache)[0]
    assert all(s is not None and s["coef"].shape == (len(demo.classes), first.prepared.matrix.shape[1])
               for s in first.states)
    iterations = _count_iterations(monkeypatch, module)
    warm = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, train_mask=mask, cache_dir=cache,
                                        prepared=[first.prepared], warm_from=[first])[0]
    warm_steps, iterations[:] = sum(iterations), []
    cold = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, train_mask=mask, cache_dir=cache,
                                        prepared=[first.prepared])[0]
    assert not cold.cached.any()  # a cold round is another result, with cache entries of its own
    assert warm_steps < sum(iterations)  # the point of starting there
    p, q = warm.pred_probs, cold.pred_probs
    assert not np.array_equal(p, q)
    assert np.abs(p - q).mean() < 5e-3 and np.mean(p.argmax(1) == q.argmax(1)) > 0.98
    again = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, train_mask=mask, cache_dir=cache,
                                         prepared=[first.prepared], warm_from=[first])[0]
    assert again.cached.all()
    np.testing.assert_array_equal(again.pred_probs, p)


def test_cached_folds_without_their_solution_train_again_when_a_later_round_needs_it(demo, tmp_path):
    config = parse_backend_spec("tfidf-lr", seed=0)
    cache = str(tmp_path)
    plain = cross_val_predict_proba(config, demo, n_folds=3, seed=0, cache_dir=cache)
    assert plain.states == (None, None, None)  # its final model trains beside the folds: nothing kept
    kept = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, keep_states=True, cache_dir=cache)[0]
    assert not kept.cached.any() and all(s is not None for s in kept.states)
    np.testing.assert_array_equal(kept.pred_probs, plain.pred_probs)  # the same fits
    again = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, keep_states=True, cache_dir=cache)[0]
    assert again.cached.all()
    for s, t in zip(kept.states, again.states):
        assert all(np.array_equal(s[k], t[k]) for k in s)


def test_a_start_from_other_folds_is_refused(demo):
    config = parse_backend_spec("tfidf-lr", seed=0)
    first = cross_val_predict_proba_many([config], demo, n_folds=3, seed=0, keep_states=True)[0]
    with pytest.raises(ValueError, match="other folds"):
        cross_val_predict_proba_many([config], demo, n_folds=3, seed=1, warm_from=[first])
