"""Inference costs of the CPU backends: positive, recorded, and never read from a cache."""

from __future__ import annotations

import pytest

from finetune.backends import parse_backend_spec
from finetune.holdout import fit_and_predict
from finetune.latency import measure_inference_costs
from labelcore.errors import ConfigError


def test_tfidf_costs_are_positive_and_named(demo):
    tr = demo.train
    result = fit_and_predict(parse_backend_spec("tfidf-lr:char_ngrams=0"), tr.texts, tr.label_names,
                             classes=tr.classes, eval_texts=demo.test.texts, cost_texts=demo.test.texts[:6],
                             cost_batch_size=4)
    assert result.pred_probs.shape == (len(demo.test), len(tr.classes)) and result.fit_seconds > 0
    c = result.costs
    assert c["batch1_ms"]["median"] > 0 and c["batched_ms_per_example"]["median"] > 0
    assert c["n_rows"] == 6 and c["batch_size"] == 4 and c["repeats"] == 3
    assert c["n_parameters"] == result.model.n_parameters_ and c["peak_rss_mb"] > 0
    with pytest.raises(ConfigError):
        measure_inference_costs(result.model, [])
    with pytest.raises(ConfigError):
        measure_inference_costs(result.model, ["x"], batch_size=0)


def test_minilm_latency_encodes_every_text_afresh(demo, cache_dir):
    pytest.importorskip("sentence_transformers")
    tr = demo.train.subset(list(range(0, len(demo.train), 6)))
    model = fit_and_predict(parse_backend_spec("minilm-lr"), tr.texts, tr.label_names, classes=tr.classes,
                            cache_dir=cache_dir).model
    store = model._store()
    before = len(store._index)
    texts = demo.test.texts[:4]
    fresh = model.without_caches()
    assert fresh.predict_proba(texts) == pytest.approx(model.predict_proba(texts), abs=1e-5)
    seen = len(store._index)
    calls = []
    encode = store.encode
    store.encode = lambda t: calls.append(len(t)) or encode(t)
    costs = measure_inference_costs(model, texts, batch_size=2, repeats=1)
    assert sum(calls) == 1 + 2 + 4 + 4  # warm-ups (1 + 2 texts), 4 at batch 1, 4 in batches
    assert len(store._index) == seen >= before  # nothing added by the measurement
    assert costs["batch1_ms"]["median"] > 0
