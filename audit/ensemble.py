"""Combine several models' out-of-fold ``pred_probs`` into one.

Method: a weighted average of the models' probabilities, with weights on the simplex that
minimise the out-of-fold log loss of the average (stacking by log loss). A model that is
worse, or only repeats another, gets little weight; a model that is confidently wrong is
punished by the log loss. Weights are fitted on the given labels, which are noisy: with a
few percent of noise and a handful of weights this is a mild, documented bias.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

EPS = 1e-12


def get_log_losses(labels: np.ndarray, pred_probs_list: Sequence[np.ndarray]) -> np.ndarray:
    """(M,) mean out-of-fold log loss of each model against ``labels (N,)``."""
    idx = np.arange(len(labels))
    return np.array([-np.log(np.clip(p[idx, labels], EPS, 1)).mean() for p in pred_probs_list])


def get_ensemble_weights(labels: np.ndarray, pred_probs_list: Sequence[np.ndarray]) -> np.ndarray:
    """(M,) non-negative weights summing to 1 that minimise the log loss of the average."""
    from scipy.optimize import minimize

    m = len(pred_probs_list)
    if m == 1:
        return np.ones(1)
    idx = np.arange(len(labels))
    given = np.stack([p[idx, labels] for p in pred_probs_list], axis=1)  # (N, M)

    def loss(z: np.ndarray) -> tuple[float, np.ndarray]:
        w = np.exp(z - z.max())
        w /= w.sum()
        mix = np.clip(given @ w, EPS, None)
        value = -np.log(mix).mean()
        grad_w = -(given / mix[:, None]).mean(0)
        grad_z = w * (grad_w - grad_w @ w)  # chain rule through the softmax
        return value, grad_z

    res = minimize(loss, np.zeros(m), jac=True, method="L-BFGS-B")
    w = np.exp(res.x - res.x.max())
    return w / w.sum()


def get_ensemble_pred_probs(pred_probs_list: Sequence[np.ndarray], *, weights: np.ndarray | None = None) -> np.ndarray:
    """(N, K) weighted average of the models' ``pred_probs``."""
    stack = np.stack(pred_probs_list)
    w = np.full(len(stack), 1 / len(stack)) if weights is None else np.asarray(weights, float)
    return np.tensordot(w, stack, axes=1)
