"""``outliers``: rows far from the rest in embedding space (off-topic, garbled, other
language), scored by cleanlab's outlier score on the run's neighbour graph.

Score: cleanlab's (in [0, 1], mean cosine distance to the ``k`` nearest neighbours mapped
through ``exp(-d / t)``), computed by Datalab's outlier check from the neighbour graph the
detectors share (:meth:`DetectorContext.nearest_neighbors`), with cleanlab's correction for
exact duplicates: the same scores as ``OutOfDistribution().fit_score(features=...)`` (within
1e-6 on BANKING77), without its two kNN searches of its own. Rule: flagged when below the
lower Tukey fence of the scores: ``Q1 - iqr_factor * (Q3 - Q1)``. No fixed share is flagged:
clean data can have none.
"""

from __future__ import annotations

import warnings

import numpy as np

from audit.detectors.base import DetectorContext, DetectorResult


def get_outlier_threshold(scores: np.ndarray, *, iqr_factor: float = 1.5) -> float:
    """Lower Tukey fence of ``scores (N,)``."""
    q1, q3 = np.percentile(scores, [25, 75])
    return float(q1 - iqr_factor * (q3 - q1))


def get_outlier_scores(context: DetectorContext, *, k: int = 10) -> np.ndarray:
    """(N,) cleanlab's outlier scores of ``context``'s embeddings from its neighbour graph."""
    import scipy.sparse as sp
    from cleanlab import Datalab
    from cleanlab.internal.neighbor.knn_graph import correct_knn_distances_and_indices

    neighbors = context.nearest_neighbors(k)
    n, k = neighbors.indices.shape
    distances = np.clip(1.0 - neighbors.similarities.astype(np.float64), 0.0, 2.0)  # cosine distance
    # exact duplicates found on the features themselves, as OutOfDistribution finds them
    distances, indices = correct_knn_distances_and_indices(
        np.asarray(context.embeddings, dtype=np.float32), distances, neighbors.indices.copy())
    graph = sp.csr_matrix((distances.ravel(), indices.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n))
    lab = Datalab(data={"label": np.asarray(context.labels)}, label_name="label", verbosity=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Datalab's notes on the checks not asked for
        lab.find_issues(knn_graph=graph, issue_types={"outlier": {"k": k}})
    return lab.get_issues("outlier")["outlier_score"].to_numpy(dtype=float)


def detect_outliers(context: DetectorContext, *, k: int = 10, iqr_factor: float = 1.5) -> DetectorResult:
    """Outliers in embedding space (cleanlab's outlier score on the shared neighbour graph)."""
    n = len(context.dataset)
    k = max(1, min(k, n - 1))
    scores = get_outlier_scores(context, k=k) if n > 1 else np.ones(n)  # one row has no neighbour
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
