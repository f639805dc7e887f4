"""`audit benchmark` on the built-in demo: planted noise is found and scored honestly."""

from __future__ import annotations

import numpy as np
import pytest

from audit.benchmark import (get_detection_metrics, get_single_model_loss_metrics, make_noisy, rank_of_pairs,
                             run_benchmark)
from labelcore.errors import ConfigError
from finetune.backends import parse_backend_spec


def test_detection_metrics():
    flipped = np.array([1, 1, 0, 0, 0], bool)
    m = get_detection_metrics(flipped, flags=np.array([1, 0, 1, 0, 0], bool),
                              quality=np.array([0.1, 0.2, 0.3, 0.9, 0.8]))
    assert (m["precision"], m["recall"], m["n_flagged"]) == (0.5, 0.5, 2)
    assert m["auprc"] == pytest.approx(1.0)


def test_a_model_alone_is_ranked_by_its_loss_and_flags_where_it_disagrees():
    labels = np.array([0, 1, 1, 0])
    flipped = np.array([0, 0, 1, 1], bool)
    p = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8]])  # losses rank rows 3, 2 first
    m = get_single_model_loss_metrics(flipped, labels=labels, pred_probs_by_model={"a": p, "b": p[:, ::-1]})
    assert set(m) == {"loss of a", "loss of b"}
    assert m["loss of a"]["auprc"] == pytest.approx(1.0) and m["loss of a"]["n_flagged"] == 2
    assert m["loss of a"]["f1"] == pytest.approx(1.0)
    assert m["loss of b"]["auprc"] < 0.6 and m["loss of b"]["recall"] == 0  # b disagrees exactly on the clean rows


def test_noise_is_planted_on_the_true_labels(demo):
    noisy = make_noisy(demo, kind="uniform", rate=0.1, seed=3)
    truth = np.array([demo.classes.index(t) for t in demo.train.extra["true_label"]])
    assert (noisy.true_labels == truth).all()
    assert noisy.flipped.sum() == pytest.approx(0.1 * len(truth), abs=12)
    assert (noisy.bundle.train.labels[noisy.flipped] != truth[noisy.flipped]).all()
    assert noisy.bundle.test is demo.test
    with pytest.raises(ConfigError):
        make_noisy(demo, kind="pairs", rate=0.2, seed=0, pairs=[("card_arrival", "nope")])


def test_benchmark_on_demo_finds_planted_pairs(demo, cache_dir):
    cfg = [parse_backend_spec("tfidf-lr")]
    summary, noisy, result = run_benchmark(
        demo, cfg, kind="pairs", rate=0.4, seed=1, pairs=[("change_pin", "exchange_rate")],
        n_folds=3, cache_dir=cache_dir, rounds=1,
    )
    ours = summary["methods"]["ours"]
    assert summary["n_flipped"] == noisy.flipped.sum() > 0
    assert ours["auprc"] > 0.5 and ours["recall"] > 0.5
    assert summary["planted_pairs"]["change_pin -> exchange_rate"] <= 3
    assert set(summary["methods"]) >= {"ours", "cleanlab on tfidf-lr", "loss of tfidf-lr"}
    assert rank_of_pairs(result.pairs, [("exchange_rate", "change_pin")]) == {
        "exchange_rate -> change_pin": summary["planted_pairs"]["change_pin -> exchange_rate"]}


@pytest.mark.parametrize("args, message", [
    (["--rerank", "5"], "--rerank N measures the review loop: give --loop too"),
    (["--loop", "--rounds", "1"], "--rounds sets the audit of a plain benchmark"),
])
def test_benchmark_misuses_are_config_errors(tmp_path, args, message):
    from typer.testing import CliRunner

    from audit.cli.app import app

    out = tmp_path / "out"
    got = CliRunner().invoke(app, ["benchmark", "--data", "demo", *args, "--out", str(out)])
    assert got.exit_code == 64, got.output
    assert message in " ".join(got.output.split()) and not out.exists()
