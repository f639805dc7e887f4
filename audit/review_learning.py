"""Learn from the reviewers' decisions which flags are real errors, and rank the rest by it.

After a batch of review, every reviewed row is an example: its label was wrong (relabelled)
or right (kept). A monotone additive model (boosted stumps), fitted on per-row evidence (the
models' out-of-fold probabilities, the labels of the row's nearest texts, how often reviewers
found an error in the same given -> predicted direction), learns how that evidence maps to an
error *on this dataset*, and scores the rows not reviewed yet. This is what re-training alone
cannot do: a model trained on perfectly clean labels still ranks the genuinely ambiguous rows
of a confusable pair among the errors, and only the reviewers' "keep" says they are not
(docs/benchmarks.md, "Active re-ranking").

Plain functions over ``labels (N,)`` and ``pred_probs (N, K)``, as cleanlab's core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from labelcore.errors import ConfigError

#: Feature names, in the column order of :func:`get_review_features`, and the direction in
#: which each may move the error probability (+1: more evidence of an error, never less likely).
FEATURES = ("label_quality", "p_given", "p_other", "given_rank", "other_share",
            "neighbours_given", "neighbours_other", "direction_error_rate", "class_error_rate")
MONOTONE = (-1, -1, +1, +1, +1, -1, +1, +1, +1)


@dataclass(frozen=True)
class TextNeighbours:
    """Each row's ``k`` nearest other rows by TF-IDF cosine: ``index (N, k)``, ``similarity (N, k)``."""

    index: np.ndarray
    similarity: np.ndarray


def find_text_neighbours(texts: Sequence[str], *, k: int = 10) -> TextNeighbours:
    """The ``k`` nearest other texts of every text (word 1-2 + char_wb 2-5 TF-IDF, cosine).

    Label-free, so computed once per dataset; a row is never its own neighbour."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors
    from sklearn.pipeline import make_union

    texts = list(texts)
    if len(texts) < 2:
        raise ConfigError(f"learning from reviews needs at least 2 texts, got {len(texts)}")
    k = min(k, len(texts) - 1)
    union = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b", dtype=np.float32),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, dtype=np.float32),
    )
    matrix = union.fit_transform(texts)
    distance, index = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(matrix).kneighbors()
    return TextNeighbours(index=index, similarity=np.clip(1.0 - distance, 0.0, 1.0))


def get_direction_error_rates(
    given: np.ndarray, predicted: np.ndarray, was_error: np.ndarray, *, n_classes: int, strength: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed error rates of reviewed rows, per direction and per given label.

    given, predicted, was_error : (M,) the reviewed rows' label when reviewed, the models'
    most likely other label, and whether the reviewer changed the label.
    Returns ``(direction (K, K), per_class (K,))``: (errors + strength * base) / (rows +
    strength), ``base`` the share of errors over all reviews.
    """
    errors, rows = np.zeros((n_classes, n_classes)), np.zeros((n_classes, n_classes))
    np.add.at(rows, (given, predicted), 1.0)
    np.add.at(errors, (given, predicted), np.asarray(was_error, dtype=float))
    base = float(np.mean(was_error)) if len(was_error) else 0.5
    direction = (errors + strength * base) / (rows + strength)
    per_class = (errors.sum(1) + strength * base) / (rows.sum(1) + strength)
    return direction, per_class


def _most_likely_other(labels: np.ndarray, pred_probs: np.ndarray) -> np.ndarray:
    """(N,) the most probable label other than ``labels``."""
    others = pred_probs.copy()
    others[np.arange(len(labels)), labels] = -1.0
    return others.argmax(1)


def get_review_features(
    labels: np.ndarray, pred_probs: np.ndarray, *, neighbours: TextNeighbours, neighbour_labels: np.ndarray,
    direction_rate: np.ndarray, class_rate: np.ndarray,
) -> np.ndarray:
    """(N, len(FEATURES)) evidence that each row's ``labels`` entry is wrong.

    neighbour_labels : (N,) the labels the neighbours carry now (reviewed rows corrected).
    direction_rate (K, K), class_rate (K,) : from :func:`get_direction_error_rates`.
    """
    from audit.rerank import label_quality

    n = len(labels)
    rows = np.arange(n)
    given = pred_probs[rows, labels]
    predicted = _most_likely_other(labels, pred_probs)
    other = pred_probs[rows, predicted]
    weights = neighbours.similarity / np.maximum(neighbours.similarity.sum(1, keepdims=True), 1e-12)
    near = neighbour_labels[neighbours.index]
    return np.column_stack([
        label_quality(labels, pred_probs), given, other,
        np.minimum((pred_probs > given[:, None]).sum(1), 5), other / np.maximum(other + given, 1e-12),
        (weights * (near == labels[:, None])).sum(1), (weights * (near == predicted[:, None])).sum(1),
        direction_rate[labels, predicted], class_rate[labels],
    ])


@dataclass(frozen=True)
class ReviewHistory:
    """The reviewed rows as they looked when picked for review.

    features : (M, len(FEATURES)); given, predicted : (M,) the label then and the models' most
    likely other label then; was_error : (M,) 1 when the reviewer changed the label.
    """

    features: np.ndarray
    given: np.ndarray
    predicted: np.ndarray
    was_error: np.ndarray

    @classmethod
    def empty(cls) -> "ReviewHistory":
        none = np.zeros(0, dtype=np.int64)
        return cls(np.zeros((0, len(FEATURES))), none, none, none)

    def add(self, features: np.ndarray, given: np.ndarray, predicted: np.ndarray,
            was_error: np.ndarray) -> "ReviewHistory":
        """A new history with these rows appended."""
        return ReviewHistory(np.vstack([self.features, features]), np.concatenate([self.given, given]),
                             np.concatenate([self.predicted, predicted]),
                             np.concatenate([self.was_error, np.asarray(was_error, dtype=np.int64)]))


