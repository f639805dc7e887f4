"""The per-backend numbers a shipping decision needs, added to each ``summary.json`` backend
entry in one place: scores with intervals out-of-fold and on the test split, and what the
model costs to serve.

Fields (see docs/formats.md), for ``split`` in ``oof`` / ``test`` and each metric of
:data:`audit.intervals.METRICS`: ``{split}_{metric}``, ``{split}_{metric}_ci`` ([low, high],
95%), ``{split}_worst_class`` (a class name), ``n_test``; ``test_seconds`` (training on the
whole audited split); ``costs`` (:func:`finetune.latency.measure_inference_costs`).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from labelcore.data.schema import TextDataset
from labelcore.errors import ConfigError
from audit.intervals import METRICS, scores_with_intervals
from audit.pair_stats import get_bootstrap_weights
from finetune.backends.base import BackendConfig


def split_fields(split: str, labels: np.ndarray, pred_probs: np.ndarray, classes: Sequence[str], *,
                 seed: int = 0, weights: np.ndarray | None = None) -> dict:
    """``{split}_{metric}`` and ``{split}_{metric}_ci`` for every metric, ``{split}_worst_class``;
    ``weights``: the bootstrap resamples of these rows, shared by the models scored on them."""
    scores = scores_with_intervals(labels, pred_probs.argmax(1), n_classes=len(classes), seed=seed, weights=weights)
    out = {}
    for m in METRICS:
        out[f"{split}_{m}"] = scores[m]
        out[f"{split}_{m}_ci"] = scores[f"{m}_ci"]
    out[f"{split}_worst_class"] = str(classes[scores["worst_class"]])
    return out


def model_scale_fields(
    dataset: TextDataset,
    configs: Sequence[BackendConfig],
    names: Sequence[str],
    oof_pred_probs: dict[str, np.ndarray],
    *,
    test: TextDataset | None = None,
    fit_final: bool = False,
    cost_rows: int = 32,
    seed: int = 0,
    cache_dir: str | None = None,
    given: Sequence[str] = (),
    progress: Callable[[int, int, str], None] | None = None,
    prepared: dict | None = None,
    init: dict | None = None,
    fitted: dict | None = None,
) -> dict[str, dict]:
    """Backend name -> the fields above.

    Out-of-fold fields always. With ``fit_final``, each backend (but those in ``given``, whose
    predictions were made elsewhere: their test fields come from their given test predictions,
    ``precomputed:...,test=FILE``) is trained once on the whole
    ``dataset`` (as it would ship), scored on ``test`` when given (test fields), and its
    inference costs are measured on ``cost_rows`` texts (test texts when there is a test
    split, else training texts; a seeded sample) with :func:`finetune.latency.measure_inference_costs`.
    ``prepared`` / ``init``: backend name -> its shared label-free features and a fold's
    solution from the out-of-fold run, so a final fit reuses them (see ``finetune.holdout``).
    ``fitted``: backend name -> ``(model, seconds, test_pred_probs)`` already trained on every row
    (beside the folds: ``OOFResult.final``, ``final_seconds``, ``final_pred_probs``, which are the
    model's predictions of ``test`` when not None): scored and measured, not trained again.
    """
    from finetune.backends import make_backend
    from finetune.holdout import fit_and_predict, score_fitted

    if cost_rows < 0:
        raise ConfigError(f"cost_rows must be >= 0, got {cost_rows}")
    if test is not None and tuple(test.classes) != tuple(dataset.classes):
        raise ConfigError("the test split's classes differ from the audited split's")
    # one set of resamples per split, shared by every model (10,003 x 1,000 counts: 80 MB, ~0.1 s)
    resamples = get_bootstrap_weights(len(dataset), seed=seed)
    out = {n: split_fields("oof", dataset.labels, oof_pred_probs[n], dataset.classes, seed=seed, weights=resamples)
           for n in names}
    del resamples
    for fields in out.values():
        fields.pop("oof_accuracy")  # the run records it already; its interval is added here
    if not fit_final:
        return out
    test_resamples = get_bootstrap_weights(len(test), seed=seed) if test is not None else None
    pool = test.texts if test is not None else dataset.texts
    rng = np.random.default_rng(seed)
    sample = [pool[i] for i in rng.permutation(len(pool))[:cost_rows]] if cost_rows else None
    for i, (name, config) in enumerate(zip(names, configs)):
        if name in given:  # predictions made elsewhere: scored on the test split when it has them
            tested = make_backend(config).given_test_pred_probs(test.example_ids, test.classes) if test else None
            if tested is not None:
                out[name].update({"n_test": len(test), **split_fields("test", test.labels, tested, test.classes,
                                                                      seed=seed, weights=test_resamples)})
            continue
        if progress:
            progress(i, len(names), f"{name}: training on every row" + (", scoring the test split" if test else ""))
        eval_texts = test.texts if test is not None else None
        if (fitted or {}).get(name) is not None:
            model, seconds, scored = fitted[name]
            result = score_fitted(model, seconds, classes=dataset.classes, eval_texts=eval_texts, cost_texts=sample,
                                  eval_pred_probs=scored if test is not None else None)
        else:
            result = fit_and_predict(
                config, dataset.texts, dataset.label_names, classes=dataset.classes, eval_texts=eval_texts,
                cost_texts=sample, cache_dir=cache_dir, prepared=(prepared or {}).get(name), init=(init or {}).get(name),
            )
        fields = {"final_fit_seconds": result.fit_seconds, "costs": result.costs}
        if test is not None:
            fields["n_test"] = len(test)
            fields.update(split_fields("test", test.labels, result.pred_probs, test.classes, seed=seed,
                                       weights=test_resamples))
        out[name].update(fields)
    if progress:
        progress(len(names), len(names), "final models done")
    return out
