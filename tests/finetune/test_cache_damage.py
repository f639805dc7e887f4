"""A damaged per-fold cache entry is a miss (recomputed and replaced), never a crash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelcore.data.schema import TextDataset
from finetune import oof
from finetune.backends import parse_backend_spec
from finetune.cache import ArrayCache
from finetune.oof import cross_val_predict_proba

WORDS = ("apple", "berry", "cherry")


@pytest.fixture(scope="module")
def tiny() -> TextDataset:
    texts = [f"{w} pie number {i} with {w} jam" for w in WORDS for i in range(6)]
    labels = np.repeat(np.arange(3), 6)
    return TextDataset(texts, labels, WORDS, [str(i) for i in range(18)], np.arange(18), "mem")


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])


def _garbage(p: Path) -> None:
    p.write_bytes(b"PK\x03\x04 not really a zip \x00\xff" * 3)


def _empty(p: Path) -> None:
    p.write_bytes(b"")


def _not_npz(p: Path) -> None:
    p.write_text("text, not numpy\n")


def _wrong_shape(p: Path) -> None:
    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["pred_probs"] = arrays["pred_probs"][:, :2]
    with open(p, "wb") as f:
        np.savez(f, **arrays)


def _missing_array(p: Path) -> None:
    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files if k != "test_index"}
    with open(p, "wb") as f:
        np.savez(f, **arrays)


def _nan_probs(p: Path) -> None:
    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["pred_probs"] = np.full_like(arrays["pred_probs"], np.nan)
    with open(p, "wb") as f:
        np.savez(f, **arrays)


def _object_array(p: Path) -> None:
    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["pred_probs"] = np.array([{"a": 1}] * len(arrays["pred_probs"]), dtype=object)
    with open(p, "wb") as f:
        np.savez(f, **arrays)  # needs allow_pickle to read: refused, so a miss


def _a_directory(p: Path) -> None:
    p.unlink()
    p.mkdir()


DAMAGE = [_truncate, _garbage, _empty, _not_npz, _wrong_shape, _missing_array, _nan_probs, _object_array]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda d: d.__name__.strip("_"))
def test_a_damaged_entry_is_a_miss_and_is_replaced(tiny, tmp_path, monkeypatch, damage):
    cfg = parse_backend_spec("tfidf-lr")
    cache_dir = str(tmp_path / "cache")
    first = cross_val_predict_proba(cfg, tiny, n_folds=3, cache_dir=cache_dir)
    entries = sorted((tmp_path / "cache" / "oof").glob("*.npz"))
    assert len(entries) == 3
    damage(entries[1])
    calls = []
    real = oof._run_fold
    monkeypatch.setattr(oof, "_run_fold", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = cross_val_predict_proba(cfg, tiny, n_folds=3, cache_dir=cache_dir)
    assert len(calls) == 1 and again.cached.sum() == 2
    np.testing.assert_allclose(again.pred_probs, first.pred_probs, atol=1e-9)
    # the damaged entry was replaced by a good one: a third run trains nothing
    calls.clear()
    third = cross_val_predict_proba(cfg, tiny, n_folds=3, cache_dir=cache_dir)
    assert calls == [] and third.cached.all()


@pytest.mark.parametrize("damage", [*DAMAGE, _a_directory], ids=lambda d: d.__name__.strip("_"))
def test_array_cache_load_never_raises(tmp_path, damage):
    cache = ArrayCache(tmp_path)
    cache.save("k", {"pred_probs": np.full((2, 3), 1 / 3), "test_index": np.arange(2), "seconds": np.float64(1)})
    damage(cache.path("k"))
    got = cache.load("k", expect={"pred_probs": (2, 3), "test_index": (2,)})
    if got is not None:  # damage the shape check or the caller's check must catch
        assert damage in (_nan_probs,)


def test_a_corrupt_embedding_store_is_recomputed(tmp_path):
    from finetune.embeddings import EmbeddingStore

    store = EmbeddingStore("unused-model", root=str(tmp_path))
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(b"PK\x03\x04 truncated")
    again = EmbeddingStore("unused-model", root=str(tmp_path))
    assert again._index == {} and again._vectors.shape == (0, 0)
