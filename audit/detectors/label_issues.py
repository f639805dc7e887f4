"""``label_issues``: rows whose given label the models' out-of-fold predictions contradict
(wraps :func:`audit.aggregation.find_label_issues_ensemble`)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from audit.detectors.base import DetectorContext, DetectorResult


def explain_disagreement(row: dict, model_names: Sequence[str]) -> str:
    """``"2 of 3 models disagree with 'x' (m1: y; m2: z)"`` from a row holding ``given_label``,
    ``n_models``, ``n_models_disagree`` and ``pred__<model>`` (label names)."""
    votes = [f"{n}: {row[f'pred__{n}']}" for n in model_names if row[f"pred__{n}"] != row["given_label"]]
    if not votes:
        return f"all {row['n_models']} models agree with the given label"
    return (
        f"{row['n_models_disagree']} of {row['n_models']} models disagree with "
        f"'{row['given_label']}' ({'; '.join(votes)})"
    )


def detect_label_issues(
    context: DetectorContext, *, filter_by: str = "rank", noise_aware: bool = True
) -> DetectorResult:
    """Likely label errors: cleanlab on the ensemble of the models' predictions (see
    :mod:`audit.aggregation`). score = label quality; summary_score = its mean.
    """
    from audit.aggregation import find_label_issues_ensemble, resolve_weights

    names = list(context.model_names) or [f"model{i}" for i in range(len(context.pred_probs_list))]
    if context.label_issue_table is not None:  # already computed by the caller (find_issues)
        table = context.label_issue_table
        weights = resolve_weights(context.labels, list(context.pred_probs_list), context.ensemble_weights)
    else:
        table, _, weights = find_label_issues_ensemble(
            context.labels, list(context.pred_probs_list), model_names=names,
            weights=context.ensemble_weights, filter_by=filter_by, noise_aware=noise_aware,
        )
    classes = np.asarray(context.dataset.classes, dtype=object)
    flagged = table["is_label_issue"].to_numpy(bool)
    reason = np.full(len(table), "", dtype=object)
    for i in np.flatnonzero(flagged):
        row = {"given_label": classes[context.labels[i]], "n_models": len(names),
               "n_models_disagree": int(table["n_models_disagree"].iat[i])}
        row.update({f"pred__{n}": classes[int(table[f"pred__{n}"].iat[i])] for n in names})
        reason[i] = explain_disagreement(row, names)
    score = table["label_quality"].to_numpy(float)
    return DetectorResult(
        flagged, score, reason, float(score.mean()) if len(score) else 1.0,
        {"filter_by": filter_by, "noise_aware": noise_aware, "method": "normalized_margin", "models": names,
         "ensemble_weights": [float(w) for w in weights]},
    )
