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

    k = len(demo.classes)

    def scorer(labels):   # probabilities that know the truth: wrong labels get low label quality
        seen_labels.append(labels.copy())
        probs = np.full((n, k), 0.1 / (k - 1))
        probs[np.arange(n), truth] = 0.9
        return probs, {}

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
    assert first.shape == (len(demo), len(demo.classes))
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


def test_rerank_learns_from_the_decisions_and_the_export_follows_it(tmp_path):
    import pandas as pd

    from audit.formats.run_folder import write_run_folder
    from audit.labelstudio.tasks import flagged_issues, read_review_source
    from audit.pipeline import find_issues
    from audit.rerank import rerank_after_review

    demo = load_data("demo").train
    truth = dict(zip(demo.example_ids, demo.extra["true_label"]))
    config = parse_backend_spec("tfidf-lr:char_ngrams=0", seed=0)
    options = dict(n_folds=3, cache_dir=str(tmp_path / "cache"), rounds=1, detectors=["label_issues"])
    first = find_issues(demo, [config], **options)
    worst = first.issues.head(100)                               # worst label quality first
    wrong = np.array([truth[e] != g for e, g in zip(worst["example_id"], worst["given_label"])])
    skipped = np.flatnonzero(wrong)[1::2]                        # half the errors stay unreviewed
    top = worst.drop(index=worst.index[skipped])
    wrong = np.delete(wrong, skipped)
    assert 5 <= sum(wrong) <= len(top) - 5                       # both outcomes among the decisions
    log = pd.DataFrame({"example_id": top["example_id"], "decision": ["relabel" if w else "keep" for w in wrong],
                        "new_label": [truth[e] for e in top["example_id"]]})
    again, _ = rerank_after_review(demo, log, [config], **options)
    probability = again.issues.set_index("example_id")["review_error_probability"]
    assert probability.loc[top["example_id"]].isna().all()       # reviewed: nothing to predict
    rest = probability.drop(top["example_id"])
    assert rest.notna().all() and rest.between(0, 1).all()
    unseen = again.issues[~again.issues["example_id"].isin(set(top["example_id"]))]
    is_wrong = np.array([truth[e] != g for e, g in zip(unseen["example_id"], unseen["given_label"])])
    assert rest.loc[unseen["example_id"]][is_wrong].mean() > rest.loc[unseen["example_id"]][~is_wrong].mean()

    write_run_folder(again, tmp_path / "r1")
    exported = flagged_issues(read_review_source(tmp_path / "r1"))
    for _, bucket in exported.groupby("bucket", sort=False):     # each bucket: most likely wrong first
        assert bucket["review_error_probability"].is_monotonic_decreasing
    without, _ = rerank_after_review(demo, log, [config], learn=False, **options)
    assert "review_error_probability" not in without.issues


def test_rerank_command_says_whether_it_learnt_from_the_decisions(tmp_path, monkeypatch):
    import pandas as pd
    from typer.testing import CliRunner

    from audit.cli.app import app
    from audit.formats.run_folder import read_run_folder

    monkeypatch.setenv("LABEL_AUDIT_CACHE", str(tmp_path / "cache"))
    demo = load_data("demo").train
    truth = dict(zip(demo.example_ids, demo.extra["true_label"]))
    given = dict(zip(demo.example_ids, demo.label_names))
    ids = list(demo.example_ids)
    wrong = [e for e in ids if truth[e] != given[e]]
    right = [e for e in ids if truth[e] == given[e]]
    reviewed = wrong[::2] + right[:60]                      # 15 relabelled, 60 kept
    log = pd.DataFrame({"example_id": reviewed, "decision": ["relabel" if e in wrong else "keep" for e in reviewed],
                        "new_label": [truth[e] for e in reviewed]})
    runner = CliRunner()
    for name, rows, learnt in (("few", log.head(20), False), ("enough", log, True)):
        path = tmp_path / f"{name}.csv"
        rows.to_csv(path, index=False)
        result = runner.invoke(app, ["rerank", "--data", "demo", "--decisions", str(path), "-b", "tfidf-lr:char_ngrams=0",
                                     "--folds", "3", "--jobs", "1", "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        issues = read_run_folder(tmp_path / name).issues
        assert ("review_error_probability" in issues) is learnt
        assert ("Nothing learnt from the decisions yet" in result.output) is not learnt
