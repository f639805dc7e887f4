"""``outliers``: rows far from the rest in embedding space (off-topic, garbled, other
language), scored by cleanlab's ``OutOfDistribution`` on the features.

Rule: cleanlab's score (in [0, 1], mean distance to the ``k`` nearest neighbours mapped
through ``exp(-d / t)``) is flagged when below the lower Tukey fence of the scores:
``Q1 - iqr_factor * (Q3 - Q1)``. No fixed share is flagged: clean data can have none.
"""

from __future__ import annotations

import numpy as np

from audit.detectors.base import DetectorContext, DetectorResult


#: scikit-learn's ``working_memory`` (MB) for the kNN's pairwise-distance chunks.
_WORKING_MEMORY_MB = 128


def get_outlier_threshold(scores: np.ndarray, *, iqr_factor: float = 1.5) -> float:
    """Lower Tukey fence of ``scores (N,)``."""
    q1, q3 = np.percentile(scores, [25, 75])
    return float(q1 - iqr_factor * (q3 - q1))


def detect_outliers(context: DetectorContext, *, k: int = 10, iqr_factor: float = 1.5) -> DetectorResult:
    """Outliers in embedding space (cleanlab OutOfDistribution, features = embeddings)."""
    import sklearn
    from cleanlab.outlier import OutOfDistribution

    feats = np.asarray(context.embeddings, dtype=np.float32)
    k = max(1, min(k, len(feats) - 1))
    # the kNN's distance chunks: scikit-learn's default 1 GB raised the run's peak memory by 1.2 GB
    # on BANKING77; 128 MB chunks give the same scores in less time (docs/benchmarks.md)
    with sklearn.config_context(working_memory=_WORKING_MEMORY_MB):
        scores = OutOfDistribution({"k": k}).fit_score(features=feats, verbose=False)
    threshold = get_outlier_threshold(scores, iqr_factor=iqr_factor)
    is_issue = scores < threshold
    median = float(np.median(scores))
    reason = np.full(len(scores), "", dtype=object)
    rank = np.empty(len(scores), dtype=int)
    rank[np.argsort(scores, kind="stable")] = np.arange(1, len(scores) + 1)
    for i in np.flatnonzero(is_issue):
        reason[i] = (
            f"far from other examples: outlier score {scores[i]:.3f} < threshold {threshold:.3f} "
            f"(median {median:.3f}; #{rank[i]} of {len(scores)})"
        )
    return DetectorResult(
        is_issue, scores, reason, float(scores.mean()) if len(scores) else 1.0,
        {"k": k, "iqr_factor": iqr_factor, "threshold": threshold, "median_score": median,
         "rule": "score < Q1 - iqr_factor * (Q3 - Q1)"},
    )
