"""duplicates, leakage, outliers: planted problems are found, and only they."""

import numpy as np
import pytest

from audit.detectors import DetectorContext, run_detectors
from audit.detectors.duplicates import NEIGHBORS, detect_duplicates, find_near_duplicate_pairs, normalize_text
from audit.detectors.neighbors import find_nearest_neighbors
from conftest import make_split


def test_normalize_text_ignores_case_whitespace_and_punctuation():
    assert normalize_text("  Where's my CARD?!\n") == normalize_text("where s my card") == "where s my card"


def test_normalize_text_treats_every_unicode_punctuation_mark_and_nothing_else_as_a_space():
    # Spanish marks, dashes, guillemets, CJK brackets; symbols (S*) such as $ and emoji stay
    texts = ["¿Dónde está mi tarjeta?!", "card—arrival", "«Top-up» failed", "「支付」 ok",
             "cost: $5 😀", "ﬁnal STRASSE Straße"]
    expected = ["dónde está mi tarjeta", "card arrival", "top up failed", "支付 ok",
                "cost $5 😀", "final strasse strasse"]
    assert [normalize_text(t) for t in texts] == expected
    assert [normalize_text(t) for t in texts] == expected  # the table filled by the first pass answers the same


def test_planted_exact_duplicate_with_conflicting_label_is_found(demo_train, embed):
    ds = demo_train.subset(range(120))
    texts, labels = list(ds.texts), ds.labels.copy()
    texts[7] = "  " + texts[3].upper() + "!!  "
    labels[7] = (labels[3] + 1) % len(ds.classes)
    planted = make_split(texts, labels, ds.classes)
    r = run_detectors(["duplicates"], DetectorContext(planted, embed=embed))["duplicates"]
    assert r.is_issue[3] and r.is_issue[7]
    assert r.score[3] == r.score[7] == 0.0
    assert "exact duplicate of row 7 (id train-7" in r.reason[3] and "conflicting labels" in r.reason[3]
    assert f"'{ds.classes[labels[3]]}'" in r.reason[7]
    assert r.info["n_exact_groups"] == 1 and r.info["n_exact_groups_conflicting"] == 1
    # the unplanted data has no exact duplicates; near duplicates are flagged only with another label
    for i in np.flatnonzero(r.is_issue):
        if i not in (3, 7):
            assert "near duplicate" in r.reason[i] and "conflicting labels" in r.reason[i]


def test_exact_duplicates_that_agree_are_counted_not_flagged(demo_train, embed):
    ds = demo_train.subset(range(40))
    texts, labels = list(ds.texts), ds.labels.copy()
    texts[5], labels[5] = texts[2], labels[2]
    agreeing = make_split(texts, labels, ds.classes)
    r = run_detectors(["duplicates"], DetectorContext(agreeing, embed=embed))["duplicates"]
    assert not r.is_issue[2] and not r.is_issue[5] and r.score[2] == r.score[5] == 0.0
    assert r.info["n_exact_groups"] == 1 and r.info["n_exact_groups_conflicting"] == 0
    flagged = run_detectors(["duplicates"], DetectorContext(agreeing, embed=embed), options={"duplicates": {"flag_agreeing": True}})
    assert flagged["duplicates"].is_issue[[2, 5]].all() and "same label" in flagged["duplicates"].reason[2]


def test_near_duplicates_flag_only_conflicting_labels():
    rng = np.random.default_rng(0)
    e = rng.normal(size=(6, 16))
    e[1] = e[0] + 0.01 * rng.normal(size=16)  # near copy of row 0, other label
    e[3] = e[2] + 0.01 * rng.normal(size=16)  # near copy of row 2, same label
    ds = make_split([f"text {i}" for i in range(6)], [0, 1, 0, 0, 1, 1], ["a", "b"])
    r = detect_duplicates(DetectorContext(ds, embeddings=e), threshold=0.95)
    assert r.is_issue.tolist() == [True, True, False, False, False, False]
    cos = e[0] @ e[1] / np.linalg.norm(e[0]) / np.linalg.norm(e[1])
    assert f"near duplicate (cosine {cos:.3f}) of row 1 (id train-1, 'b')" in r.reason[0]
    assert r.score[2] < 0.05 and r.score[4] > 0.2


