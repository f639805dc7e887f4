"""Active re-ranking: batches, re-scoring with corrected labels, the reviews-to-90% count."""

import numpy as np
import pytest

from audit.rerank import oof_scorer, rerank_review, reviews_to_find, run_rerank_benchmark
from finetune.backends import parse_backend_spec
from labelcore.data import load_data


def test_reviews_to_find():
    is_error = np.array([0, 1, 0, 1, 1, 0, 0, 1, 0, 1], bool)   # 5 errors: 90% -> 5 needed
    assert reviews_to_find(np.arange(10), is_error, share=0.9) == 10
    assert reviews_to_find(np.array([1, 3, 4, 7, 9, 0, 2, 5, 6, 8]), is_error, share=0.9) == 5
    assert reviews_to_find(np.array([1, 3, 4, 0, 2]), is_error, share=0.6) == 3
    assert reviews_to_find(np.array([0, 2]), is_error, share=0.9) is None


def test_rerank_review_rescored_after_each_batch_with_the_corrected_labels():
    demo = load_data("demo").train
    n = len(demo)
    truth = demo.labels.copy()
    noisy = truth.copy()
    noisy[:20] = (noisy[:20] + 1) % len(demo.classes)
    seen_labels = []

    def scorer(labels):   # scores reflect the labels it is given: wrong rows score low
        seen_labels.append(labels.copy())
        return np.where(labels != truth, 0.0, 1.0) + np.linspace(0, 0.01, n), {}

    loop = rerank_review(demo.with_labels(noisy), scorer, lambda rows: truth[rows], batch_size=8,
                         stop=lambda reviewed, labels: bool((labels == truth).all()))
    assert len(loop["order"]) == len(set(loop["order"].tolist())) == 24      # 3 batches of 8
    assert set(loop["order"][:20].tolist()) == set(range(20))
    assert (loop["labels"] == truth).all()
    assert [r["n_reviewed"] for r in loop["rounds"]] == [8, 16, 24]
    assert [r["n_relabelled"] for r in loop["rounds"]] == [8, 8, 4]
    assert (seen_labels[1][:20] != seen_labels[0][:20]).sum() == 8          # the scorer saw the fixes


def test_a_batch_that_changes_no_label_reuses_every_cached_fold(tmp_path):
    demo = load_data("demo").train
    score = oof_scorer(demo, parse_backend_spec("tfidf-lr:char_ngrams=0", seed=0), n_folds=3,
                       cache_dir=str(tmp_path))
    first, info_first = score(demo.labels.copy())
    again, info_again = score(demo.labels.copy())
    assert (info_first["folds_cached"], info_again["folds_cached"]) == (0, 3)
    np.testing.assert_allclose(first, again)
    changed = demo.labels.copy()
    changed[0] = (changed[0] + 1) % len(demo.classes)
    _, info_changed = score(changed)
    assert info_changed["folds_cached"] == 0


@pytest.mark.slow
def test_benchmark_counts_are_consistent(tmp_path):
    demo = load_data("demo")
    result = run_rerank_benchmark(demo, parse_backend_spec("tfidf-lr:char_ngrams=0", seed=1), batch_size=10,
                                  rate=0.05, seed=1, n_folds=3, cache_dir=str(tmp_path))
    assert result["n_to_find"] == int(np.ceil(0.9 * result["n_flipped"]))
    assert result["static_reviews"] >= result["n_to_find"]
    found = [r["n_found"] for r in result["rounds"]]
    assert found == sorted(found)
    if result["reranked_reviews"] is not None:
        assert result["n_to_find"] <= result["reranked_reviews"] <= result["static_reviews"]
        assert found[-1] >= result["n_to_find"]
        assert result["reranked_reviews"] <= result["rounds"][-1]["n_reviewed"]


def test_corrected_labels_apply_relabels_and_mark_reviewed():
    import pandas as pd

    from audit.rerank import corrected_labels

    demo = load_data("demo").train
    e0, e1, e2 = demo.example_ids[:3]
    other = demo.classes[(demo.labels[0] + 1) % len(demo.classes)]
    log = pd.DataFrame({"example_id": [e0, e1, "pair:a|b", e2, e2],
                        "decision": ["relabel", "keep", "merge", "relabel", "keep"],
                        "new_label": [other, demo.classes[demo.labels[1]], "a", other, demo.classes[demo.labels[2]]]})
    labels, reviewed = corrected_labels(demo, log)
    assert demo.classes[labels[0]] == other
    assert labels[2] == demo.labels[2]                     # the last decision of an id counts
    assert list(np.flatnonzero(reviewed)) == [0, 1, 2]
    assert (labels[3:] == demo.labels[3:]).all()


def test_rerank_after_review_never_flags_a_reviewed_row(tmp_path):
    import pandas as pd

    from audit.rerank import rerank_after_review

    demo = load_data("demo").train
    config = parse_backend_spec("tfidf-lr:char_ngrams=0", seed=0)
    from audit.pipeline import find_issues

    first = find_issues(demo, [config], n_folds=3, cache_dir=str(tmp_path), rounds=1, detectors=["label_issues"])
    top = first.issues[first.issues["is_label_issue"]].head(5)
    log = pd.DataFrame({"example_id": top["example_id"], "decision": "relabel", "new_label": top["suggested_label"]})
    again, n_reviewed = rerank_after_review(demo, log, [config], n_folds=3, cache_dir=str(tmp_path), rounds=1,
                                detectors=["label_issues"])
    redone = again.issues.set_index("example_id").loc[top["example_id"]]
    assert not redone["is_label_issue"].any()
    assert (redone["given_label"] == top["suggested_label"].to_numpy()).all()   # scored with the corrected labels
    assert n_reviewed == 5 and again.summary.n_label_issues == int(again.issues["is_label_issue"].sum())
