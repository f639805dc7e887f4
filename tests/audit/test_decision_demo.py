"""The decision on the demo data, from a real find-issues run with final models: latencies
recorded per backend, test scores with intervals, the pick, the refusal, the cost table, and
the report and learning-curve commands end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from audit.cli.app import app
from audit.decision import Requirement, cost_table, decide, model_candidates, pick_smallest
from audit.intervals import wilson_interval


#: A deliberately weak TF-IDF model (few features, strong regularisation): smaller and worse.
WEAK = "tfidf-lr:C=0.01,char_ngrams=0,word_ngrams=1"


@pytest.fixture(scope="module")
def run(demo, tmp_path_factory):
    pytest.importorskip("sentence_transformers")
    from audit.formats.run_folder import write_run_folder
    from audit.pipeline import find_issues
    from finetune.backends import parse_backend_spec

    configs = [parse_backend_spec(s) for s in ("tfidf-lr", WEAK, "minilm-lr")]
    root = tmp_path_factory.mktemp("decision")
    result = find_issues(demo.train, configs, n_folds=3, rounds=1, detectors=["label_issues"], test=demo.test,
                         fit_final=True, cost_rows=8, cache_dir=str(root / "cache"), data_spec="demo")
    write_run_folder(result, root / "run")
    return root / "run"


@pytest.fixture(scope="module")
def backends(run):
    return {b["name"]: b for b in json.loads((run / "summary.json").read_text())["backends"]}


def test_latencies_and_test_scores_are_recorded_per_backend(backends, demo):
    assert set(backends) == {"tfidf-lr", "tfidf-lr-2", "minilm-lr"}
    for b in backends.values():
        costs = b["costs"]
        for kind in ("batch1_ms", "batched_ms_per_example"):
            assert costs[kind]["median"] > 0 and costs[kind]["p95"] >= costs[kind]["median"]
        assert costs["n_rows"] == 8 and costs["device"].startswith("CPU") and costs["n_parameters"] > 0
        assert costs["peak_rss_mb"] > 0 and costs["inference_extra_mb"] >= 0
        assert b["n_test"] == len(demo.test)
        lo, hi = b["test_accuracy_ci"]
        assert lo <= b["test_accuracy"] <= hi
        correct = round(b["test_accuracy"] * len(demo.test))
        assert (lo, hi) == pytest.approx(wilson_interval(correct, len(demo.test)))
        for m in ("macro_f1", "worst_class_recall"):
            assert b[f"test_{m}_ci"][0] <= b[f"test_{m}"] <= b[f"test_{m}_ci"][1]
            assert b[f"oof_{m}_ci"][0] <= b[f"oof_{m}"] <= b[f"oof_{m}_ci"][1]
    # the weak model really is the smaller and the worse one (the premise of the next tests)
    assert backends["tfidf-lr-2"]["n_parameters"] < backends["tfidf-lr"]["n_parameters"] < backends["minilm-lr"]["n_parameters"]


def test_decision_picks_the_smallest_backend_that_clears_a_bar_between_two(backends):
    weak, tfidf = backends["tfidf-lr-2"], backends["tfidf-lr"]
    assert weak["test_accuracy_ci"][1] < tfidf["test_accuracy"], "the demo should separate the weak model"
    # between the weak model's interval and tfidf-lr's accuracy: tfidf-lr clears, the weak one cannot
    bar = (weak["test_accuracy_ci"][1] + min(tfidf["test_accuracy"], tfidf["test_accuracy_ci"][0] + 1e-9)) / 2
    pick = pick_smallest(model_candidates(list(backends.values()), Requirement(bar=bar)), bar=bar)
    assert pick["choice"] == "tfidf-lr" and pick["refused"] is None
    # a bar under every model: the smallest of all
    low = weak["test_accuracy"] - 0.01
    assert pick_smallest(model_candidates(list(backends.values()), Requirement(bar=low)), bar=low)["choice"] == "tfidf-lr-2"


def test_decision_refuses_when_the_bar_is_inside_two_intervals(backends):
    small, big = sorted((backends["tfidf-lr"], backends["minilm-lr"]), key=lambda b: b["test_accuracy"])
    overlap = (max(small["test_accuracy_ci"][0], big["test_accuracy_ci"][0]),
               min(small["test_accuracy_ci"][1], big["test_accuracy_ci"][1]))
    bar = (small["test_accuracy"] + big["test_accuracy"]) / 2
    if small["test_accuracy"] == big["test_accuracy"] or not overlap[0] <= bar <= overlap[1]:
        pytest.skip("the two models' intervals do not overlap between their accuracies on this demo")
    decision = decide(list(backends.values()), Requirement(bar=bar))
    assert decision.pick["choice"] is None and decision.pick["refused"] is not None
    assert big["name"] in decision.pick["refused"]["models"]
    assert decision.verdict["branch"] == "within noise"


def test_cost_table_arithmetic_on_the_demo_run(backends):
    req = Requirement(bar=0.9, cost_per_error=5, queries_per_month=1e7, compute_cost_per_hour=1.5)
    rows = {r["name"]: r for r in cost_table(model_candidates(list(backends.values()), req), req)}
    for name, b in backends.items():
        errors = 1e7 * (1 - b["test_accuracy"])
        serving = 1e7 / 1000 * (b["costs"]["batched_ms_per_example"]["median"] / 1000 * 1000 / 3600 * 1.5)
        assert rows[name]["error_cost"] == pytest.approx(errors * 5)
        assert rows[name]["serving_cost"] == pytest.approx(serving)
        assert rows[name]["total"] == pytest.approx(errors * 5 + serving)
    cheapest = min(rows.values(), key=lambda r: r["total"])
    assert [r["name"] for r in rows.values() if r["cheapest"]] == [cheapest["name"]]


def test_learning_curve_and_report_commands(run, backends, demo, tmp_path):
    runner = CliRunner()
    curve_dir = tmp_path / "curve"
    res = runner.invoke(app, ["learning-curve", "--data", "demo", "-b", "tfidf-lr", "-b", WEAK,
                              "--fractions", "0.25,1,0.5", "--out", str(curve_dir), "--bar", "0.95",
                              "--cache-dir", str(tmp_path / "cache")])
    assert res.exit_code == 0, res.output
    curve = pd.read_csv(curve_dir / "learning_curve.csv")
    assert list(curve["backend"]) == ["tfidf-lr"] * 3 + ["tfidf-lr-2"] * 3
    assert list(curve["fraction"]) == [0.25, 0.5, 1.0] * 2
    per_class = np.bincount(demo.train.labels)
    for f, n in zip(curve["fraction"], curve["n_train"]):
        assert n == sum(max(1, int(np.ceil(f * c))) for c in per_class)  # stratified shares
    assert (curve["n_test"] == len(demo.test)).all()
    assert ((curve["accuracy_low"] <= curve["accuracy"]) & (curve["accuracy"] <= curve["accuracy_high"])).all()
    assert ((curve["macro_f1_low"] <= curve["macro_f1"]) & (curve["macro_f1"] <= curve["macro_f1_high"])).all()
    for r in curve.to_dict("records"):
        assert (r["accuracy_low"], r["accuracy_high"]) == pytest.approx(
            wilson_interval(round(r["accuracy"] * r["n_test"]), r["n_test"]))
    # the full-data point of the curve is the final model of find-issues: same data, same seed
    full = curve[(curve["backend"] == "tfidf-lr") & (curve["fraction"] == 1.0)].iloc[0]
    assert full["accuracy"] == pytest.approx(backends["tfidf-lr"]["test_accuracy"])
    assert (curve_dir / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"

    out = tmp_path / "report.md"
    res = runner.invoke(app, ["report", "--issues", str(run), "--learning-curve", str(curve_dir), "--out", str(out),
                              "--bar", "0.95", "--cost-per-error", "5", "--queries-per-month", "1e7",
                              "--serving-cost", "tfidf-lr=0.01", "--serving-cost", "tfidf-lr-2=0.01",
                              "--serving-cost", "minilm-lr=0.05"])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    for heading in ("## Costs per scale", "## Decision", "### Expected monthly cost", "### Too little data?",
                    "### Verdict"):
        assert heading in text
    assert "(cheapest)" in text and "learning-curve.png" in text
    res = runner.invoke(app, ["report", "--issues", str(run), "--out", str(out), "--bar", "1.5"])
    assert res.exit_code == 64 and "bar" in res.output
    res = runner.invoke(app, ["report", "--issues", str(run), "--out", str(out), "--metric", "f2"])
    assert res.exit_code == 64
    res = runner.invoke(app, ["learning-curve", "--data", "demo", "--fractions", "0,1", "--out", str(tmp_path / "x")])
    assert res.exit_code == 64 and "(0, 1]" in res.output
