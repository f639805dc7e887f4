"""Confused pairs: the test against chance and the cause (noise, overlap, capacity), on
constructed probabilities whose answer is known. Real-data tests: test_pairs_planted.py."""

from __future__ import annotations

import numpy as np
import pytest

from audit.pairs import find_confused_pairs, get_confusion_counts

K, N_PER = 8, 100
NAMES = list("abcdefgh")


def _probs(pred, rng, k=K, *, sure=0.9):
    """Probabilities with argmax ``pred`` (N,) and the rest spread at random."""
    p = rng.random((len(pred), k)) * (1 - sure) / k
    p[np.arange(len(pred)), pred] = sure
    return p / p.sum(1, keepdims=True)


def _world(seed=0):
    """labels, two models x two rounds, flags; pairs: (a,b) one class under two names,
    (c,d) 25 rows of c labelled d, (e,f) only the small model confuses them, (g,h) clean."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(K), N_PER)
    truth = labels.copy()
    planted = np.flatnonzero(labels == 3)[:25]
    truth[planted] = 2  # rows of c given the label d
    flagged = np.zeros(len(labels), bool)
    flagged[planted[:20]] = True  # the first round catches 20 of the 25

    def model(round_, small):
        pred = truth.copy()
        # background errors: 2% of rows predicted as any other class
        err = rng.random(len(labels)) < 0.02
        pred[err] = (pred[err] + rng.integers(1, K, err.sum())) % K
        p = _probs(pred, rng)
        ab = np.flatnonzero(labels <= 1)  # one class under two names: a coin flip, split probability
        share = rng.uniform(0.35, 0.65, len(ab))
        p[ab] = 0.02 / (K - 2)
        p[ab, 0], p[ab, 1] = 0.98 * share, 0.98 * (1 - share)
        if round_ == 1:  # trained on the noisy labels: misses some noisy rows, pulls some clean c rows to d
            keep = planted[rng.random(25) < 0.3]
            p[keep] = _probs(np.full(len(keep), 3), rng)
            pulled = np.flatnonzero(labels == 2)[:8]
            p[pulled] = _probs(np.full(len(pulled), 3), rng, sure=0.7)
        if small:  # capacity: the small model confuses e and f both ways
            for src, dst in ((4, 5), (5, 4)):
                rows = np.flatnonzero(labels == src)[:15]
                p[rows] = _probs(np.full(len(rows), dst), rng, sure=0.6)
        return p

    first = [model(1, True), model(1, False)]
    second = [model(2, True), model(2, False)]
    return labels, first, second, flagged, planted


@pytest.fixture(scope="module")
def table():
    labels, first, second, flagged, _ = _world()
    t = find_confused_pairs(
        labels, first, class_names=NAMES, model_names=["small", "large"], model_sizes=[1e6, 1e9],
        is_label_issue=flagged, second_round_pred_probs_list=second, row_ids=np.arange(len(labels)) + 1000,
    )
    return {(r["label_a"], r["label_b"]): r for r in t.to_dict("records")}, t


def test_one_class_under_two_names_is_overlap_and_merge(table):
    rows, _ = table
    r = rows[("a", "b")]
    assert (r["diagnosis"], r["recommendation"]) == ("overlap", "merge")
    assert r["separation_auc_high"] < 0.75 and r["ambiguity"] > 0.5
    assert r["n_models_residual"] == 2 and r["noise_share"] == 0


def test_one_way_noise_is_relabel_with_the_rows_and_their_direction(table):
    rows, _ = table
    r = rows[("c", "d")]
    assert (r["diagnosis"], r["recommendation"]) == ("noise", "relabel")
    assert r["noise_share_low"] <= r["noise_share"] <= r["noise_share_high"]
    assert r["noise_share"] > 0.5 and r["drop"] > 0  # the pull on clean c rows is gone in round 2
    _, _, _, flagged, planted = _world()
    listed = {int(x) - 1000 for x in r["rows_b_to_a"].split()}  # labelled d, should be c
    assert set(planted[flagged[planted]]) <= listed and listed <= set(planted)
    assert r["rows_a_to_b"] == ""


def test_capacity_and_chance(table):
    rows, t = table
    assert rows[("e", "f")]["diagnosis"] == "capacity"
    assert rows[("e", "f")]["recommendation"] == "bigger model"
    # background errors alone are not a confused pair; confused pairs come first
    chance = t[t["diagnosis"] == "chance"]
    assert len(chance) and (chance["recommendation"] == "none").all()
    assert {("g", "h")} & set(zip(t.loc[t["diagnosis"] != "chance", "label_a"], t.loc[t["diagnosis"] != "chance", "label_b"])) == set()
    first_chance = int(np.flatnonzero(t["diagnosis"].to_numpy() == "chance")[0])
    assert (t["diagnosis"].iloc[:first_chance] != "chance").all() and (t["diagnosis"].iloc[first_chance:] == "chance").all()
    assert {"evidence", "q_value", "expected", "rows_ambiguous", "merged_accuracy", "residual__large"} <= set(t.columns)


def test_without_flags_or_second_round_noise_rests_on_the_models_alone():
    labels, first, _, _, _ = _world(seed=1)
    t = find_confused_pairs(labels, first, class_names=NAMES, model_names=["small", "large"], model_sizes=[1, 2])
    r = t[(t["label_a"] == "c") & (t["label_b"] == "d")].iloc[0]
    # nothing flagged: the rows every model puts on the other label carry the confusion
    assert r["noise_share"] == 0 and r["relabel_share"] > 0.5 and r["recommendation"] == "relabel"
    assert t["drop"].isna().all()  # no second round, no drop
    assert t.loc[(t["label_a"] == "a") & (t["label_b"] == "b"), "recommendation"].item() == "merge"


def test_confusion_counts():
    labels = np.array([0, 0, 1, 2])
    pred = np.eye(3)[[0, 1, 1, 0]]
    c = get_confusion_counts(labels, pred)
    assert c.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]


def _learnt_noise_evidence(n_a_to_b: int, n_b_to_a: int, relabel_share: float = 0.43):
    """A pair as one-way noise that the models partly learnt looks (the planted BANKING77 test):
    confused both ways, still above chance among unflagged rows, ambiguous there."""
    from audit.pair_diagnosis import PairEvidence

    def share(x):
        return (x, max(x - 0.15, 0.0), min(x + 0.15, 1.0))

    return PairEvidence(
        significant=True, models_significant=np.array([True, True]), models_residual=np.array([True, True]),
        noise_share=share(0.28), relabel_share=share(relabel_share), drop=share(0.33), ambiguity=share(0.42),
        auc=[(0.88, 0.84, 0.92), (0.90, 0.87, 0.94)], pair_ambiguity=share(0.26),
        rows_a_to_b=np.arange(n_a_to_b), rows_b_to_a=np.arange(100, 100 + n_b_to_a), rows_ambiguous=np.arange(5),
    )


@pytest.mark.parametrize("n_a_to_b, n_b_to_a, share, expected", [
    (1, 18, 0.43, ("noise", "relabel")),      # the rows to relabel go one way: one-way noise
    (22, 0, 0.50, ("noise", "relabel")),
    (9, 10, 0.43, ("overlap", "guideline")),  # both ways: genuine overlap
    (3, 0, 0.43, ("overlap", "guideline")),   # one way, but three rows tell nothing (p = 0.25)
    (1, 18, 0.10, ("overlap", "guideline")),  # one way, but they carry too little of the confusion
])
def test_the_direction_of_the_rows_to_relabel_tells_one_way_noise_from_overlap(n_a_to_b, n_b_to_a, share, expected):
    from audit.pair_diagnosis import DiagnosisRule, diagnose_pair

    evidence = _learnt_noise_evidence(n_a_to_b, n_b_to_a, share)
    assert diagnose_pair(evidence, largest=1, rule=DiagnosisRule()) == expected
    from scipy.stats import binomtest

    n = n_a_to_b + n_b_to_a
    assert evidence.one_way_p == pytest.approx(binomtest(max(n_a_to_b, n_b_to_a), n, 0.5).pvalue)


def test_merge_gains_are_scikit_learns_accuracy_and_macro_f1_of_the_merged_labels():
    """Merging b into a in the confusion matrix gives what relabelling b as a in both the labels
    and the predictions gives to scikit-learn, also with a class never predicted and one that
    occurs nowhere (scikit-learn leaves it out of the macro average)."""
    from sklearn.metrics import accuracy_score, f1_score

    from audit.pairs import get_merge_gains

    rng = np.random.default_rng(0)
    k = 7
    labels = rng.integers(0, k - 1, 400)  # class 6 occurs nowhere
    pred_probs = rng.dirichlet(np.ones(k), 400)
    pred_probs[:, 5] = 0  # class 5 is never predicted
    pred_probs[labels == 2, 3] += 0.5  # a confused pair
    pairs = [(2, 3), (0, 5), (4, 1), (3, 2)]
    gains = get_merge_gains(labels, pred_probs, pairs)
    pred = pred_probs.argmax(1)
    base_f1 = f1_score(labels, pred, average="macro")
    for (a, b), row in zip(pairs, gains.itertuples()):
        y, p = np.where(labels == b, a, labels), np.where(pred == b, a, pred)
        assert row.merged_accuracy == pytest.approx(accuracy_score(y, p), abs=1e-12)
        assert row.merged_macro_f1 == pytest.approx(f1_score(y, p, average="macro"), abs=1e-12)
        assert row.macro_f1_gain == pytest.approx(f1_score(y, p, average="macro") - base_f1, abs=1e-12)
        assert row.accuracy_gain == pytest.approx(accuracy_score(y, p) - np.mean(pred == labels), abs=1e-12)
    assert gains.loc[0, "accuracy_gain"] > 0.1  # merging the confused pair removes its errors
