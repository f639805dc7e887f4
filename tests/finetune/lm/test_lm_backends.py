"""full / lora / qlora x generative / classifier on tiny gemma3 / qwen2 / llama models:
training lowers the loss, probabilities are valid, save + load gives the same predictions."""

from __future__ import annotations

import numpy as np
import pytest

from finetune.backends.lm.estimator import CausalLMBackend
from finetune.backends.registry import make_backend

# In the toy data a text's length gives away its label, so length-grouped batches would each
# hold one label; shuffled batches keep these loss checks about the backends, not the sampler
# (tested in test_lm_training.py; on BANKING77 grouping keeps 13.4-14.0 of 16 labels distinct).
FAST = "epochs=3,batch_size=8,logging_steps=1,progress=false,eval_batch_size=16,group_by_length=false"
LR = {"full": 3e-3, "lora": 2e-2, "qlora": 2e-2}
CASES = [
    ("full", "generative", "gemma3"),
    ("full", "classifier", "qwen2"),
    ("lora", "generative", "llama"),
    ("lora", "classifier", "gemma3"),
    ("qlora", "generative", "qwen2"),
    ("qlora", "classifier", "llama"),
]


def _losses(backend) -> list[float]:
    return [row["loss"] for row in backend.train_log_ if "loss" in row]


def _loss_fell(losses: list[float], steps_per_epoch: int = 5) -> bool:
    """The last epoch's mean step loss is below the first's (the same rows, in other batches)."""
    return np.mean(losses[-steps_per_epoch:]) < np.mean(losses[:steps_per_epoch])


@pytest.mark.parametrize("name, head, arch", CASES, ids=["-".join(c) for c in CASES])
def test_backend_trains_predicts_and_round_trips(tmp_path, tiny_models, toy_data, name, head, arch):
    if name == "qlora":
        pytest.importorskip("bitsandbytes", reason="qlora needs bitsandbytes (label-audit[qlora])")
    texts, labels = toy_data
    backend = make_backend(f"{name}:{tiny_models[arch]},head={head},lr={LR[name]},{FAST}")
    assert not hasattr(backend, "classes_")  # __init__ stores only
    backend.fit(texts, labels)

    losses = _losses(backend)
    assert len(losses) == 15  # 40 rows / batch 8 x 3 epochs
    assert _loss_fell(losses)
    np.testing.assert_array_equal(backend.classes_, np.unique(labels))

    probs = backend.predict_proba(texts[:7])
    assert probs.shape == (7, 5)
    assert np.all(probs >= 0) and np.allclose(probs.sum(axis=1), 1.0)
    assert backend.predict(texts[:7]).tolist() == backend.classes_[probs.argmax(axis=1)].tolist()

    backend.save(tmp_path / "saved")
    reloaded = CausalLMBackend.load(tmp_path / "saved")
    assert type(reloaded) is type(backend) and reloaded.config == backend.config
    np.testing.assert_allclose(reloaded.predict_proba(texts[:7]), probs, atol=1e-6)
    assert reloaded.n_parameters_ == backend.n_parameters_ > 50_000  # for the report's scale axis
    if name != "full":  # adapter + head only, not the base weights
        assert not (tmp_path / "saved" / "adapter" / "model.safetensors").exists()
        assert (tmp_path / "saved" / "adapter" / "adapter_model.safetensors").exists()


def test_lora_classifier_trains_and_saves_its_head(tmp_path, tiny_models, toy_data):
    from safetensors import safe_open

    texts, labels = toy_data
    backend = make_backend(f"lora:{tiny_models['qwen2']},head=classifier,max_steps=2,{FAST}").fit(texts, labels)
    backend.save(tmp_path)
    with safe_open(str(tmp_path / "adapter" / "adapter_model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert any("score" in k and "lora" not in k for k in keys), keys
    assert any("lora_A" in k for k in keys)


def test_clone_is_unfitted_with_the_same_config(tiny_models):
    backend = make_backend(f"full:{tiny_models['llama']},{FAST}")
    copy = backend.clone()
    assert copy is not backend and copy.config == backend.config and not hasattr(copy, "model_")


def test_training_resumes_from_the_last_checkpoint(tmp_path, tiny_models, toy_data):
    texts, labels = toy_data
    spec = f"full:{tiny_models['llama']},output_dir={tmp_path},save_steps=5,{FAST}"
    first = make_backend(spec + ",max_steps=5").fit(texts, labels)
    [run] = tmp_path.glob("run-*")
    assert (run / "checkpoint-5").is_dir()
    resumed = make_backend(spec + ",max_steps=10").fit(texts, labels)
    first_log = [row for row in first.train_log_ if "loss" in row]
    resumed_log = [row for row in resumed.train_log_ if "loss" in row]
    assert [row["step"] for row in resumed_log] == list(range(1, 11))
    # Steps 1-5 come from the checkpoint: a fresh 10-step cosine schedule would have logged
    # other learning rates (and losses) for them.
    assert resumed_log[:5] == first_log
    assert (run / "checkpoint-10").is_dir()


def test_other_training_data_never_resumes_a_checkpoint(tmp_path, tiny_models, toy_data):
    texts, labels = toy_data
    spec = f"full:{tiny_models['llama']},output_dir={tmp_path},save_steps=5,max_steps=5,{FAST}"
    make_backend(spec).fit(texts, labels)
    other = make_backend(spec).fit(texts[:-1], labels[:-1])  # e.g. another out-of-fold split
    assert len(list(tmp_path.glob("run-*"))) == 2
    assert [row["step"] for row in other.train_log_ if "loss" in row] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("name", ["lora", "qlora"])
def test_gradient_checkpointing_trains(tiny_models, toy_data, name):
    if name == "qlora":
        pytest.importorskip("bitsandbytes", reason="qlora needs bitsandbytes (label-audit[qlora])")
    backend = make_backend(f"{name}:{tiny_models['gemma3']},gradient_checkpointing=true,lr=2e-2,{FAST}")
    backend.fit(*toy_data)
    assert backend.model_.is_gradient_checkpointing
    losses = _losses(backend)
    assert _loss_fell(losses)


@pytest.mark.parametrize("head", ["classifier", "generative"])
def test_batched_prediction_equals_one_text_at_a_time(tiny_models, toy_data, head):
    from dataclasses import replace

    texts, labels = toy_data
    backend = make_backend(f"full:{tiny_models['gemma3']},head={head},{FAST},max_steps=2").fit(texts, labels)
    mixed = [texts[0], texts[1] + " and a much longer tail of words to pad the others", texts[7]]
    batched = backend.predict_proba(mixed)
    backend.config = replace(backend.config, eval_batch_size=1)
    np.testing.assert_allclose(backend.predict_proba(mixed), batched, atol=1e-5)


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["full", "qlora"])
def test_on_a_gpu_the_device_and_bf16_are_chosen_automatically(tiny_models, toy_data, name):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    backend = make_backend(f"{name}:{tiny_models['qwen2']},lr=1e-2,{FAST}").fit(*toy_data)
    assert backend.device_ == "cuda"
    assert backend.precision_ == ("bf16" if torch.cuda.is_bf16_supported() else "fp32")
    assert next(backend.model_.parameters()).device.type == "cuda"
    probs = backend.predict_proba(toy_data[0][:5])
    assert np.allclose(probs.sum(axis=1), 1.0)