def test_the_neighbour_graph_and_near_duplicates_equal_the_full_matrix(demo_train):
    """Blockwise, nearest first; near duplicates complete also for rows with more of them than the
    graph lists (a cluster of 3 * NEIGHBORS rows)."""
    rng = np.random.default_rng(1)
    e = rng.normal(size=(60, 4))
    e[:3 * NEIGHBORS] = e[0] + rng.normal(scale=0.01, size=(3 * NEIGHBORS, 4))  # a crowded cluster
    full = e / np.linalg.norm(e, axis=1, keepdims=True)
    s = full @ full.T
    np.fill_diagonal(s, -np.inf)
    graph = find_nearest_neighbors(e, k=5, block=7)
    np.testing.assert_allclose(graph.similarities, -np.sort(-s, axis=1)[:, :5], rtol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(s, graph.indices, 1), graph.similarities, rtol=1e-5)
    ds = make_split([f"t{i}" for i in range(60)], np.zeros(60, int), ("a",), split="train")
    max_sim, pairs, sims = find_near_duplicate_pairs(DetectorContext(ds, embeddings=e), threshold=0.9, block=7)
    want = {(i, j) for i, j in zip(*np.nonzero(s >= 0.9)) if i < j}
    assert {tuple(p) for p in pairs.tolist()} == want and len(want) > 3 * NEIGHBORS * (3 * NEIGHBORS - 1) / 2 - 1
    np.testing.assert_allclose(sims, s[pairs[:, 0], pairs[:, 1]], rtol=1e-5)
    np.testing.assert_allclose(max_sim, s.max(1), rtol=1e-5)


def test_train_text_copied_into_test_is_flagged_as_leakage(demo_train, demo_test):
    k = 11
    test = make_split(
        list(demo_test.texts) + [demo_train.texts[k].title() + "."],
        np.append(demo_test.labels, demo_train.labels[k]), demo_train.classes, split="test",
    )
    r = run_detectors(["leakage"], DetectorContext(demo_train, test=test))["leakage"]
    assert np.flatnonzero(r.is_issue).tolist() == [k]
    assert r.reason[k].startswith(f"same text as test row {len(demo_test)} (id test-{len(demo_test)}")
    assert r.info["n_train_leaked"] == 1 and r.info["n_conflicting_labels"] == 0


def test_injected_off_topic_text_is_the_top_outlier(demo_train, demo_embeddings, embed):
    off_topic = "Photosynthesis in chloroplasts converts sunlight, water and carbon dioxide into glucose."
    ds = make_split(list(demo_train.texts) + [off_topic], np.append(demo_train.labels, 0), demo_train.classes)
    emb = np.vstack([demo_embeddings, embed([off_topic])])
    r = run_detectors(["outliers"], DetectorContext(ds, embeddings=emb))["outliers"]
    assert int(np.argmin(r.score)) == len(ds) - 1
    assert r.is_issue[-1] and "outlier score" in r.reason[-1]
    assert r.is_issue.mean() < 0.05


def test_outlier_scores_are_cleanlabs_out_of_distribution_scores(demo_train, demo_embeddings):
    """From the shared graph, the scores of cleanlab's own kNN search (its exact-duplicate
    correction included: the demo's embeddings with two rows repeated)."""
    from cleanlab.outlier import OutOfDistribution

    from audit.detectors.outliers import get_outlier_scores

    emb = np.vstack([demo_embeddings, demo_embeddings[[3, 3, 8]]])
    ds = make_split(list(demo_train.texts) + [demo_train.texts[i] for i in (3, 3, 8)],
                    np.append(demo_train.labels, demo_train.labels[[3, 3, 8]]), demo_train.classes)
    want = OutOfDistribution({"k": 7}).fit_score(features=emb, verbose=False)
    got = get_outlier_scores(DetectorContext(ds, embeddings=emb), k=7)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert got[-2] == pytest.approx(got[3], rel=1e-6) and got[-3] == pytest.approx(got[3], rel=1e-6)  # repeated rows
    assert got[3] > np.median(got)
