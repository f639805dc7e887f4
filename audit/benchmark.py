"""``audit benchmark``: plant label noise with a seed, run the detectors, score them against
the truth, side by side with plain cleanlab on the same out-of-fold predictions.

Plain cleanlab = ``cleanlab.filter.find_label_issues`` (defaults) and
``cleanlab.rank.get_label_quality_scores`` (defaults) on ONE model's out-of-fold
``pred_probs`` - the first backend (TF-IDF by default) - as a user would run it.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import pandas as pd

from labelcore.data.schema import DatasetBundle, TextDataset
from labelcore.errors import ConfigError
from audit.pipeline import FindIssuesResult, find_issues
from audit.noise import confusion_from_pred_probs, plant_noise
from finetune.backends.base import BackendConfig
from finetune.executors import Executor
from finetune.oof import Progress, cross_val_predict_proba

from audit.options import NOISE_KINDS  # noqa: E402 - declared once


@dataclasses.dataclass
class NoisyData:
    """A dataset with planted noise. ``true_labels`` / ``flipped``: (N,)."""

    bundle: DatasetBundle
    true_labels: np.ndarray
    flipped: np.ndarray
    pairs: list[tuple[str, str]]


def get_detection_metrics(flipped: np.ndarray, *, flags: np.ndarray, quality: np.ndarray) -> dict:
    """Precision, recall, F1 of ``flags (N,)`` and AUPRC of ``1 - quality (N,)`` vs ``flipped``."""
    from sklearn.metrics import average_precision_score, precision_recall_fscore_support

    p, r, f, _ = precision_recall_fscore_support(flipped, flags, average="binary", zero_division=0)
    return {
        "n_flagged": int(flags.sum()),
        "precision": float(p),
        "recall": float(r),
        "f1": float(f),
        "auprc": float(average_precision_score(flipped, -np.asarray(quality))),
    }


def get_single_model_loss_metrics(flipped: np.ndarray, *, labels: np.ndarray,
                                  pred_probs_by_model: dict[str, np.ndarray]) -> dict[str, dict]:
    """Each model on its own, ``{"loss of NAME": metrics}``: its out-of-fold loss
    ``-log p(given label)`` as the ranking (Chong et al., EMNLP 2022), its own disagreement
    (predicted class != given label) as the flags. ``flipped``, ``labels``: (N,); each
    ``pred_probs``: (N, K)."""
    labels = np.asarray(labels)
    rows = np.arange(len(labels))
    return {f"loss of {name}": get_detection_metrics(flipped, flags=p.argmax(1) != labels, quality=p[rows, labels])
            for name, p in pred_probs_by_model.items()}


def clean_train(bundle: DatasetBundle) -> TextDataset:
    """The train split with its true labels when it carries a ``true_label`` column."""
    train = bundle.train
    if "true_label" not in train.extra:
        return train
    index = {c: k for k, c in enumerate(bundle.classes)}
    return train.with_labels(np.array([index[t] for t in train.extra["true_label"]]))


def make_noisy(
    bundle: DatasetBundle,
    *,
    kind: str,
    rate: float,
    seed: int,
    confusion: np.ndarray | None = None,
    pairs: Sequence[tuple[str, str]] = (),
    n_pairs: int = 3,
) -> NoisyData:
    """Plant noise in the train split (the test split stays clean).

    If the train split carries a ``true_label`` column (the built-in demo does), noise is
    planted on top of the true labels, so that the truth is known exactly."""
    if kind not in NOISE_KINDS:
        raise ConfigError(f"--noise must be one of {NOISE_KINDS}, got {kind!r}")
    train = clean_train(bundle)
    index = {c: k for k, c in enumerate(bundle.classes)}
    code_pairs: list[tuple[int, int]] = []
    if kind == "pairs":
        if pairs:
            for a, b in pairs:
                if a not in index or b not in index:
                    raise ConfigError(f"--pair {a}:{b}: unknown label; labels are {list(bundle.classes)[:10]}...")
                code_pairs.append((index[a], index[b]))
        else:
            rng = np.random.default_rng(seed)
            chosen = rng.choice(len(bundle.classes), size=2 * n_pairs, replace=False)
            code_pairs = [(int(chosen[2 * i]), int(chosen[2 * i + 1])) for i in range(n_pairs)]
    noisy, flipped = plant_noise(
        train.labels, kind=kind, rate=rate, seed=seed, n_classes=len(bundle.classes),
        confusion=confusion, pairs=code_pairs,
    )
    new_train = train.with_labels(noisy)
    splits = {**bundle.splits, "train": new_train}
    named_pairs = [(bundle.classes[a], bundle.classes[b]) for a, b in code_pairs]
    spec = f"{bundle.spec} + {rate:.0%} {kind} noise (seed {seed})"
    return NoisyData(dataclasses.replace(bundle, splits=splits, spec=spec), train.labels.copy(), flipped, named_pairs)


def rank_of_pairs(pairs_table: pd.DataFrame, planted: Sequence[tuple[str, str]]) -> dict[str, int | None]:
    """1-based rank of each planted pair (either order) in the reported pairs, None if absent."""
    order = {frozenset((a, b)): i + 1 for i, (a, b) in enumerate(zip(pairs_table["label_a"], pairs_table["label_b"]))}
    return {f"{a} -> {b}": order.get(frozenset((a, b))) for a, b in planted}


def run_benchmark(
    bundle: DatasetBundle,
    backends: Sequence[BackendConfig],
    *,
    kind: str = "near",
    rate: float = 0.05,
    seed: int = 42,
    pairs: Sequence[tuple[str, str]] = (),
    n_folds: int = 5,
    cache_dir: str | None = None,
    n_jobs: int = 1,
    rounds: int = 2,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> tuple[dict, NoisyData, FindIssuesResult]:
    """Plant noise, run ``find_issues`` and plain cleanlab, and score both.

    For ``near`` noise, each class's flips go to its most confused other class, from the first
    backend's out-of-fold confusion on the clean labels."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    confusion = None
    if kind == "near":
        train = clean_train(bundle)
        clean = cross_val_predict_proba(backends[0], train, n_folds=n_folds, seed=seed,
                                        cache_dir=cache_dir, n_jobs=n_jobs, progress=progress,
                                        executor=executor)
        confusion = confusion_from_pred_probs(train.labels, clean.pred_probs)
    noisy = make_noisy(bundle, kind=kind, rate=rate, seed=seed, confusion=confusion, pairs=pairs)
    train: TextDataset = noisy.bundle.train
    result = find_issues(train, backends, n_folds=n_folds, seed=seed, cache_dir=cache_dir,
                         n_jobs=n_jobs, rounds=rounds, progress=progress,
                         data_spec=f"{bundle.spec} + {kind} noise", executor=executor)
    position = {eid: i for i, eid in enumerate(train.example_ids)}
    order = np.array([position[e] for e in result.issues["example_id"]])
    ours_quality = np.empty(len(train))
    ours_quality[order] = result.issues["label_quality"].to_numpy()
    ours_flags = np.zeros(len(train), dtype=bool)
    ours_flags[order] = result.issues["is_label_issue"].to_numpy()

    # plain cleanlab sees the same out-of-fold predictions as our first round
    first = next(iter(result.first_round_pred_probs))
    p0 = result.first_round_pred_probs[first]
    average = np.mean(list(result.first_round_pred_probs.values()), axis=0)
    rows = {
        "ours": get_detection_metrics(noisy.flipped, flags=ours_flags, quality=ours_quality),
        f"cleanlab on {first}": get_detection_metrics(
            noisy.flipped, flags=find_label_issues(train.labels, p0, verbose=False, n_jobs=1),
            quality=get_label_quality_scores(train.labels, p0)),
        "cleanlab on the averaged models (normalized margin)": get_detection_metrics(
            noisy.flipped, flags=find_label_issues(train.labels, average, verbose=False, n_jobs=1),
            quality=get_label_quality_scores(train.labels, average, method="normalized_margin")),
        **get_single_model_loss_metrics(noisy.flipped, labels=train.labels, pred_probs_by_model=result.first_round_pred_probs),
    }
    summary = {
        "data": bundle.spec,
        "noise": kind,
        "rate": rate,
        "seed": seed,
        "n_flipped": int(noisy.flipped.sum()),
        "n_examples": len(train),
        "backends": [c.to_dict() for c in backends],
        "models": list(result.first_round_pred_probs),
        "oof_accuracy_vs_truth": {n: float(np.mean(p.argmax(1) == noisy.true_labels)) for n, p in result.pred_probs.items()},
        "methods": rows,
        "planted_pairs": rank_of_pairs(result.pairs, noisy.pairs) if noisy.pairs else {},
        "rounds": rounds,
        "wall_seconds": result.summary.wall_seconds,
    }
    return summary, noisy, result
