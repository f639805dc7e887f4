"""`audit benchmark --loop` end to end on the demo: find -> simulated oracle -> apply -> retrain -> report."""

from __future__ import annotations

import json

import pytest

from audit.benchmark_loop import run_loop
from finetune.backends import parse_backend_spec


@pytest.mark.slow
def test_loop_on_demo_recovers_the_gap(demo, tmp_path, cache_dir):
    out = tmp_path / "loop"
    summary = run_loop(demo, [parse_backend_spec("tfidf-lr")], out, kind="uniform", rate=0.1, seed=3,
                       n_folds=3, cache_dir=cache_dir, iterations=2)
    passes = summary["loop"]["passes"]
    assert passes[0]["n_flips_remaining"] < summary["n_flipped"] / 2
    assert passes[1]["n_flips_remaining"] <= passes[0]["n_flips_remaining"]
    r = summary["loop"]["retrain"]["tfidf-lr"]
    acc = r["test_accuracy"]
    assert acc["ours_reviewed"] >= acc["noisy"]
    # the plain baseline is cleanlab on the noisy data's first-round predictions, as in the table
    assert r["n_plain_flags"] == summary["methods"]["cleanlab on tfidf-lr"]["n_flagged"]
    for name in ("find/issues.csv", "decisions-1.csv", "v1/version.json", "v2/version.json",
                 "retrain/retrain.json", "report.md", "benchmark.json"):
        assert (out / name).exists(), name
    assert "oracle (simulation)" in (out / "decisions-1.csv").read_text()
    assert json.loads((out / "benchmark.json").read_text())["loop"]["passes"] == passes
