"""Label-health numbers for the report, from out-of-fold probabilities and issues.csv."""

from __future__ import annotations

import numpy as np
import pandas as pd


def health_numbers(labels: np.ndarray | None, pred_probs: np.ndarray | None, issues: pd.DataFrame | None) -> dict:
    """Overall numbers: ``n_examples``, ``n_flagged`` / ``flagged_share`` (the aggregated
    detector's ``is_label_issue``), ``health_score`` (1 - flagged share, the convention of
    cleanlab's ``overall_label_health_score``), ``cleanlab_health_score`` (cleanlab's own, from
    the ensemble's out-of-fold ``pred_probs``; it counts issues its own way), ``ensemble_accuracy``,
    ``n_flagged_by_all`` (examples whose given label every backend's argmax disagrees with)
    and ``mean_label_quality``.
    Keys are missing where the inputs do not allow them.
    """
    out: dict = {}
    if issues is not None and len(issues):
        out["n_examples"] = len(issues)
        if "is_label_issue" in issues:
            flags = issues["is_label_issue"].astype(bool)  # parsed by audit.formats.run_folder
            out["n_flagged"] = int(flags.sum())
            out["flagged_share"] = float(flags.mean())
            out["health_score"] = 1.0 - out["flagged_share"]
        if {"n_models_disagree", "n_models"} <= set(issues.columns):
            n_models = pd.to_numeric(issues["n_models"], errors="coerce")
            out["n_flagged_by_all"] = int((pd.to_numeric(issues["n_models_disagree"], errors="coerce") >= n_models).sum())
        if "label_quality" in issues:
            out["mean_label_quality"] = float(pd.to_numeric(issues["label_quality"], errors="coerce").mean())
    if labels is not None and pred_probs is not None:
        from cleanlab.dataset import overall_label_health_score

        out.setdefault("n_examples", len(labels))
        out["ensemble_accuracy"] = float(np.mean(pred_probs.argmax(axis=1) == labels))
        out["cleanlab_health_score"] = float(overall_label_health_score(labels, pred_probs, verbose=False))
    return out


def class_label_quality(labels: np.ndarray, pred_probs: np.ndarray, classes: list[str]) -> pd.DataFrame:
    """cleanlab's per-class table (``rank_classes_by_label_quality``), worst class first:
    ``Class Name``, ``Label Issues``, ``Inverse Label Issues``, ``Label Noise``,
    ``Inverse Label Noise``, ``Label Quality Score``."""
    from cleanlab.dataset import rank_classes_by_label_quality

    return rank_classes_by_label_quality(labels, pred_probs, class_names=list(classes))


def most_confused_classes(confusion: np.ndarray, *, top: int) -> np.ndarray:
    """Indices of up to ``top`` classes, taken pair by pair from the most confused pairs
    (``confusion[a, b] + confusion[b, a]``, rates per pair size), most confused first.

    Picking by pairs, not by each class's total off-diagonal mass, keeps a class that many
    classes are mistaken for (an attractor) from crowding out the pairs that matter."""
    k = confusion.shape[0]
    size = confusion.sum(axis=1)
    a, b = np.triu_indices(k, 1)
    rate = (confusion[a, b] + confusion[b, a]) / np.maximum(size[a] + size[b], 1)
    picked: list[int] = []
    for p in np.argsort(-rate, kind="stable"):
        if rate[p] <= 0 or len(picked) >= top:
            break
        for c in (int(a[p]), int(b[p])):
            if c not in picked and len(picked) < top:
                picked.append(c)
    return np.asarray(picked or list(range(min(top, k))), dtype=np.int64)
