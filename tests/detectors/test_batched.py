"""audit.batched (chunked aggregation over .npy memory maps) against the in-memory functions."""

import numpy as np
import pytest

from audit.batched import aggregate_label_issues_batched, iter_chunks
from audit.label_issues import find_label_issues_ensemble
from audit.pairs import find_confused_pairs


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    """3 models of different quality on 3,000 rows x 8 classes, 6% label noise; as float32 .npy."""
    rng = np.random.default_rng(0)
    n, k = 3000, 8
    true = rng.integers(0, k, n)
    labels = true.copy()
    flip = rng.random(n) < 0.06
    labels[flip] = (true[flip] + rng.integers(1, k, flip.sum())) % k
    root = tmp_path_factory.mktemp("npy")
    probs, paths = [], []
    for j, sharp in enumerate([2.0, 3.0, 4.0]):
        logits = rng.normal(size=(n, k))
        logits[np.arange(n), true] += sharp
        logits[np.arange(n), (true + 1) % k] += sharp / 2  # a confusable neighbour class
        p = np.exp(logits - logits.max(1, keepdims=True))
        p = (p / p.sum(1, keepdims=True)).astype(np.float32)
        probs.append(p)
        paths.append(root / f"m{j}.npy")
        np.save(paths[-1], p)
    return labels, probs, paths, flip


def test_chunks_cover_every_row_once(noisy):
    labels, probs, paths, _ = noisy
    seen = np.concatenate([c[1] for _, c in iter_chunks(paths, chunk_rows=700)])
    np.testing.assert_array_equal(seen, probs[1])


def test_batched_default_is_the_noise_aware_method(noisy, tmp_path):
    from audit.label_issues import get_label_quality_scores_ensemble

    labels, probs, paths, flip = noisy
    got = aggregate_label_issues_batched(labels, paths, class_names=[f"c{i}" for i in range(8)],
                                         model_names=["a", "b", "c"], chunk_rows=700)
    np.testing.assert_allclose(got.weights, [1 / 3] * 3)
    expected = get_label_quality_scores_ensemble(labels, [p.astype(np.float32) for p in probs])
    np.testing.assert_allclose(got.label_quality, expected, atol=1e-5)
    lowest = np.argsort(got.label_quality)[: got.is_label_issue.sum()]
    assert got.is_label_issue[lowest].mean() > 0.95
    assert (got.suggested[got.is_label_issue] != labels[got.is_label_issue]).all()


def test_batched_aggregate_matches_in_memory(noisy, tmp_path):
    from cleanlab.experimental.label_issues_batched import find_label_issues_batched
    from cleanlab.filter import find_label_issues

    labels, probs, paths, flip = noisy
    names = ["small", "mid", "large"]
    classes = [f"c{i}" for i in range(8)]
    got = aggregate_label_issues_batched(labels, paths, class_names=classes, model_names=names,
                                         chunk_rows=700, ensemble_path=tmp_path / "ens.npy",
                                         weights="log_loss", noise_aware=False)
    # the plain method: log-loss weights, normalized margin
    table, ens, weights = find_label_issues_ensemble(
        labels, probs, model_names=names, weights="log_loss", noise_aware=False, filter_by="low_normalized_margin")

    np.testing.assert_allclose(got.weights, weights, atol=1e-4)
    assert got.weights[2] > got.weights[0]
    np.testing.assert_allclose(got.label_quality, table["label_quality"], atol=1e-5)
    np.testing.assert_array_equal(got.suggested[~got.is_label_issue], ens.argmax(1)[~got.is_label_issue])
    np.testing.assert_array_equal(got.n_models_disagree, table["n_models_disagree"])
    for j, name in enumerate(names):
        np.testing.assert_array_equal(got.preds[:, j], table[f"pred__{name}"])
        np.testing.assert_allclose(got.model_quality[:, j], table[f"quality__{name}"], atol=1e-6)
    np.testing.assert_allclose(np.load(got.ensemble_path), ens, atol=1e-6)

    # flags: exactly cleanlab's own batched function on the same ensemble...
    ens_mask = find_label_issues_batched(
        labels, pred_probs_file=str(got.ensemble_path), batch_size=700, verbose=False, return_mask=True,
        quality_score_kwargs={"method": "normalized_margin"},
    )
    np.testing.assert_array_equal(got.is_label_issue, ens_mask)
    # ...and close to the in-memory find_label_issues (a different estimate of how many)
    mem = find_label_issues(labels, ens.astype(np.float32), filter_by="low_normalized_margin")
    jaccard = (got.is_label_issue & mem).sum() / (got.is_label_issue | mem).sum()
    assert jaccard > 0.8, jaccard
    assert (got.is_label_issue & flip).sum() > 0.5 * flip.sum()

    pairs = find_confused_pairs(labels, probs, class_names=classes, model_names=names)
    cols = ["label_a", "label_b", "n_a_as_b", "n_b_as_a", "confusion_rate"]
    np.testing.assert_array_equal(got.pairs[cols[:2]].to_numpy(), pairs[cols[:2]].to_numpy())
    np.testing.assert_allclose(got.pairs[cols[2:]].to_numpy(float), pairs[cols[2:]].to_numpy(float))
    for name in names:
        np.testing.assert_allclose(got.pairs[f"rate__{name}"], pairs[f"rate__{name}"])


def test_temporary_ensemble_file_is_removed(noisy, tmp_path, monkeypatch):
    import tempfile

    labels, probs, _, _ = noisy
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    got = aggregate_label_issues_batched(labels[:500], [p[:500] for p in probs], class_names=list("abcdefgh"),
                                         model_names=["a", "b", "c"], chunk_rows=128)
    assert got.ensemble_path is None and list(tmp_path.iterdir()) == []
    assert got.label_quality.shape == (500,)
