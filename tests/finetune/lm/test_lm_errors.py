"""Errors a user can act on: missing model, hub id while offline, no bitsandbytes, labels
that tokenise to nothing, out of memory."""

from __future__ import annotations

import sys
import time

import pytest

from labelcore.errors import MissingDependencyError, ModelError
from finetune.backends.lm.loading import resolve_source
from finetune.backends.lm.training import oom_as_model_error
from finetune.backends.registry import make_backend

FAST = "max_steps=1,batch_size=8,progress=false"


@pytest.mark.parametrize("model", ["/no/such/model/dir", "./missing-model", "/tmp/missing/gemma.Q4_K_M.gguf"])
def test_a_missing_model_path_is_a_model_error(model, toy_data):
    with pytest.raises(ModelError, match="does not exist"):
        make_backend(f"full:{model},{FAST}").fit(*toy_data)


def test_a_directory_that_is_no_model_is_refused(tmp_path):
    with pytest.raises(ModelError, match="no config.json"):
        resolve_source(str(tmp_path))


def test_a_hub_id_while_offline_fails_fast(monkeypatch, toy_data):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE"):
        make_backend(f"lora:someone/not-a-cached-model-xyz,{FAST}").fit(*toy_data)
    assert time.perf_counter() - started < 5


def test_qlora_without_bitsandbytes_names_the_extra(monkeypatch, tiny_models, toy_data):
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)  # import now raises ImportError
    with pytest.raises(MissingDependencyError, match=r"label-audit\[qlora\]"):
        make_backend(f"qlora:{tiny_models['llama']},{FAST}").fit(*toy_data)


def test_a_label_that_tokenises_to_nothing_stops_before_training(tiny_models, toy_data):
    texts, labels = toy_data
    labels = ["  "] + list(labels[1:])
    with pytest.raises(ModelError, match="tokenises to nothing"):
        make_backend(f"full:{tiny_models['qwen2']},{FAST}").fit(texts, labels)


def test_out_of_memory_becomes_a_model_error_suggesting_a_smaller_batch():
    import torch

    with pytest.raises(ModelError, match=r"batch_size=8: try batch_size=4"):
        with oom_as_model_error(8, "training"):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    with pytest.raises(ModelError, match="out of memory during prediction"):
        with oom_as_model_error(16, "prediction"):
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")
    with pytest.raises(RuntimeError, match="shape mismatch"):  # other errors pass through
        with oom_as_model_error(8, "training"):
            raise RuntimeError("shape mismatch")
