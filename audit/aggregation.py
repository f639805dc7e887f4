"""Label issues from several models' out-of-fold predictions.

Method (measured in docs/method.md):
1. Ensemble: the average of the models' ``pred_probs`` (or weights fitted by out-of-fold
   log loss, :mod:`audit.ensemble`; equal weights ranked planted errors better in our
   measurements, see docs/method.md).
2. Noise-aware posterior: ``post[n, j] ∝ ens[n, j] · P(given = labels[n] | true = j)``, the
   noise transition estimated by cleanlab's calibrated confident joint. Confusion that is
   natural (both ways, in every pair) is discounted; one-way excess confusion, which is what
   labelling errors leave behind, is not.
3. Score: cleanlab's ``get_label_quality_scores`` (``normalized_margin``) on the posterior.
4. Flags: how many - as many as cleanlab's ``find_label_issues`` flags on the ensemble
   (confident learning, ``prune_by_noise_rate``); which - the lowest scores. Or any cleanlab
   ``filter_by`` on the ensemble.
Per model we keep its argmax, its own quality score and its own cleanlab flag, plus how many
models disagree with the given label, so every flag can say why it was raised.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from audit.ensemble import get_ensemble_pred_probs, get_ensemble_weights
from audit.settings import FILTERS  # noqa: F401  (the one list of flagging methods)

#: Above this many bytes of float64 work arrays (inputs, ensemble, posterior, scores), the
#: aggregation runs in chunks of :data:`DEFAULT_CHUNK_ROWS` rows.
IN_MEMORY_LIMIT_BYTES = 2 << 30
DEFAULT_CHUNK_ROWS = 32768



def import_cleanlab() -> None:
    """Import what :func:`find_label_issues_ensemble` uses from cleanlab ahead of time (~0.45 s:
    ``import cleanlab`` loads its Datalab and Hugging Face ``datasets``), e.g. while the last folds
    train (``cross_val_predict_proba_many(while_waiting=...)``)."""
    import cleanlab.filter  # noqa: F401
    import cleanlab.rank  # noqa: F401


#: The share of :func:`get_noise_transition` spread evenly over every given label.
NOISE_FLOOR = 0.03


def get_noise_aware_pred_probs(labels: np.ndarray, pred_probs: np.ndarray, *, floor: float = NOISE_FLOOR) -> np.ndarray:
    """(N, K) posterior over the true label given ``pred_probs (N, K)`` and the given label.

    ``post[n, j] ∝ pred_probs[n, j] · T[labels[n], j]`` with ``T`` from :func:`get_noise_transition`
    on cleanlab's calibrated confident joint."""
    from cleanlab.count import compute_confident_joint

    labels = np.asarray(labels)
    joint = compute_confident_joint(labels, pred_probs)  # rows given, cols true
    return apply_noise_transition(labels, pred_probs, get_noise_transition(joint, floor=floor))


def get_noise_transition(joint: np.ndarray, *, floor: float = NOISE_FLOOR) -> np.ndarray:
    """(K, K) ``T[i, j] = P(given=i | true=j)``: the confident joint's columns normalised, mixed
    with weight ``floor`` with the uniform ``1 / K``. The confident joint can count zero for a
    real (given, true) pair when its rows fall below the class thresholds; a zero would hide
    every error of that pair, so no entry is below ``floor / K``. The floor is even on purpose:
    filling the zeros from the models' own confusion instead (the summed ``pred_probs`` of each
    given label, as before) gave the pairs the models confuse naturally the most weight, and
    their ambiguous rows outranked planted one-way flips (BANKING77, docs/benchmarks.md)."""
    joint = np.asarray(joint, dtype=float)
    return (1 - floor) * _normalise_columns(joint) + floor / len(joint)


def apply_noise_transition(labels: np.ndarray, pred_probs: np.ndarray, transition: np.ndarray) -> np.ndarray:
    """(N, K) rows of ``pred_probs * transition[labels]``, renormalised (rows whose product is
    all zero keep ``pred_probs``)."""
    post = pred_probs * transition[labels]
    sums = post.sum(1, keepdims=True)
    return np.where(sums > 0, post / np.where(sums > 0, sums, 1), pred_probs)


