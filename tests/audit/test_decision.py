"""The decision rule on hand-made backend entries: options, the pick and the refusal, the cost
arithmetic, "too little data?" and the flowchart's branches."""

from __future__ import annotations

import pandas as pd
import pytest

from audit.decision import (
    Requirement,
    cost_table,
    data_quantity,
    decide,
    model_candidates,
    pick_smallest,
)
from audit.intervals import scores_with_intervals, wilson_interval
from labelcore.errors import ConfigError


def entry(name, params, acc, ci, **extra):
    return {"name": name, "n_parameters": params, "test_accuracy": acc, "test_accuracy_ci": list(ci), **extra}


SMALL = entry("small", 1_000, 0.90, (0.88, 0.92), costs={"batched_ms_per_example": {"median": 2.0}})
MID = entry("mid", 20_000_000, 0.93, (0.915, 0.945), costs={"batched_ms_per_example": {"median": 36.0}})
BIG = entry("big", 270_000_000, 0.95, (0.94, 0.96))


@pytest.mark.parametrize("kwargs, match", [
    ({"bar": 0}, "bar"), ({"bar": 1.2}, "bar"), ({"bar": float("nan")}, "bar"),
    ({"bar": 0.9, "metric": "f2"}, "unknown metric"), ({"bar": 0.9, "on": "val"}, "applies to"),
    ({"bar": 0.9, "cost_per_error": -1}, "cost-per-error"), ({"bar": 0.9, "serving_cost_per_1k": {"a": -2}}, "serving"),
])
def test_requirement_rejects_bad_options(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        Requirement(**kwargs)


def test_picks_the_smallest_model_that_clears_and_refuses_inside_the_overlap():
    backends = [BIG, SMALL, MID]  # order does not matter: sorted by parameters
    cands = model_candidates(backends, Requirement(bar=0.95))
    assert [c["name"] for c in cands] == ["small", "mid", "big"] and cands[0]["split"] == "test"

    # 0.947: between mid (0.93, up to 0.945) and big (0.95, from 0.94) - only big's interval holds it
    pick = pick_smallest(model_candidates(backends, Requirement(bar=0.947)), bar=0.947)
    assert pick["choice"] == "big" and pick["refused"] is None and pick["marginal"]
    # 0.918: small is below and its interval ends at 0.92, mid clears and its interval starts at 0.915 -> noise
    pick = pick_smallest(model_candidates(backends, Requirement(bar=0.918)), bar=0.918)
    assert pick["choice"] is None and pick["refused"] == {"models": ["small", "mid"]}
    # 0.93 sits at mid's point; small's interval stops at 0.92: a clean pick
    assert pick_smallest(model_candidates(backends, Requirement(bar=0.925)), bar=0.925)["choice"] == "mid"
    assert pick_smallest(model_candidates(backends, Requirement(bar=0.97)), bar=0.97)["choice"] is None


def test_auto_falls_back_to_out_of_fold_when_a_backend_has_no_test_score():
    backends = [SMALL, {"name": "x", "n_parameters": 5, "oof_accuracy": 0.99}]
    assert model_candidates(backends, Requirement(bar=0.9))[0]["split"] == "oof"
    assert model_candidates(backends, Requirement(bar=0.9, on="test"))[0]["split"] == "test"


def test_cost_table_matches_a_hand_computation():
    req = Requirement(bar=0.92, cost_per_error=5, queries_per_month=1e7,
                      serving_cost_per_1k={"small": 0.01}, compute_cost_per_hour=2.0)
    rows = {r["name"]: r for r in cost_table(model_candidates([SMALL, MID, BIG], req), req)}
    # small: 1e7 * (1 - 0.90) = 1e6 errors * 5 = 5e6; serving given: 1e7 / 1000 * 0.01 = 100
    assert rows["small"]["errors_per_month"] == pytest.approx(1e6)
    assert rows["small"]["error_cost"] == pytest.approx(5e6)
    assert rows["small"]["error_cost_range"] == pytest.approx([1e7 * 0.08 * 5, 1e7 * 0.12 * 5])
    assert rows["small"]["serving_cost"] == pytest.approx(100) and rows["small"]["serving_source"] == "given"
    assert rows["small"]["total"] == pytest.approx(5e6 + 100)
    # mid: serving from latency: 36 ms/example -> 36 s per 1,000 queries = 0.01 h * 2.0 = 0.02 per 1k
    assert rows["mid"]["serving_cost_per_1k"] == pytest.approx(0.02) and rows["mid"]["serving_source"] == "from latency"
    assert rows["mid"]["total"] == pytest.approx(1e7 * 0.07 * 5 + 1e4 * 0.02)
    # big: no latency, no given cost -> no total; the cheapest known total is mid's
    assert rows["big"]["total"] is None and rows["big"]["error_cost"] == pytest.approx(1e7 * 0.05 * 5)
    assert [n for n, r in rows.items() if r["cheapest"]] == ["mid"]
    assert cost_table(model_candidates([SMALL], Requirement(bar=0.9)), Requirement(bar=0.9)) == []


def test_learning_curve_answers_too_little_data():
    curve = pd.DataFrame([
        ("small", 0.25, 250, 0.80, 1_000), ("small", 0.5, 500, 0.86, 1_000), ("small", 1.0, 1000, 0.90, 1_000),
        ("big", 0.25, 250, 0.93, 9e8), ("big", 0.5, 500, 0.950, 9e8), ("big", 1.0, 1000, 0.952, 9e8),
    ], columns=["backend", "fraction", "n_train", "accuracy", "n_parameters"])
    rows = {r["backend"]: r for r in data_quantity(curve, bar=0.94)}
    assert rows["small"]["gain_per_doubling"] == pytest.approx(0.04) and rows["small"]["still_rising"]
    assert rows["big"]["gain_per_doubling"] == pytest.approx(0.002) and not rows["big"]["still_rising"]
    assert rows["small"]["first_fraction_at_bar"] is None
    assert rows["big"]["first_fraction_at_bar"] == 0.5 and rows["big"]["first_n_train_at_bar"] == 500
    assert [r["backend"] for r in data_quantity(curve, bar=0.94)] == ["small", "big"]  # smallest first


def test_verdict_names_the_branch_with_the_largest_expected_gain():
    pairs = pd.DataFrame({
        "label_a": ["a", "c", "e"], "label_b": ["b", "d", "f"], "diagnosis": ["data", "data", "capacity"],
        "recommendation": ["merge", "relabel", "bigger model"], "accuracy_gain": [0.004, 0.003, 0.002],
    })
    req = Requirement(bar=0.99)
    labels = decide([SMALL, MID, BIG], req, pairs=pairs)
    assert labels.pick["choice"] is None and labels.verdict["gap"] == pytest.approx(0.04)
    ev = labels.verdict["evidence"]
    assert ev["labels"]["n_pairs"] == 2 and ev["labels"]["gain"] == pytest.approx(0.007)
    assert ev["capacity"]["gain"] == pytest.approx(0.95 - 0.93) and ev["capacity"]["largest"] == "big"
    assert labels.verdict["branch"] == "capacity"  # +2 points beats +0.7
    curve = pd.DataFrame([("big", 0.5, 500, 0.90), ("big", 1.0, 1000, 0.95)],
                         columns=["backend", "fraction", "n_train", "accuracy"])
    assert decide([SMALL, MID, BIG], req, pairs=pairs, curve=curve).verdict["branch"] == "data quantity"  # +5 per doubling
    assert decide([SMALL, MID, BIG], req).verdict["branch"] == "unknown"
    assert decide([SMALL, MID, BIG], Requirement(bar=0.9)).verdict["branch"] == "ship"


def test_intervals():
    lo, hi = wilson_interval(90, 100)
    assert lo == pytest.approx(0.8256, abs=1e-3) and hi == pytest.approx(0.9448, abs=1e-3)  # textbook values
    labels = [0] * 50 + [1] * 50
    pred = [0] * 50 + [1] * 40 + [0] * 10
    s = scores_with_intervals(labels, pred, n_classes=2, n_resamples=300)
    assert s["accuracy"] == 0.9 and s["worst_class_recall"] == 0.8 and s["worst_class"] == 1
    for m in ("accuracy", "macro_f1", "worst_class_recall"):
        assert s[f"{m}_ci"][0] <= s[m] <= s[f"{m}_ci"][1]
    # resamples given once for several models of the same rows: the same intervals
    from audit.pair_stats import get_bootstrap_weights

    shared = get_bootstrap_weights(100, n_bootstrap=300, seed=0)
    assert scores_with_intervals(labels, pred, n_classes=2, weights=shared) == s
    other = scores_with_intervals(labels, pred, n_classes=2, weights=get_bootstrap_weights(100, n_bootstrap=300,
                                                                                          seed=1))
    assert other["macro_f1_ci"] != s["macro_f1_ci"]  # the resamples are what the interval comes from


def test_decision_section_shows_the_numbers_behind_each_branch():
    from audit.report.decision_section import decision_markdown

    pairs = pd.DataFrame({"label_a": ["a"], "label_b": ["b"], "diagnosis": ["data"], "recommendation": ["merge"],
                          "accuracy_gain": [0.012]})
    curve = pd.DataFrame([("big", 0.5, 500, 0.93), ("big", 1.0, 1000, 0.95)],
                         columns=["backend", "fraction", "n_train", "accuracy"])
    text = decision_markdown(decide([SMALL, MID, BIG], Requirement(bar=0.99), pairs=pairs, curve=curve))
    assert "**No model clears the bar.** The best is big at 0.950 ([0.940, 0.960]), 0.040 short." in text
    assert "data quantity - more labelled data" in text  # +2.0 per doubling beats +1.2 from the pair
    assert "a / b" in text and "+1.2 points" in text and "+2.0 points per doubling" in text
    assert "Still rising at 100%: big" in text
    refused = decision_markdown(decide([SMALL, MID, BIG], Requirement(bar=0.918)))
    assert "**No pick: the bar is within the noise.**" in refused and "small (below the bar) and mid" in refused
    assert "**Ship mid**" in decision_markdown(decide([SMALL, MID, BIG], Requirement(bar=0.925)))
    none = decision_markdown(decide([{"name": "x", "oof_accuracy": 0.9}], Requirement(bar=0.9, on="test")))
    assert "No test accuracy is recorded" in none
