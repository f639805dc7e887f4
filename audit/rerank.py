"""Active re-ranking: review in batches and re-score what is left with the corrected labels.

After each batch of decisions, the fast tier is retrained out-of-fold on the labels as the
reviewers left them (relabels applied, kept rows confirmed) and the rows not reviewed yet are
ranked again - by the error probability learnt from the decisions so far
(:mod:`audit.review_learning`), or by label quality; the next batch is the new top (as
ActiveAED, Weber & Plank, Findings of ACL 2023, does for annotation-error detection). Folds
come from the content-addressed out-of-fold cache: a batch that changed no label reuses every
fold.

:func:`run_rerank_benchmark` measures it with the simulated reviewer on planted noise: the
number of reviews needed to find a share (90%) of the planted errors, static ranking (one
scoring, reviewed top-down) against re-ranking after every batch.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np

from audit.review_learning import (
    ReviewHistory, TextNeighbours, describe_rows, find_text_neighbours, get_learned_error_scores, learn_error_scores,
)
from finetune.backends.base import BackendConfig
from finetune.oof import Progress, cross_val_predict_proba
from labelcore.data.schema import DatasetBundle, TextDataset
from labelcore.errors import ConfigError

RERANK_FILE = "rerank.json"


def label_quality(labels: np.ndarray, pred_probs: np.ndarray) -> np.ndarray:
    """(N,) cleanlab label quality (normalized margin) in [0, 1], lower = more likely wrong."""
    from cleanlab.rank import get_label_quality_scores

    return get_label_quality_scores(labels, pred_probs, method="normalized_margin")


def reviews_to_find(order: np.ndarray, is_error: np.ndarray, *, share: float = 0.9) -> int | None:
    """Reviews, in ``order`` (row indices, first reviewed first), until ``share`` of the rows
    with ``is_error`` are found; None if the order never gets there."""
    is_error = np.asarray(is_error, dtype=bool)
    needed = math.ceil(share * int(is_error.sum()))
    if needed == 0:
        return 0
    found = np.cumsum(is_error[np.asarray(order)])
    hit = np.flatnonzero(found >= needed)
    return int(hit[0]) + 1 if len(hit) else None


def rerank_review(
    dataset: TextDataset,
    scorer: Callable[[np.ndarray], tuple[np.ndarray, dict]],
    review: Callable[[np.ndarray], np.ndarray],
    *,
    batch_size: int,
    stop: Callable[[np.ndarray, np.ndarray], bool],
    max_reviews: int | None = None,
    neighbours: TextNeighbours | None = None,
) -> dict:
    """Review in batches, re-scoring the rest after each one.

    scorer(labels) -> (pred_probs (N, K), info): out-of-fold probabilities given the labels.
    review(rows) -> the labels the reviewer gives those rows (the current label when kept).
    stop(reviewed (N,) bool, labels (N,)) -> True when done.
    neighbours : given, the rest is ranked by the error probability learnt from the batches
    reviewed so far, each row described as it was when picked
    (:func:`audit.review_learning.learn_error_scores`), once there are enough; without, and
    until then, by label quality.

    Returns ``order`` (rows in the order reviewed), ``labels`` (after review) and ``rounds``
    (per batch: ``n_reviewed``, ``n_relabelled``, scorer ``info``, ``seconds``).
    """
    if batch_size < 1:
        raise ConfigError(f"the batch size must be at least 1, got {batch_size}")
    labels = dataset.labels.copy()
    reviewed = np.zeros(len(labels), dtype=bool)
    history = ReviewHistory.empty()
    order: list[int] = []
    rounds = []
    limit = len(labels) if max_reviews is None else min(max_reviews, len(labels))
    while not stop(reviewed, labels) and len(order) < limit:
        start = time.perf_counter()
        pred_probs, info = scorer(labels)
        quality, info["ranking"] = label_quality(labels, pred_probs), "label_quality"
        if neighbours is not None:
            features, predicted = describe_rows(labels, pred_probs, neighbours=neighbours, history=history)
            learned = learn_error_scores(features, history)
            if learned is not None:
                quality, info["ranking"] = 1.0 - learned, "learned"
        remaining = np.flatnonzero(~reviewed)
        batch = remaining[np.argsort(quality[remaining], kind="stable")][: min(batch_size, limit - len(order))]
        decided = np.asarray(review(batch))
        changed = decided != labels[batch]
        if neighbours is not None:  # what the batch looked like when picked, and what the reviewer found
            history = history.add(features[batch], labels[batch], predicted[batch], changed)
        labels[batch] = decided
        reviewed[batch] = True
        order.extend(int(i) for i in batch)
        rounds.append({"n_reviewed": len(order), "n_relabelled": int(changed.sum()), "info": info,
                       "seconds": time.perf_counter() - start})
    return {"order": np.asarray(order, dtype=np.int64), "labels": labels, "rounds": rounds}


def oof_scorer(
    dataset: TextDataset, config: BackendConfig, *, n_folds: int = 5, seed: int = 0,
    cache_dir: str | None = None, n_jobs: int = 1, progress: Progress | None = None,
) -> Callable[[np.ndarray], tuple[np.ndarray, dict]]:
    """A scorer for :func:`rerank_review`: the backend retrained out-of-fold on the current
    labels (cached per fold); its ``pred_probs (N, K)``."""
    def score(labels: np.ndarray) -> tuple[np.ndarray, dict]:
        result = cross_val_predict_proba(config, dataset.with_labels(labels), n_folds=n_folds, seed=seed,
                                         cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)
        return result.pred_probs, {"folds_cached": int(result.cached.sum()),
                                   "fit_seconds": float(result.fit_seconds.sum())}
    return score


def run_rerank_benchmark(
    bundle: DatasetBundle,
    config: BackendConfig,
    *,
    batch_size: int,
    kind: str = "near",
    rate: float = 0.05,
    seed: int = 42,
    share: float = 0.9,
    n_folds: int = 5,
    cache_dir: str | None = None,
    n_jobs: int = 1,
    progress: Progress | None = None,
    learn: bool = True,
) -> dict:
    """Reviews needed to find ``share`` of the planted errors: static vs re-ranked in batches.

    Noise is planted as ``audit benchmark`` does (``near``: each class's flips go to its most
    confused other class). The simulated reviewer restores the planted label of every row it
    reviews. Static: one out-of-fold scoring of the noisy labels, reviewed worst first.
    Re-ranked: the same first batch, then after every batch of ``batch_size`` the backend is
    retrained out-of-fold on the corrected labels and the rest is ranked again - with ``learn``,
    by the error probability learnt from the decisions so far (:mod:`audit.review_learning`),
    else by label quality.
    """
    from audit.benchmark import clean_train, make_noisy
    from audit.noise import confusion_from_pred_probs

    if not 0 < share <= 1:
        raise ConfigError(f"share must be in (0, 1], got {share}")
    start = time.perf_counter()
    confusion = None
    if kind == "near":
        clean = clean_train(bundle)
        oof = cross_val_predict_proba(config, clean, n_folds=n_folds, seed=seed, cache_dir=cache_dir,
                                      n_jobs=n_jobs, progress=progress)
        confusion = confusion_from_pred_probs(clean.labels, oof.pred_probs)
    noisy = make_noisy(bundle, kind=kind, rate=rate, seed=seed, confusion=confusion)
    train, truth, flipped = noisy.bundle.train, noisy.true_labels, noisy.flipped
    scorer = oof_scorer(train, config, n_folds=n_folds, seed=seed, cache_dir=cache_dir, n_jobs=n_jobs,
                        progress=progress)
    static_probs, static_info = scorer(train.labels)
    static_quality = label_quality(train.labels, static_probs)
    static_order = np.argsort(static_quality, kind="stable")
    static = reviews_to_find(static_order, flipped, share=share)
    needed = math.ceil(share * int(flipped.sum()))

    def stop(reviewed: np.ndarray, labels: np.ndarray) -> bool:
        return int((reviewed & flipped).sum()) >= needed

    first = {"done": False}

    def cached_first(labels: np.ndarray):  # the first batch is the static top: no second scoring
        if not first["done"]:
            first["done"] = True
            return static_probs, dict(static_info)
        return scorer(labels)

    loop = rerank_review(train, cached_first, lambda rows: truth[rows], batch_size=batch_size, stop=stop,
                         max_reviews=static, neighbours=find_text_neighbours(train.texts) if learn else None)
    reranked = reviews_to_find(loop["order"], flipped, share=share)
    return {
        "data": bundle.spec,
        "noise": kind,
        "rate": rate,
        "seed": seed,
        "backend": config.to_dict(),
        "n_examples": len(train),
        "n_flipped": int(flipped.sum()),
        "share": share,
        "n_to_find": needed,
        "batch_size": batch_size,
        "ranking": "learned from the decisions" if learn else "label quality",
        "reviewer": "oracle (simulation): restores the planted label of each reviewed row",
        "static_reviews": static,
        "reranked_reviews": reranked,
        "reduction": (1 - reranked / static) if static and reranked else None,
        "rounds": [{k: v for k, v in r.items()} | {"n_found": int(flipped[loop["order"][:r["n_reviewed"]]].sum())}
                   for r in loop["rounds"]],
        "wall_seconds": time.perf_counter() - start,
    }


def corrected_labels(dataset: TextDataset, decisions) -> tuple[np.ndarray, np.ndarray]:
    """The labels after the example decisions of a decision log, and which rows were reviewed.

    decisions : the log (``example_id, decision, new_label``; the last row of an id counts).
    ``relabel`` gives ``new_label``; ``keep``, ``drop`` and ``merge`` leave the label (a drop
    or merge is for ``audit apply``; here the row only counts as reviewed). Pair decisions and
    ids of other splits are ignored. Returns (labels (N,), reviewed (N,) bool).
    """
    from labelcore.errors import DataError

    for column in ("example_id", "decision", "new_label"):
        if column not in decisions.columns:
            raise DataError(f"the decision log has no {column!r} column", column=column)
    index = {c: k for k, c in enumerate(dataset.classes)}
    position = {e: i for i, e in enumerate(dataset.example_ids)}
    labels = dataset.labels.copy()
    reviewed = np.zeros(len(labels), dtype=bool)
    last = decisions.drop_duplicates("example_id", keep="last")
    for row, (eid, decision, new) in enumerate(zip(last["example_id"].astype(str), last["decision"].astype(str),
                                                   last["new_label"].fillna("").astype(str))):
        i = position.get(eid)
        if i is None:
            continue
        reviewed[i] = True
        if decision == "relabel":
            if new not in index:
                raise DataError(f"new_label {new!r} is not a class", row=row, column="new_label")
            labels[i] = index[new]
    return labels, reviewed


def rerank_after_review(dataset: TextDataset, decisions, backends, *, learn: bool = True, **find_options):
    """Re-score the rows not reviewed yet with the labels as the reviewers left them.

    Runs ``find_issues`` (``find_options``: n_folds, seed, cache_dir, ...) on the corrected
    labels; reviewed rows are never flagged again (``is_label_issue`` False, no bucket), so the
    flagged rows are the new top for the next batch. With ``learn``, once the decisions hold
    enough of both outcomes, each row not reviewed gets ``review_error_probability``: the
    probability that its label is wrong, learnt from the decisions
    (:func:`audit.review_learning.get_learned_error_scores` on the ensemble's probabilities);
    the export orders each bucket by it. Returns the :class:`FindIssuesResult` and how many
    rows had been reviewed.
    """
    from audit.pipeline import find_issues

    labels, reviewed = corrected_labels(dataset, decisions)
    result = find_issues(dataset.with_labels(labels), backends, **find_options)
    done = set(np.asarray(dataset.example_ids, dtype=object)[reviewed])
    was = result.issues["example_id"].isin(done).to_numpy()
    result.issues.loc[was, "is_label_issue"] = False
    if "bucket" in result.issues:
        result.issues.loc[was, "bucket"] = ""
    if learn and reviewed.any():
        learned = get_learned_error_scores(labels, result.ensemble_pred_probs, reviewed=reviewed,
                                           labels_before_review=dataset.labels,
                                           neighbours=find_text_neighbours(dataset.texts))
        if learned is not None:
            by_id = dict(zip(dataset.example_ids, learned))
            result.issues["review_error_probability"] = [
                np.nan if seen else by_id[e] for e, seen in zip(result.issues["example_id"], was)]
    result.summary.n_label_issues = int(result.issues["is_label_issue"].sum())
    return result, int(reviewed.sum())