def _normalise_columns(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(m.sum(0, keepdims=True), 1e-12)


def get_label_quality_scores_ensemble(
    labels: np.ndarray,
    pred_probs_list: Sequence[np.ndarray],
    *,
    weights: np.ndarray | str = "equal",
    noise_aware: bool = True,
    method: str = "normalized_margin",
) -> np.ndarray:
    """(N,) label quality in [0, 1], lower = more likely mislabelled (steps 1-3 above)."""
    ens = _ensemble(labels, pred_probs_list, weights)
    return _scores(labels, ens, noise_aware=noise_aware, method=method)[0]


def resolve_weights(labels: np.ndarray, pred_probs_list: Sequence[np.ndarray], weights: np.ndarray | str | None) -> np.ndarray:
    """(M,) ensemble weights from "equal" (or None), "log_loss" or an explicit array."""
    if weights is None:
        weights = "equal"
    if isinstance(weights, str):
        if weights == "equal":
            return np.full(len(pred_probs_list), 1 / len(pred_probs_list))
        if weights == "log_loss":
            return get_ensemble_weights(labels, pred_probs_list)
        raise ValueError(f"weights must be 'equal', 'log_loss' or an array, got {weights!r}")
    return np.asarray(weights, dtype=float)


def _ensemble(labels, pred_probs_list, weights) -> np.ndarray:
    return get_ensemble_pred_probs(pred_probs_list, weights=resolve_weights(labels, pred_probs_list, weights))


def _scores(labels, ens, *, noise_aware: bool, method: str) -> tuple[np.ndarray, np.ndarray]:
    from cleanlab.rank import get_label_quality_scores

    scored = get_noise_aware_pred_probs(labels, ens) if noise_aware else ens
    return get_label_quality_scores(labels, scored, method=method), scored


def suggest_labels(labels: np.ndarray, pred_probs: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """(N,) the ensemble's argmax; for a flagged row, the most likely label other than the given one."""
    other = pred_probs.copy()
    other[np.arange(len(labels)), labels] = -1
    return np.where(flags, other.argmax(1), pred_probs.argmax(1))


def find_label_issues_ensemble(
    labels: np.ndarray,
    pred_probs_list: Sequence[np.ndarray],
    *,
    model_names: Sequence[str],
    weights: np.ndarray | str = "equal",
    noise_aware: bool = True,
    method: str = "normalized_margin",
    filter_by: str = "rank",
    chunk_rows: int | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Score and flag every row: the one aggregation engine.

    In memory, or in chunks of ``chunk_rows`` rows (:mod:`audit.aggregation_chunked`) when given,
    or by itself when the inputs would take more than :data:`IN_MEMORY_LIMIT_BYTES` as float64
    (``filter_by="rank"`` only; other filters need the whole ensemble in memory).

    Parameters
    ----------
    labels : (N,) given labels (int codes).
    pred_probs_list : M arrays (N, K) of out-of-fold probabilities, one per model.
    weights : "equal", "log_loss" or (M,) ensemble weights.

    Returns
    -------
    table : DataFrame (N rows): ``label_quality``, ``is_label_issue``, ``suggested``
        (:func:`suggest_labels`), ``n_models_disagree``, ``n_models``, and per model
        ``pred__m``, ``quality__m``, ``flag__m``.
    ensemble_pred_probs : (N, K) the plain ensemble.
    weights : (M,).
    """
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    if filter_by not in FILTERS:
        raise ValueError(f"filter_by must be one of {FILTERS}, got {filter_by!r}")
    labels = np.asarray(labels)
    if chunk_rows is None and filter_by == "rank" and isinstance(weights, str) and method == "normalized_margin":
        n, k = np.shape(pred_probs_list[0])
        if 8 * n * k * (len(pred_probs_list) + 3) > IN_MEMORY_LIMIT_BYTES:
            chunk_rows = DEFAULT_CHUNK_ROWS
    if chunk_rows is not None:
        from audit.aggregation_chunked import aggregate_label_issues_chunked

        if filter_by != "rank" or not isinstance(weights, str) or method != "normalized_margin":
            raise ValueError("the chunked aggregation implements filter_by='rank', named weights and normalized_margin")
        return aggregate_label_issues_chunked(labels, list(pred_probs_list), model_names=model_names,
                                              chunk_rows=chunk_rows, weights=weights, noise_aware=noise_aware)
    w = resolve_weights(labels, pred_probs_list, weights)
    ens = get_ensemble_pred_probs(pred_probs_list, weights=w)
    quality, scored = _scores(labels, ens, noise_aware=noise_aware, method=method)
    # n_jobs=1: cleanlab's default forks a process pool, which is slower here (10k x 77: 0.04 s vs
    # 0.06 s) and can crash a driver that runs torch or Ray threads (a segfault seen in the tests)
    if filter_by == "rank":
        n_flag = int(find_label_issues(labels, ens, verbose=False, n_jobs=1).sum())
        flags = np.zeros(len(labels), dtype=bool)
        flags[np.argsort(quality, kind="stable")[:n_flag]] = True
    else:
        flags = find_label_issues(labels, ens, filter_by=filter_by, verbose=False, n_jobs=1)
    table = pd.DataFrame({"label_quality": quality, "is_label_issue": flags, "suggested": suggest_labels(labels, ens, flags)})
    disagree = np.zeros(len(labels), dtype=np.int64)
    for name, p in zip(model_names, pred_probs_list):
        pred = p.argmax(1)
        disagree += pred != labels
        table[f"pred__{name}"] = pred
        table[f"quality__{name}"] = get_label_quality_scores(labels, p, method=method)
        table[f"flag__{name}"] = find_label_issues(labels, p, verbose=False, n_jobs=1)
    table["n_models_disagree"] = disagree
    table["n_models"] = len(pred_probs_list)
    return table, ens, w
