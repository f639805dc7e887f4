"""Tiny offline models (built once per session with the ``finetune tiny-model`` code) and toy data."""

from __future__ import annotations

import os

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

pytest.importorskip("torch", reason="the LM backends need torch (pip install 'label-audit[llm]')")
pytest.importorskip("transformers", reason="the LM backends need transformers")

ARCHS = ("gemma3", "qwen2", "llama")
LABELS = ("card_arrival", "card_linking", "cash_withdrawal", "exchange_rate", "pin_blocked")
PHRASES = (
    "my new card has still not arrived",
    "how do I link my card to the app",
    "I want to withdraw cash at an atm",
    "what exchange rate do you use",
    "my pin is blocked after three tries",
)


@pytest.fixture(scope="session", autouse=True)
def _quiet_single_threaded_torch():
    """One torch thread: on small shared CPUs it is as fast for tiny models, and steadier."""
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, str]:
    """``{arch: directory}`` of tiny random gemma3 / qwen2 / llama models with a local tokenizer."""
    from finetune.backends.lm.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("tiny-models")
    return {arch: str(build_tiny_model(root / arch, arch=arch, hidden=64, layers=2)) for arch in ARCHS}


@pytest.fixture(scope="session")
def toy_data() -> tuple[list[str], list[str]]:
    """5 labels x 8 texts: each label's phrase with a varying suffix (names, not codes)."""
    texts, labels = [], []
    for i in range(8):
        for phrase, label in zip(PHRASES, LABELS):
            texts.append(f"{phrase} {'please ' * (i % 3)}#{i}")
            labels.append(label)
    return texts, labels
