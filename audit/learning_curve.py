"""Learning curves: each backend trained on growing, nested, stratified shares of the training
split (same seed for every backend and share), scored on the test split with 95% intervals.

Answers "too little data?": a curve still rising at 100% says more labelled data would help;
a bigger model that reaches the bar at a smaller share needs less data.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from labelcore.data.schema import TextDataset
from labelcore.errors import ConfigError, DataError
from audit.intervals import scores_with_intervals
from finetune.backends.base import BackendConfig

#: Columns of ``learning_curve.csv`` (docs/formats.md).
COLUMNS = ("backend", "spec", "fraction", "n_train", "n_test", "accuracy", "accuracy_low", "accuracy_high",
           "macro_f1", "macro_f1_low", "macro_f1_high", "n_parameters", "seconds", "seed")


def parse_fractions(text: str | Sequence[float]) -> list[float]:
    """'0.1,0.25,0.5,1' -> [0.1, 0.25, 0.5, 1.0] (sorted, unique); each in (0, 1]."""
    try:
        values = [float(x) for x in (text.split(",") if isinstance(text, str) else text) if str(x).strip()]
    except ValueError:
        raise ConfigError(f"fractions must be numbers separated by commas, got {text!r}") from None
    if not values:
        raise ConfigError("give at least one fraction")
    bad = [v for v in values if not 0 < v <= 1]
    if bad:
        raise ConfigError(f"fractions must be in (0, 1], got {bad}")
    return sorted(set(values))


def stratified_nested_subsets(labels: np.ndarray, fractions: Sequence[float], *, seed: int) -> list[np.ndarray]:
    """Row indices for each fraction: per class, the first ``ceil(f x n_class)`` rows of one
    seeded permutation - so every share keeps the class proportions (each class at least one
    row) and contains the smaller shares."""
    rng = np.random.default_rng(seed)
    by_class = [rng.permutation(np.flatnonzero(labels == k)) for k in np.unique(labels)]
    return [np.sort(np.concatenate([rows[: max(1, math.ceil(f * len(rows)))] for rows in by_class]))
            for f in fractions]


def learning_curve(
    train: TextDataset,
    test: TextDataset,
    backends: Sequence[BackendConfig],
    *,
    fractions: Sequence[float] = (0.1, 0.25, 0.5, 1.0),
    seed: int = 0,
    names: Sequence[str] | None = None,
    confidence: float = 0.95,
    cache_dir: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> pd.DataFrame:
    """One row per (backend, fraction) with the columns of :data:`COLUMNS`.

    Every backend is trained on the same nested stratified subsets of ``train``
    (:func:`stratified_nested_subsets`, ``seed``) and scored on all of ``test``; accuracy gets a
    Wilson interval, macro-F1 a bootstrap interval (:func:`audit.intervals.scores_with_intervals`).
    """
    from finetune.holdout import fit_and_predict

    fractions = parse_fractions(fractions)
    if not backends:
        raise ConfigError("give at least one backend")
    if tuple(test.classes) != tuple(train.classes):
        raise DataError("the test split's classes differ from the training split's", path=test.source)
    names = list(names) if names is not None else [b.backend for b in backends]
    subsets = stratified_nested_subsets(train.labels, fractions, seed=seed)
    total, done, rows = len(backends) * len(fractions), 0, []
    for name, config in zip(names, backends):
        for fraction, idx in zip(fractions, subsets):
            if progress:
                progress(done, total, f"{name}: {fraction:g} of the training data ({len(idx):,} rows)")
            result = fit_and_predict(
                config, [train.texts[i] for i in idx], train.label_names[idx], classes=train.classes,
                eval_texts=test.texts, cache_dir=cache_dir,
            )
            s = scores_with_intervals(test.labels, result.pred_probs.argmax(1), n_classes=len(train.classes),
                                      confidence=confidence, seed=seed)
            rows.append({
                "backend": name, "spec": config.fingerprint(), "fraction": fraction, "n_train": len(idx),
                "n_test": len(test), "accuracy": s["accuracy"], "accuracy_low": s["accuracy_ci"][0],
                "accuracy_high": s["accuracy_ci"][1], "macro_f1": s["macro_f1"],
                "macro_f1_low": s["macro_f1_ci"][0], "macro_f1_high": s["macro_f1_ci"][1],
                "n_parameters": int(getattr(result.model, "n_parameters_", 0) or 0) or None,
                "seconds": result.fit_seconds, "seed": seed,
            })
            done += 1
    if progress:
        progress(total, total, "done")
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_learning_curve(curve: pd.DataFrame, out_dir: str | Path, *, bar: float | None = None) -> dict[str, Path]:
    """``learning_curve.csv`` and ``learning_curve.png`` in ``out_dir`` (each written atomically)."""
    from labelcore.io import write_csv
    from audit.report.figures import learning_curve_figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return {"csv": write_csv(curve, out / "learning_curve.csv"),
            "figure": learning_curve_figure(curve, out / "learning_curve.png", bar=bar)}


def read_learning_curve(path: str | Path) -> pd.DataFrame:
    """``learning_curve.csv`` from a folder (or the file itself); DataError when malformed."""
    path = Path(path)
    file = path / "learning_curve.csv" if path.is_dir() else path
    if not file.is_file():
        raise DataError("no learning_curve.csv (run audit learning-curve --out DIR first)", path=file)
    try:
        curve = pd.read_csv(file)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read CSV: {exc}", path=file) from None
    missing = [c for c in ("backend", "fraction", "n_train", "accuracy") if c not in curve]
    if missing:
        raise DataError(f"missing column(s) {missing}", path=file)
    return curve
