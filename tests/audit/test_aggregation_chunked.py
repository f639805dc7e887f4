"""The chunked path of the one aggregation engine (over .npy memory maps) against the in-memory one."""

import numpy as np
import pytest

from audit.aggregation_chunked import aggregate_label_issues_chunked, iter_chunks
from audit.aggregation import find_label_issues_ensemble


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


def test_chunked_default_is_the_noise_aware_method(noisy, tmp_path):
    from audit.aggregation import get_label_quality_scores_ensemble

    labels, probs, paths, flip = noisy
    table, ens, weights = aggregate_label_issues_chunked(labels, paths, model_names=["a", "b", "c"], chunk_rows=700)
    np.testing.assert_allclose(weights, [1 / 3] * 3)
    expected = get_label_quality_scores_ensemble(labels, [p.astype(np.float32) for p in probs])
    np.testing.assert_allclose(table["label_quality"], expected, atol=1e-5)
    flags = table["is_label_issue"].to_numpy()
    lowest = np.argsort(table["label_quality"].to_numpy())[: flags.sum()]
    assert flags[lowest].mean() > 0.95
    assert (table["suggested"].to_numpy()[flags] != labels[flags]).all()


def test_chunked_aggregate_matches_in_memory(noisy, tmp_path):
    from cleanlab.experimental.label_issues_batched import find_label_issues_batched
    from cleanlab.filter import find_label_issues

    labels, probs, paths, flip = noisy
    names = ["small", "mid", "large"]
    got, got_ens, got_weights = aggregate_label_issues_chunked(
        labels, paths, model_names=names, chunk_rows=700, ensemble_path=tmp_path / "ens.npy",
        weights="log_loss", noise_aware=False)
    # the plain method: log-loss weights, normalized margin
    table, ens, weights = find_label_issues_ensemble(
        labels, probs, model_names=names, weights="log_loss", noise_aware=False, filter_by="low_normalized_margin")

    assert list(got.columns) == list(table.columns)  # one result type
    np.testing.assert_allclose(got_weights, weights, atol=1e-4)
    assert got_weights[2] > got_weights[0]
    np.testing.assert_allclose(got["label_quality"], table["label_quality"], atol=1e-5)
    unflagged = ~got["is_label_issue"].to_numpy()
    np.testing.assert_array_equal(got["suggested"].to_numpy()[unflagged], ens.argmax(1)[unflagged])
    np.testing.assert_array_equal(got["n_models_disagree"], table["n_models_disagree"])
    for name in names:
        np.testing.assert_array_equal(got[f"pred__{name}"], table[f"pred__{name}"])
        np.testing.assert_allclose(got[f"quality__{name}"], table[f"quality__{name}"], atol=1e-6)
    np.testing.assert_allclose(got_ens, ens, atol=1e-6)
    assert isinstance(got_ens, np.memmap)

    # flags: exactly cleanlab's own batched function on the same ensemble...
    ens_mask = find_label_issues_batched(
        labels, pred_probs_file=str(tmp_path / "ens.npy"), batch_size=700, verbose=False, return_mask=True,
        quality_score_kwargs={"method": "normalized_margin"},
    )
    np.testing.assert_array_equal(got["is_label_issue"], ens_mask)
    # ...and close to the in-memory find_label_issues (a different estimate of how many)
    mem = find_label_issues(labels, ens.astype(np.float32), filter_by="low_normalized_margin")
    flags = got["is_label_issue"].to_numpy()
    jaccard = (flags & mem).sum() / (flags | mem).sum()
    assert jaccard > 0.8, jaccard
    assert (flags & flip).sum() > 0.5 * flip.sum()


def test_temporary_ensemble_file_is_removed(noisy, tmp_path, monkeypatch):
    import tempfile

    labels, probs, _, _ = noisy
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    table, ens, _ = aggregate_label_issues_chunked(labels[:500], [p[:500] for p in probs],
                                                   model_names=["a", "b", "c"], chunk_rows=128)
    assert list(tmp_path.iterdir()) == [] and not isinstance(ens, np.memmap)
    assert table["label_quality"].shape == (500,) and ens.shape == (500, 8)


def test_find_issues_takes_the_chunked_path_by_itself_for_large_data(noisy, monkeypatch):
    import audit.aggregation as aggregation
    import audit.aggregation_chunked as chunked

    labels, probs, _, _ = noisy
    names = ["a", "b", "c"]
    in_memory, _, _ = find_label_issues_ensemble(labels, probs, model_names=names)
    calls = []
    real = chunked.aggregate_label_issues_chunked
    monkeypatch.setattr(chunked, "aggregate_label_issues_chunked", lambda *a, **k: calls.append(k) or real(*a, **k))
    monkeypatch.setattr(aggregation, "IN_MEMORY_LIMIT_BYTES", 1000)
    monkeypatch.setattr(aggregation, "DEFAULT_CHUNK_ROWS", 512)
    table, ens, _ = find_label_issues_ensemble(labels, probs, model_names=names)
    assert len(calls) == 1 and calls[0]["chunk_rows"] == 512
    np.testing.assert_allclose(table["label_quality"], in_memory["label_quality"], atol=1e-5)
    flags, mem = table["is_label_issue"].to_numpy(), in_memory["is_label_issue"].to_numpy()
    # the same ranking; only the estimate of how many to flag differs (cleanlab's batched count)
    assert (flags & mem).sum() / min(flags.sum(), mem.sum()) > 0.95
    with pytest.raises(ValueError, match="chunked"):
        find_label_issues_ensemble(labels, probs, model_names=names, chunk_rows=100, filter_by="both")
