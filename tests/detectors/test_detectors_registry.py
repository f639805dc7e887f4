import json

import numpy as np
import pytest

from audit.detectors import DEFAULT_DETECTORS, DetectorContext, applicable_detectors, available_detectors, run_detectors
from labelcore.errors import ConfigError


@pytest.fixture(scope="module")
def demo_context(demo_train, demo_test, demo_pred_probs, demo_embeddings):
    return DetectorContext(
        demo_train, pred_probs_list=demo_pred_probs, model_names=["minilm", "tfidf"],
        test=demo_test, embeddings=demo_embeddings,
    )


def test_every_detector_returns_the_same_shape(demo_context):
    results = run_detectors(DEFAULT_DETECTORS, demo_context)
    n = len(demo_context.dataset)
    assert list(results) == list(DEFAULT_DETECTORS) == list(available_detectors())
    for name, r in results.items():
        assert r.is_issue.shape == r.score.shape == r.reason.shape == (n,), name
        assert r.is_issue.dtype == bool and r.score.dtype == float, name
        assert ((r.score >= 0) & (r.score <= 1)).all(), name
        assert 0 <= r.summary_score <= 1, name
        has_reason = np.array([isinstance(s, str) and s != "" for s in r.reason])
        assert (has_reason == r.is_issue).all(), f"{name}: a reason for exactly the flagged rows"
        json.dumps(r.info)  # JSON-serialisable


def test_label_issues_detector_wraps_the_ensemble_function(demo_context):
    from audit.aggregation import find_label_issues_ensemble

    r = run_detectors(["label_issues"], demo_context)["label_issues"]
    table, _, weights = find_label_issues_ensemble(
        demo_context.labels, demo_context.pred_probs_list, model_names=["minilm", "tfidf"]
    )
    assert (r.is_issue == table["is_label_issue"].to_numpy()).all()
    np.testing.assert_allclose(r.score, table["label_quality"], atol=1e-9)
    np.testing.assert_allclose(r.info["ensemble_weights"], weights, atol=1e-6)
    assert r.n_issues > 0
    first = r.reason[np.flatnonzero(r.is_issue)[0]]
    assert " of 2 models disagree with '" in first


def test_label_issues_detector_reports_a_precomputed_table(demo_context):
    import dataclasses

    from audit.aggregation import find_label_issues_ensemble

    table, _, _ = find_label_issues_ensemble(
        demo_context.labels, demo_context.pred_probs_list, model_names=["minilm", "tfidf"], filter_by="both"
    )
    given = dataclasses.replace(demo_context, label_issue_table=table)
    r = run_detectors(["label_issues"], given)["label_issues"]
    assert (r.is_issue == table["is_label_issue"].to_numpy()).all()
    np.testing.assert_allclose(r.score, table["label_quality"], atol=1e-12)


def test_registry_rejects_unknown_names_options_and_missing_inputs(demo_context, demo_train):
    with pytest.raises(ConfigError, match="unknown detector 'nope'"):
        run_detectors(["label_issues", "nope"], demo_context)
    with pytest.raises(ConfigError, match="no option"):
        run_detectors(["outliers"], demo_context, options={"outliers": {"bogus": 1}})
    with pytest.raises(ConfigError, match="not run"):
        run_detectors(["outliers"], demo_context, options={"duplicates": {"threshold": 0.9}})
    bare = DetectorContext(demo_train)
    with pytest.raises(ConfigError, match="needs test"):
        run_detectors(["leakage"], bare)
    assert applicable_detectors(bare) == ["duplicates"]  # exact duplicates need no embeddings
    assert "leakage" not in applicable_detectors(DetectorContext(demo_train, embed=lambda t: None))


def test_embeddings_are_computed_once_and_only_when_needed(demo_train, demo_embeddings, demo_pred_probs):
    calls = []

    def embed(texts):
        calls.append(len(texts))
        return demo_embeddings

    ctx = DetectorContext(demo_train, pred_probs_list=demo_pred_probs, embed=embed)
    run_detectors(["label_issues", "class_quality"], ctx)
    assert calls == []
    run_detectors(["duplicates", "outliers"], ctx)
    assert calls == [len(demo_train)]


def test_duplicates_and_outliers_share_one_neighbour_graph(demo_train, demo_embeddings, monkeypatch):
    """One kNN search of the embeddings for both detectors (for the largest k asked), and the same
    results as each with a graph of its own."""
    import audit.detectors.base as base

    searches = []
    real = base.find_nearest_neighbors
    monkeypatch.setattr(base, "find_nearest_neighbors", lambda e, *, k: searches.append(k) or real(e, k=k))
    options = {"outliers": {"k": 12}}
    shared = run_detectors(["duplicates", "outliers"], DetectorContext(demo_train, embeddings=demo_embeddings),
                           options=options)
    assert searches == [10, 12]  # duplicates asked first, for fewer; outliers' larger k is searched once more
    searches.clear()
    again = run_detectors(["outliers", "duplicates"], DetectorContext(demo_train, embeddings=demo_embeddings),
                          options=options)
    assert searches == [12]  # the larger first: duplicates reads its 10 from it
    for name in ("duplicates", "outliers"):
        np.testing.assert_allclose(again[name].score, shared[name].score, atol=1e-6)
        assert again[name].is_issue.tolist() == shared[name].is_issue.tolist()