def describe_rows(labels: np.ndarray, pred_probs: np.ndarray, *, neighbours: TextNeighbours,
                  history: ReviewHistory) -> tuple[np.ndarray, np.ndarray]:
    """Every row's evidence now: ``(features (N, len(FEATURES)), predicted (N,))``, the
    direction and class error rates taken from ``history``."""
    direction, per_class = get_direction_error_rates(history.given, history.predicted, history.was_error,
                                                     n_classes=pred_probs.shape[1])
    features = get_review_features(labels, pred_probs, neighbours=neighbours, neighbour_labels=labels,
                                   direction_rate=direction, class_rate=per_class)
    return features, _most_likely_other(labels, pred_probs)


def learn_error_scores(features: np.ndarray, history: ReviewHistory, *, min_reviews: int = 50,
                       min_each: int = 5) -> np.ndarray | None:
    """(N,) probability that each row of ``features`` has a wrong label, learnt from the
    history's outcomes: gradient-boosted stumps (an additive model, one step function per
    feature) constrained to be monotone in each feature (:data:`MONOTONE`), so that more
    evidence of an error never lowers the probability, and a row unlike any reviewed one (say,
    far more confident) is not extrapolated into the top, as a linear model would. Deeper trees
    overfit the few hundred reviews (docs/benchmarks.md). None while the history has fewer
    than ``min_reviews`` rows or fewer than ``min_each`` of either outcome: nothing to learn
    from yet, and the caller ranks by label quality. Deterministic."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    n_errors = int(history.was_error.sum())
    if len(history.was_error) < min_reviews or min(n_errors, len(history.was_error) - n_errors) < min_each:
        return None
    model = HistGradientBoostingClassifier(max_depth=1, max_iter=200, learning_rate=0.05, min_samples_leaf=10,
                                           monotonic_cst=list(MONOTONE), early_stopping=False)
    return model.fit(_with_rates_of_the_others(history), history.was_error).predict_proba(features)[:, 1]


def _with_rates_of_the_others(history: ReviewHistory) -> np.ndarray:
    """The history's features with each row's direction and class error rates taken from all
    the *other* reviews - as the rows not reviewed yet see them (all reviews), without the row's
    own outcome (a rate from the time it was picked would be a rate of fewer, earlier reviews)."""
    given, predicted, was_error = history.given, history.predicted, history.was_error
    n_classes = int(max(given.max(), predicted.max())) + 1
    features = history.features.copy()
    direction = _leave_one_out(given, predicted, was_error, n_classes)
    features[:, FEATURES.index("direction_error_rate")] = direction
    features[:, FEATURES.index("class_error_rate")] = _leave_one_out(given, np.zeros_like(given), was_error,
                                                                     n_classes, per_class_only=True)
    return features


def get_learned_error_scores(
    labels: np.ndarray, pred_probs: np.ndarray, *, reviewed: np.ndarray, labels_before_review: np.ndarray,
    neighbours: TextNeighbours, min_reviews: int = 50, min_each: int = 5,
) -> np.ndarray | None:
    """(N,) probability that each row's current label is wrong, learnt from a decision log.

    labels : (N,) the labels now (reviewed rows as the reviewers left them).
    pred_probs : (N, K) out-of-fold probabilities of the models retrained on ``labels``.
    reviewed : (N,) bool; labels_before_review : (N,) each row's label before any review, so
    ``labels_before_review != labels`` on a reviewed row means the reviewer found an error.

    Without a :class:`ReviewHistory` (a decision log does not keep what each row looked like
    when picked), a reviewed row is described by today's probabilities at the label it had when
    reviewed. None as in :func:`learn_error_scores`.
    """
    reviewed = np.asarray(reviewed, dtype=bool)
    if len(reviewed) != len(labels) or len(labels_before_review) != len(labels) or len(pred_probs) != len(labels):
        raise ConfigError("labels, pred_probs, reviewed and labels_before_review must have one row per example")
    rows = np.flatnonzero(reviewed)
    before = labels_before_review[rows]
    was_error = (before != labels[rows]).astype(np.int64)
    predicted = _most_likely_other(before, pred_probs[rows])
    direction, per_class = get_direction_error_rates(before, predicted, was_error, n_classes=pred_probs.shape[1])
    features = get_review_features(labels, pred_probs, neighbours=neighbours, neighbour_labels=labels,
                                   direction_rate=direction, class_rate=per_class)
    then = get_review_features(before, pred_probs[rows], neighbours=_subset(neighbours, rows),
                               neighbour_labels=labels, direction_rate=direction, class_rate=per_class)
    return learn_error_scores(features, ReviewHistory(then, before, predicted, was_error),
                              min_reviews=min_reviews, min_each=min_each)


def _subset(neighbours: TextNeighbours, rows: np.ndarray) -> TextNeighbours:
    return TextNeighbours(index=neighbours.index[rows], similarity=neighbours.similarity[rows])


def _leave_one_out(given, predicted, was_error, n_classes: int, *, per_class_only: bool = False,
                   strength: float = 2.0) -> np.ndarray:
    """Each reviewed row's direction (or class) error rate without its own outcome."""
    key = given if per_class_only else given * n_classes + predicted
    size = n_classes if per_class_only else n_classes * n_classes
    errors = np.bincount(key, weights=was_error, minlength=size)
    rows = np.bincount(key, minlength=size).astype(float)
    total = len(was_error)
    base = (was_error.sum() - was_error) / max(total - 1, 1)
    return (errors[key] - was_error + strength * base) / (rows[key] - 1 + strength)
