"""Plant label noise with a seed, to measure how well detectors find it.

Kinds (all return ``noisy (N,)`` int codes and the boolean mask of flipped rows):
- ``uniform``: a flipped row gets any other class, uniformly.
- ``near``: a flipped row gets its class's most confusable other class (from a confusion
  matrix, e.g. out-of-fold predictions on the clean labels) - realistic, and hard.
- ``pairs``: systematic pairs: a share of class A relabelled B, for given (A, B) pairs.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def most_confused_targets(confusion: np.ndarray) -> np.ndarray:
    """(K,) for each true class, the other class it is most often predicted as.

    ``confusion (K, K)``: rows = given (true) class, columns = predicted class."""
    c = np.asarray(confusion, dtype=float).copy()
    np.fill_diagonal(c, -np.inf)
    return c.argmax(1)


def confusion_from_pred_probs(labels: np.ndarray, pred_probs: np.ndarray) -> np.ndarray:
    """(K, K) soft confusion: row k sums the predicted distributions of rows labelled k."""
    k = pred_probs.shape[1]
    out = np.zeros((k, k))
    np.add.at(out, labels, pred_probs)
    return out


def plant_noise(
    labels: np.ndarray,
    *,
    kind: str,
    rate: float = 0.05,
    seed: int = 0,
    n_classes: int | None = None,
    confusion: np.ndarray | None = None,
    pairs: Sequence[tuple[int, int]] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(noisy_labels (N,), flipped (N,) bool)``.

    ``rate`` is the share of all rows flipped (``uniform``, ``near``) or the share of each
    pair's source class relabelled (``pairs``). Flipped rows are chosen stratified by class
    so every class loses about the same share."""
    labels = np.asarray(labels, dtype=np.int64)
    k = int(n_classes or labels.max() + 1)
    rng = np.random.default_rng(seed)
    noisy = labels.copy()
    flipped = np.zeros(len(labels), dtype=bool)
    if kind == "pairs":
        if not pairs:
            raise ValueError("kind='pairs' needs pairs=[(a, b), ...]")
        for a, b in pairs:
            rows = np.flatnonzero(labels == a)
            take = rng.choice(rows, size=int(round(rate * len(rows))), replace=False)
            noisy[take] = b
            flipped[take] = True
        return noisy, flipped
    if kind not in ("uniform", "near"):
        raise ValueError(f"unknown noise kind {kind!r}; use uniform, near or pairs")
    if kind == "near":
        if confusion is None:
            raise ValueError("kind='near' needs a confusion matrix")
        targets = most_confused_targets(confusion)
    for c in range(k):
        rows = np.flatnonzero(labels == c)
        n = int(round(rate * len(rows)))
        if n == 0:
            continue
        take = rng.choice(rows, size=n, replace=False)
        if kind == "near":
            noisy[take] = targets[c]
        else:
            shift = rng.integers(1, k, size=n)
            noisy[take] = (c + shift) % k
        flipped[take] = True
    return noisy, flipped


def parse_pairs(specs: Sequence[str]) -> list[tuple[str, str]]:
    """``["A:B", ...]`` (the ``--pair`` option) -> ``[("A", "B"), ...]``."""
    from labelcore.errors import ConfigError

    pairs = []
    for spec in specs:
        a, sep, b = spec.partition(":")
        if not sep or not a or not b:
            raise ConfigError(f"--pair {spec!r}: use LABEL_A:LABEL_B")
        pairs.append((a, b))
    return pairs
