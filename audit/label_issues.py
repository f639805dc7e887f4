"""Label issues from several models' out-of-fold predictions.

Method (documented in docs/method.md):
1. Ensemble: weighted average of the models' ``pred_probs``, weights minimising out-of-fold
   log loss (:mod:`audit.ensemble`).
2. Score: cleanlab's ``get_label_quality_scores`` on the ensemble with the
   ``normalized_margin`` method (suits near-class noise, where the given label keeps some
   probability and self-confidence ranks poorly).
3. Flags: cleanlab's ``find_label_issues`` on the ensemble, ``filter_by`` chosen by the user
   (confident learning estimates *how many* rows are mislabelled; the ranking picks *which*).
Per model we keep its argmax, its own quality score and its own cleanlab flag, plus how many
models disagree with the given label, so every flag can say why it was raised.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from audit.ensemble import get_ensemble_pred_probs, get_ensemble_weights

FILTERS = ("low_normalized_margin", "prune_by_noise_rate", "both", "confident_learning",
           "low_self_confidence", "predicted_neq_given")


def find_label_issues_ensemble(
    labels: np.ndarray,
    pred_probs_list: Sequence[np.ndarray],
    *,
    model_names: Sequence[str],
    weights: np.ndarray | None = None,
    method: str = "normalized_margin",
    filter_by: str = "low_normalized_margin",
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Score and flag every row.

    Parameters
    ----------
    labels : (N,) given labels (int codes).
    pred_probs_list : M arrays (N, K) of out-of-fold probabilities, one per model.
    weights : (M,) ensemble weights; fitted by log loss when None.

    Returns
    -------
    table : DataFrame (N rows) with ``label_quality``, ``is_label_issue``, ``suggested``,
        ``n_models_disagree``, and per model ``pred__m``, ``quality__m``, ``flag__m``.
    ensemble_pred_probs : (N, K).
    weights : (M,).
    """
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    labels = np.asarray(labels)
    if weights is None:
        weights = get_ensemble_weights(labels, pred_probs_list)
    ens = get_ensemble_pred_probs(pred_probs_list, weights=weights)
    table = pd.DataFrame(
        {
            "label_quality": get_label_quality_scores(labels, ens, method=method),
            "is_label_issue": find_label_issues(labels, ens, filter_by=filter_by, verbose=False),
            "suggested": ens.argmax(1),
        }
    )
    disagree = np.zeros(len(labels), dtype=np.int64)
    for name, p in zip(model_names, pred_probs_list):
        pred = p.argmax(1)
        disagree += pred != labels
        table[f"pred__{name}"] = pred
        table[f"quality__{name}"] = get_label_quality_scores(labels, p, method=method)
        table[f"flag__{name}"] = find_label_issues(labels, p, filter_by=filter_by, verbose=False)
    table["n_models_disagree"] = disagree
    table["n_models"] = len(pred_probs_list)
    return table, ens, weights
