import json
import os

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score
from typer.testing import CliRunner

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from audit.cli.app import app  # noqa: E402
from labelcore.data import load_data  # noqa: E402
from audit.oracle import oracle_decisions  # noqa: E402
from audit.retrain import compare_predictions, retrain_compare, weighted_scores  # noqa: E402
from audit.versions import apply_decisions  # noqa: E402
from audit.versions.write import write_version  # noqa: E402
from finetune.backends import make_backend  # noqa: E402

FAST = "tfidf-lr:char_ngrams=0"  # word n-grams only: ~0.5 s a fit on the demo


@pytest.fixture(scope="module")
def demo():
    return load_data("demo")


@pytest.fixture(scope="module")
def cleaned(demo, tmp_path_factory):
    """The demo with every planted flip restored by the oracle and the confusable pair merged."""
    tr = demo.train
    truth = tr.extra["true_label"].to_numpy()
    flagged = [tr.example_ids[i] for i in np.flatnonzero(tr.label_names != truth)]
    log = oracle_decisions(tr, flagged, true_labels=truth, annotated_at="t")
    merge = {"example_id": "pair:card_arrival|card_delivery_estimate", "decision": "merge", "new_label": "card_arrival"}
    log = pd.concat([log, pd.DataFrame([merge])], ignore_index=True)
    out = tmp_path_factory.mktemp("versions") / "v1"
    write_version(apply_decisions(demo, log), out, parent=demo)
    return load_data(out)


def test_weighted_scores_match_sklearn_on_an_explicit_resample():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 6, 300)
    pred = np.where(rng.random(300) < 0.6, y, rng.integers(0, 6, 300))
    idx = rng.integers(0, 300, 300)
    w = np.bincount(idx, minlength=300)[None, :].astype(float)
    got = weighted_scores(y, pred, w, n_classes=6)
    assert got["accuracy"][0] == pytest.approx(accuracy_score(y[idx], pred[idx]))
    assert got["macro_f1"][0] == pytest.approx(f1_score(y[idx], pred[idx], labels=np.unique(y[idx]), average="macro"))


def test_paired_interval_separates_a_real_gain_from_noise():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 400)
    noisy = lambda p_right: np.where(rng.random(400) < p_right, y, (y + 1) % 5)  # noqa: E731
    before = noisy(0.70)
    better = np.where(rng.random(400) < 0.5, y, before)  # fixes about half of the errors
    gain = compare_predictions(y, [before], [better], classes=list("abcde"), n_resamples=500)
    acc = gain["metrics"]["accuracy"]
    assert acc["diff"] == pytest.approx((better == y).mean() - (before == y).mean())
    assert 0 < acc["ci_low"] <= acc["diff"] <= acc["ci_high"] and acc["verdict"] == "gain"
    # two equally good but different models: the interval straddles zero
    other = noisy(0.70)
    tie = compare_predictions(y, [before], [other], classes=list("abcde"), n_resamples=500)["metrics"]["accuracy"]
    assert tie["ci_low"] < 0 < tie["ci_high"] and tie["verdict"] == "within noise"
    # pairing: the same model compared with itself has a zero-width interval
    same = compare_predictions(y, [before], [before], classes=list("abcde"), n_resamples=200)["metrics"]["macro_f1"]
    assert same["ci_low"] == same["ci_high"] == 0.0


def test_retrain_on_demo_cleanup(demo, cleaned):
    result = retrain_compare(demo, cleaned, backends=[FAST], seeds=2, n_resamples=300)
    by_eval = {r["evaluation"]: r for r in result["results"]}
    assert set(by_eval) == {"original", "changed"} and result["seeds"] == [0, 1]
    assert result["class_mapping"] == {"card_delivery_estimate": "card_arrival"}

    # the point estimates are what the models really score
    model = make_backend(FAST).fit(demo.train.texts, demo.train.label_names)
    acc_before = accuracy_score(demo.test.label_names, model.predict(demo.test.texts))
    assert by_eval["original"]["metrics"]["accuracy"]["before"] == pytest.approx(acc_before)
    fixed = make_backend(FAST).fit(cleaned.train.texts, cleaned.train.label_names)
    acc_after = accuracy_score(cleaned.test.label_names, fixed.predict(cleaned.test.texts))
    assert by_eval["changed"]["metrics"]["accuracy"]["after"] == pytest.approx(acc_after)

    # mapping before-predictions into the merged space can only turn errors into hits
    b_orig = by_eval["original"]["metrics"]["accuracy"]["before"]
    assert by_eval["changed"]["metrics"]["accuracy"]["before"] >= b_orig
    # the after-model cannot predict the class merged away, so on the original test its F1 is 0
    per_class = {c["class"]: c for c in by_eval["original"]["per_class"]}
    assert per_class["card_delivery_estimate"]["after"] == 0.0
    assert "card_delivery_estimate" not in {c["class"] for c in by_eval["changed"]["per_class"]}
    for r in result["results"]:
        for s in r["metrics"].values():
            assert s["ci_low"] <= s["diff"] <= s["ci_high"]
        assert len(r["train_seconds"]["before"]) == 2
    from audit.retrain import retrain_markdown

    assert "Merged: card_delivery_estimate → card_arrival." in retrain_markdown(result)


