"""Reviewer agreement: figures checked against hand-computed examples and textbook formulas."""

import csv
from dataclasses import fields

import numpy as np
import pytest

from audit.agreement import (
    fleiss_kappa_of,
    krippendorff_alpha_nominal,
    read_votes,
    reliability_matrix,
    reviewer_agreement,
)
from audit.labelstudio.annotations import Vote

COLUMNS = [f.name for f in fields(Vote)]


def write_annotations(path, rows):
    """rows: (task_id, example_id, annotator, status, decision, new_label)."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for i, (task, example, who, status, decision, label) in enumerate(rows):
            w.writerow([task, example, "", who, f"2026-01-01T00:00:{i:02d}", status, decision, label, "", ""])
    return path


# Two annotators on six tasks. A: k k k r r k; B: k k r r k k  (k = keep->a, r = relabel->b).
#   Cohen: p_o = 4/6, both marginals (4/6, 2/6): p_e = 5/9, kappa = (2/3 - 5/9) / (4/9) = 1/4.
#   Fleiss: category shares (8/12, 4/12): P_e = 5/9, mean P_i = 4/6: kappa = 1/4.
#   Krippendorff (nominal): n = 12 pairable values, 2 disagreeing items put 4 into the off-diagonal
#   of the coincidence matrix; alpha = 1 - (n-1) * 4 / (2 * 8 * 4) = 1 - 44/64 = 0.3125.
A = "keep a;keep a;keep a;relabel b;relabel b;keep a".split(";")
B = "keep a;keep a;relabel b;relabel b;keep a;keep a".split(";")


def two_annotator_rows():
    rows = []
    for t, (a, b) in enumerate(zip(A, B)):
        for who, vote in (("ann@x", a), ("bob@x", b)):
            decision, label = vote.split()
            rows.append((t + 1, f"ex{t}", who, "ok", decision, label))
    return rows


def test_hand_computed_two_annotator_example(tmp_path):
    votes = read_votes(write_annotations(tmp_path / "d.annotations.csv", two_annotator_rows()))
    result = reviewer_agreement(votes)
    assert result["cohen_kappa"] == pytest.approx(0.25)
    assert result["fleiss_kappa"] == pytest.approx(0.25)
    assert result["krippendorff_alpha"] == pytest.approx(0.3125)
    assert result["observed_agreement"] == pytest.approx(4 / 6)
    # With two annotators, the others' majority is the other one: 4 agreements of 6.
    assert result["per_annotator"]["ann@x"]["agreement_with_consensus"] == pytest.approx(4 / 6)


def test_agrees_with_sklearn_statsmodels_and_krippendorff_on_random_votes(tmp_path):
    """Our path (CSV -> votes -> matrix) against the reference implementations called directly."""
    import krippendorff
    from sklearn.metrics import cohen_kappa_score
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, 40)
    rows, codes = [], {}
    for who in ("a@x", "b@x"):
        noisy = np.where(rng.random(40) < 0.3, rng.integers(0, 3, 40), truth)
        codes[who] = noisy
        rows += [(t, f"ex{t}", who, "ok", "relabel", f"c{c}") for t, c in enumerate(noisy)]
    result = reviewer_agreement(read_votes(write_annotations(tmp_path / "v.csv", rows)))
    assert result["cohen_kappa"] == pytest.approx(cohen_kappa_score(codes["a@x"], codes["b@x"]))
    table, _ = aggregate_raters(np.stack([codes["a@x"], codes["b@x"]], axis=1))
    assert result["fleiss_kappa"] == pytest.approx(fleiss_kappa(table))
    reference = krippendorff.alpha(reliability_data=np.stack([codes["a@x"], codes["b@x"]]).astype(float),
                                   level_of_measurement="nominal")
    assert result["krippendorff_alpha"] == pytest.approx(reference)


def textbook_alpha(matrix):
    """Krippendorff's nominal alpha from the coincidence matrix (Krippendorff 2011, section C)."""
    k = int(np.nanmax(matrix)) + 1
    o = np.zeros((k, k))
    for column in matrix.T:
        vals = column[~np.isnan(column)].astype(int)
        m = len(vals)
        if m < 2:
            continue
        for i in range(m):
            for j in range(m):
                if i != j:
                    o[vals[i], vals[j]] += 1 / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    d_o = o.sum() - np.trace(o)
    d_e = (np.outer(n_c, n_c).sum() - (n_c ** 2).sum()) / (n - 1)
    return 1 - d_o / d_e


