"""Scores of a classifier's predictions with confidence intervals: accuracy (Wilson score
interval), macro-F1 and the worst class's recall (percentile bootstrap over examples).

These are the numbers a requirement is checked against (:mod:`audit.decision`), so each comes
with the interval that says how much of it is the test set's noise.
"""

from __future__ import annotations

import math

import numpy as np

from audit.options import BAR_METRICS as METRICS  # accuracy, macro_f1, worst_class_recall
from labelcore.errors import ConfigError


def wilson_interval(n_correct: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``n_correct / n``."""
    from statistics import NormalDist

    if n <= 0:
        return (0.0, 1.0)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = n_correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def scores_with_intervals(
    labels: np.ndarray,
    pred: np.ndarray,
    *,
    n_classes: int,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
    weights: np.ndarray | None = None,
) -> dict:
    """Point values and ``confidence`` intervals of every metric in :data:`METRICS`.

    labels, pred : (n,) int codes. ``weights``: the resamples
    (:func:`audit.pair_stats.get_bootstrap_weights` of ``n`` rows), when several models are
    scored on the same rows (the same as passing ``n_resamples, seed``). Returns
    ``{metric: value, f"{metric}_ci": [low, high]}`` for each metric, plus ``worst_class`` (the
    code of the class with the lowest recall) and ``n``. Macro-F1 averages over the classes
    present in ``labels``.
    """
    from audit.pair_stats import get_bootstrap_weights
    from audit.retrain import weighted_scores

    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must be in (0, 1), got {confidence}")
    labels, pred = np.asarray(labels, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    n = len(labels)
    point = weighted_scores(labels, pred, np.ones((1, n)), n_classes=n_classes)
    recall = point["recall"][0]
    if weights is None:
        weights = get_bootstrap_weights(n, n_bootstrap=n_resamples, seed=seed)
    boot = weighted_scores(labels, pred, weights, n_classes=n_classes)
    boot_worst = np.nanmin(boot["recall"], axis=1)
    q = [50 * (1 - confidence), 50 * (1 + confidence)]
    correct = int(np.sum(labels == pred))
    out = {
        "n": n,
        "accuracy": correct / n if n else float("nan"),
        "accuracy_ci": list(wilson_interval(correct, n, confidence=confidence)),
        "macro_f1": float(point["macro_f1"][0]),
        "macro_f1_ci": [float(x) for x in np.nanpercentile(boot["macro_f1"], q)],
        "worst_class_recall": float(np.nanmin(recall)),
        "worst_class_recall_ci": [float(x) for x in np.nanpercentile(boot_worst, q)],
        "worst_class": int(np.nanargmin(recall)),
    }
    return out
