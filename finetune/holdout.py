"""Train one backend on a whole training set and predict held-out texts: the model a user
would ship, scored on a test split (and, optionally, measured for latency and memory)."""

from __future__ import annotations

import time
from dataclasses import dataclass, fields, replace
from typing import Sequence

import numpy as np

from finetune.backends.base import Backend, BackendConfig, PreparedFeatures
from finetune.backends.registry import make_backend
from finetune.memory import release_freed_memory
from finetune.oof import predict_proba_canonical


@dataclass(frozen=True)
class HoldoutResult:
    """pred_probs : (M, K) on the held-out texts, canonical class order (None without texts).
    model : the fitted backend. fit_seconds : training time. costs : see
    :func:`finetune.latency.measure_inference_costs` (None unless asked for)."""

    model: Backend
    pred_probs: np.ndarray | None
    fit_seconds: float
    costs: dict | None = None


def fit_and_predict(
    config: BackendConfig,
    train_texts: Sequence[str],
    train_label_names: Sequence[str],
    *,
    classes: Sequence[str],
    eval_texts: Sequence[str] | None = None,
    cost_texts: Sequence[str] | None = None,
    cost_batch_size: int = 32,
    cache_dir: str | None = None,
    prepared: PreparedFeatures | None = None,
    init: dict[str, np.ndarray] | None = None,
) -> HoldoutResult:
    """Fit a fresh ``config`` backend on ``train_texts`` (label names ``(N,)``), predict
    ``eval_texts`` in the order ``classes``; with ``cost_texts`` (a small sample, e.g. 64
    texts) also measure inference latency and memory on them after training. ``cache_dir``
    is handed to backends that cache label-free features (sentence embeddings) for training.
    ``prepared``: the backend's label-free features of ``train_texts`` (``Backend.prepare``),
    ``init``: a solution to start from (a fold model's ``warm_start_state``: trained on a subset
    of these rows, so the final model converges in fewer steps); both optional."""
    if cache_dir and "cache_dir" in {f.name for f in fields(config)} and not getattr(config, "cache_dir"):
        config = replace(config, cache_dir=str(cache_dir))
    start = time.perf_counter()
    fit_params = {k: v for k, v in (("prepared", prepared), ("init", init)) if v is not None}
    model = make_backend(config).fit(list(train_texts), np.asarray(train_label_names), **fit_params)
    return score_fitted(model, time.perf_counter() - start, classes=classes, eval_texts=eval_texts,
                        cost_texts=cost_texts, cost_batch_size=cost_batch_size)


def score_fitted(model: Backend, fit_seconds: float, *, classes: Sequence[str],
                 eval_texts: Sequence[str] | None = None, cost_texts: Sequence[str] | None = None,
                 cost_batch_size: int = 32, eval_pred_probs: np.ndarray | None = None) -> HoldoutResult:
    """:func:`fit_and_predict` for a model trained elsewhere (e.g. beside the folds,
    ``OOFResult.final``): predict ``eval_texts`` (unless ``eval_pred_probs (T, K)`` are these
    predictions, made where the model trained), measure costs on ``cost_texts``."""
    from finetune.latency import measure_inference_costs

    probs = eval_pred_probs
    if probs is None and eval_texts is not None:
        probs = predict_proba_canonical(model, list(eval_texts), tuple(classes))
        release_freed_memory()  # e.g. an encoder's temporaries, before the costs measure memory
    costs = None
    if cost_texts is not None and len(cost_texts):
        costs = measure_inference_costs(model, list(cost_texts), batch_size=cost_batch_size)
    return HoldoutResult(model=model, pred_probs=probs, fit_seconds=fit_seconds, costs=costs)