def test_alpha_with_missing_votes_matches_the_textbook_formula():
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 4, (4, 30)).astype(float)
    matrix[rng.random(matrix.shape) < 0.4] = np.nan
    assert krippendorff_alpha_nominal(matrix) == pytest.approx(textbook_alpha(matrix))


def test_fleiss_uses_the_tasks_with_the_most_common_vote_count():
    # three tasks with 2 votes (all agree on 0/1), one with 3: Fleiss over the three.
    nan = np.nan
    matrix = np.array([[0, 1, 0, 0], [0, 1, 1, 0], [nan, nan, nan, 1]], dtype=float)
    kappa, n = fleiss_kappa_of(matrix)
    assert n == 3
    # items: (0,0) (1,1) (0,1): shares 3/6, 3/6 -> P_e = 1/2; mean P_i = 2/3 -> kappa = 1/3
    assert kappa == pytest.approx(1 / 3)


def test_invalid_and_replaced_votes_are_not_counted(tmp_path):
    rows = [
        (1, "ex1", "a@x", "ok", "relabel", "x"),
        (1, "ex1", "b@x", "skipped", "", ""),
        (1, "ex1", "c@x", "incomplete", "relabel", ""),
        (2, "ex2", "a@x", "ok", "keep", "y"),
        (2, "ex2", "a@x", "ok", "relabel", "z"),   # a changed their mind: the last row counts
        (2, "ex2", "b@x", "ok", "relabel", "z"),
    ]
    votes = read_votes(write_annotations(tmp_path / "v.csv", rows))
    assert sorted(zip(votes["task_id"], votes["annotator"], votes["vote"])) == [
        ("1", "a@x", "relabel->x"), ("2", "a@x", "relabel->z"), ("2", "b@x", "relabel->z")]
    result = reviewer_agreement(votes)
    assert (result["n_votes"], result["n_tasks"], result["n_tasks_multi"]) == (3, 2, 1)
    assert result["observed_agreement"] == 1.0


def test_agreement_with_models_and_per_pair(tmp_path):
    rows = []
    for t in range(6):  # flagged examples given 'a', models suggest 'b'
        rows.append((t, f"ex{t}", "a@x", "ok", "relabel", "b"))
        rows.append((t, f"ex{t}", "b@x", "ok", *(("relabel", "b") if t < 3 else ("keep", "a"))))
    rows += [(9, "pair:a|c", "a@x", "ok", "merge", "a")]
    labels = {f"ex{t}": ("a", "b") for t in range(6)}
    result = reviewer_agreement(read_votes(write_annotations(tmp_path / "v.csv", rows)), labels=labels,
                                min_pair_tasks=5)
    assert result["per_annotator"]["a@x"]["agreement_with_models"] == 1.0
    assert result["per_annotator"]["b@x"]["agreement_with_models"] == 0.5
    assert result["per_annotator"]["b@x"]["n_model_compared"] == 6
    [pair] = result["per_pair"]      # pair a|c has one task: below min_pair_tasks
    assert (pair["label_a"], pair["label_b"], pair["n_tasks"]) == ("a", "b", 6)
    assert pair["observed_agreement"] == pytest.approx(0.5)


def test_a_file_that_is_not_ours_is_a_data_error(tmp_path):
    from labelcore.errors import DataError

    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="missing columns"):
        read_votes(path)


def test_matrix_layout():
    import pandas as pd

    votes = pd.DataFrame({"task_id": ["2", "10"], "example_id": ["e2", "e10"], "annotator": ["b", "a"],
                          "vote": ["keep->x", "drop"]})
    matrix, annotators, tasks, categories = reliability_matrix(votes)
    assert (annotators, tasks, categories) == (["a", "b"], ["2", "10"], ["drop", "keep->x"])
    assert np.isnan(matrix[0, 0]) and matrix[0, 1] == 0 and matrix[1, 0] == 1