def test_retrain_command_writes_json_and_markdown(demo, cleaned, tmp_path):
    res = CliRunner().invoke(app, ["retrain", "--before", "demo", "--after", cleaned.spec, "--backend", FAST,
                                   "--seeds", "1", "--bootstrap", "200", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    result = json.loads((tmp_path / "retrain.json").read_text())
    assert result["after"]["fingerprint"] == cleaned.fingerprint and result["n_resamples"] == 200
    md = (tmp_path / "retrain.md").read_text()
    assert md.count("| tfidf-lr:char_ngrams=0 |") == 4  # 2 test sets x 2 metrics
    bad = CliRunner().invoke(app, ["retrain", "--before", "demo", "--after", "demo", "--backend", "nope", "--out", str(tmp_path)])
    assert bad.exit_code == 64 and "unknown backend" in bad.output


def test_markdown_shows_one_test_set_when_the_decisions_left_it_alone(demo, tmp_path):
    tr = demo.train
    truth = tr.extra["true_label"].to_numpy()
    log = oracle_decisions(tr, [tr.example_ids[i] for i in np.flatnonzero(tr.label_names != truth)],
                           true_labels=truth, annotated_at="t")
    write_version(apply_decisions(demo, log), tmp_path / "v", parent=demo)
    result = retrain_compare(demo, load_data(tmp_path / "v"), backends=[FAST], n_resamples=100)
    from audit.retrain import retrain_markdown

    md = retrain_markdown(result)
    assert "| changed |" not in md and md.count("| original |") == 2 and "both test sets are the same" in md
    assert {r["evaluation"] for r in result["results"]} == {"original", "changed"}


def test_cleaning_heavy_planted_noise_is_a_measured_gain(tmp_path):
    """40% planted flips, all restored by the oracle: retrain must report a gain whose interval
    excludes zero, on a test set the decisions did not touch."""
    from labelcore.data.synthetic import generate_banking_demo

    frames = generate_banking_demo(flip_rate=0.4, n_train_per_class=30)
    frames["train"].to_csv(tmp_path / "train.csv", index=False)
    frames["test"].to_csv(tmp_path / "test.csv", index=False)
    noisy = load_data(tmp_path / "train.csv", test=tmp_path / "test.csv")
    tr = noisy.train
    truth = tr.extra["true_label"].to_numpy()
    log = oracle_decisions(tr, [tr.example_ids[i] for i in np.flatnonzero(tr.label_names != truth)], true_labels=truth)
    write_version(apply_decisions(noisy, log), tmp_path / "v1", parent=noisy)
    result = retrain_compare(noisy, load_data(tmp_path / "v1"), backends=[FAST], n_resamples=500)
    for r in result["results"]:
        for s in r["metrics"].values():
            assert s["verdict"] == "gain" and s["ci_low"] > 0.05 and s["after"] > s["before"]


@pytest.mark.slow
def test_demo_loop_with_default_tfidf_three_seeds(demo, tmp_path):
    """The demo's 4% planted flips restored by the oracle, default tfidf-lr, three seeds."""
    tr = demo.train
    truth = tr.extra["true_label"].to_numpy()
    log = oracle_decisions(tr, [tr.example_ids[i] for i in np.flatnonzero(tr.label_names != truth)], true_labels=truth)
    write_version(apply_decisions(demo, log), tmp_path / "v1", parent=demo)
    result = retrain_compare(demo, load_data(tmp_path / "v1"), backends=["tfidf-lr"], seeds=3, n_resamples=2000)
    original = next(r for r in result["results"] if r["evaluation"] == "original")
    acc = original["metrics"]["accuracy"]
    assert len(acc["before_per_seed"]) == 3 and acc["ci_low"] <= acc["diff"] <= acc["ci_high"]
    assert acc["after"] >= acc["before"]  # removing planted noise does not hurt on a clean test set
    print(json.dumps({m: {k: s[k] for k in ("before", "after", "diff", "ci_low", "ci_high", "verdict")}
                      for m, s in original["metrics"].items()}, indent=1))
