"""The LM backends get their inference costs measured the same way as the CPU backends."""

from __future__ import annotations

from finetune.backends.registry import make_backend
from finetune.latency import measure_inference_costs


def test_tiny_lm_backend_latency_is_measured(tiny_models, toy_data):
    texts, labels = toy_data
    spec = f"lora:{tiny_models['gemma3']},head=classifier,max_steps=1,batch_size=8,progress=false,eval_batch_size=8"
    backend = make_backend(spec).fit(texts, labels)
    costs = measure_inference_costs(backend, texts[:4], batch_size=2, repeats=1)
    assert costs["batch1_ms"]["median"] > 0 and costs["batched_ms_per_example"]["median"] > 0
    assert costs["n_rows"] == 4 and costs["batch_size"] == 2
    assert costs["n_parameters"] == backend.n_parameters_ > 0
    assert costs["device"].startswith("CPU") and costs["gpu_peak_mb"] is None
    assert costs["torch_threads"] >= 1
