"""Systematically confused label pairs, per model and pooled, with a data-vs-capacity diagnosis.

For a pair (a, b) and a model: ``n_a_as_b`` counts rows labelled a whose out-of-fold argmax
is b; ``rate`` = (n_a_as_b + n_b_as_a) / (n_a + n_b). A model *confuses* a pair when the
pair is among its ``top_k`` pairs by rate and the rate is at least ``min_rate``.

Diagnosis:
- ``data``: every model, at every scale, confuses the pair - the labels (or the label
  definitions) are the limit. Recommendation: ``merge`` when the confusion runs both ways
  (the minor direction at least ``symmetry`` times the major one), ``relabel`` when one-way
  (rows of one label look like the other: a systematic labelling error), else ``guideline``.
- ``capacity``: smaller models confuse it but the largest does not - a bigger model fixes it.
- ``model-specific``: some models confuse it, without the scale pattern above.
- ``none``: no model confuses it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd


def get_confusion_counts(labels: np.ndarray, pred_probs: np.ndarray) -> np.ndarray:
    """(K, K) counts: rows = given label, columns = out-of-fold argmax."""
    k = pred_probs.shape[1]
    return np.bincount(labels * k + pred_probs.argmax(1), minlength=k * k).reshape(k, k)


def _pair_table(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    k = counts.shape[0]
    a, b = np.triu_indices(k, 1)
    n = counts.sum(1)
    ab, ba = counts[a, b], counts[b, a]
    denom = np.maximum(n[a] + n[b], 1)
    return a, b, np.stack([ab, ba], 1), (ab + ba) / denom


def get_merge_gains(labels: np.ndarray, pred_probs: np.ndarray, pairs: Sequence[tuple[int, int]]) -> pd.DataFrame:
    """Accuracy and macro-F1 of the argmax before and after merging each pair (b into a)."""
    from sklearn.metrics import f1_score

    pred = pred_probs.argmax(1)
    base_acc = float(np.mean(pred == labels))
    base_f1 = float(f1_score(labels, pred, average="macro"))
    rows = []
    for a, b in pairs:
        y = np.where(labels == b, a, labels)
        p = np.where(pred == b, a, pred)
        rows.append(
            {
                "merged_accuracy": float(np.mean(y == p)),
                "merged_macro_f1": float(f1_score(y, p, average="macro")),
                "accuracy_gain": float(np.mean(y == p)) - base_acc,
                "macro_f1_gain": float(f1_score(y, p, average="macro")) - base_f1,
            }
        )
    return pd.DataFrame(rows)


def find_confused_pairs(
    labels: np.ndarray,
    pred_probs_list: Sequence[np.ndarray],
    *,
    class_names: Sequence[str],
    model_names: Sequence[str],
    model_sizes: Sequence[float] | None = None,
    ensemble_pred_probs: np.ndarray | None = None,
    top_k: int = 20,
    min_rate: float = 0.02,
    symmetry: float = 0.4,
    max_pairs: int = 100,
) -> pd.DataFrame:
    """Confused pairs, most confused first (pooled rate = mean of the models' rates).

    Parameters
    ----------
    labels : (N,) given labels. pred_probs_list : M arrays (N, K), out-of-fold.
    model_sizes : (M,) a measure of scale (e.g. parameter count) ordering the models for the
        capacity diagnosis; by default the given order is smallest to largest.
    ensemble_pred_probs : (N, K) used for the merge-gain columns (default: plain average).

    Returns one row per pair with any confusion: ``label_a``, ``label_b``, ``n_a_as_b``,
    ``n_b_as_a``, ``confusion_rate``, ``n_models_confusing``, ``diagnosis``,
    ``recommendation``, ``evidence``, merge gains, and per model ``rate__m``, ``rank__m``,
    ``n_a_as_b__m``, ``n_b_as_a__m``.
    """
    m = len(pred_probs_list)
    sizes = np.arange(m, dtype=float) if model_sizes is None else np.asarray(model_sizes, float)
    tables = [_pair_table(get_confusion_counts(labels, p)) for p in pred_probs_list]
    a, b = tables[0][0], tables[0][1]
    rates = np.stack([t[3] for t in tables], 1)  # (P, M)
    dirs = np.stack([t[2] for t in tables], 1)  # (P, M, 2)
    ranks = np.empty_like(rates, dtype=np.int64)
    for j in range(m):
        order = np.argsort(-rates[:, j], kind="stable")
        ranks[order, j] = np.arange(1, len(order) + 1)
    confused = (ranks <= top_k) & (rates >= min_rate)

    pooled = rates.mean(1)
    keep = np.flatnonzero(rates.max(1) > 0)
    keep = keep[np.argsort(-pooled[keep], kind="stable")][:max_pairs]

    largest = int(np.argmax(sizes))
    rows = []
    for p in keep:
        n_ab, n_ba = dirs[p].mean(0)
        n_conf = int(confused[p].sum())
        if n_conf == m:
            diagnosis = "data"
            major, minor = max(n_ab, n_ba), min(n_ab, n_ba)
            if minor >= symmetry * major:
                recommendation = "merge"
            elif minor == 0 or minor < 0.25 * major:
                recommendation = "relabel"
            else:
                recommendation = "guideline"
        elif n_conf > 0 and not confused[p, largest]:
            diagnosis, recommendation = "capacity", "bigger model"
        elif n_conf > 0:
            diagnosis, recommendation = "model-specific", "inspect"
        else:
            diagnosis, recommendation = "none", ""
        ca, cb = class_names[a[p]], class_names[b[p]]
        per_model = "; ".join(
            f"{name}: {dirs[p, j, 0]}+{dirs[p, j, 1]} ({rates[p, j]:.1%}, #{ranks[p, j]})"
            for j, name in enumerate(model_names)
        )
        row = {
            "label_a": ca,
            "label_b": cb,
            "n_a_as_b": float(n_ab),
            "n_b_as_a": float(n_ba),
            "confusion_rate": float(pooled[p]),
            "n_models_confusing": n_conf,
            "n_models": m,
            "diagnosis": diagnosis,
            "recommendation": recommendation,
            "evidence": f"{n_conf}/{m} models confuse it; {ca}->{cb} + {cb}->{ca} (rate, rank): {per_model}",
        }
        for j, name in enumerate(model_names):
            row[f"rate__{name}"] = float(rates[p, j])
            row[f"rank__{name}"] = int(ranks[p, j])
            row[f"n_a_as_b__{name}"] = int(dirs[p, j, 0])
            row[f"n_b_as_a__{name}"] = int(dirs[p, j, 1])
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        ens = ensemble_pred_probs if ensemble_pred_probs is not None else np.mean(pred_probs_list, 0)
        gains = get_merge_gains(labels, ens, [(int(a[p]), int(b[p])) for p in keep])
        table = pd.concat([table, gains], axis=1)
    return table
