"""The out-of-fold engine: stratified K folds, a fresh backend per fold, every row predicted
exactly once, each fold cached by (data fingerprint, backend config, fold, seed, code version)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, fields, replace
from typing import Callable

import numpy as np

from labelcore import __version__
from labelcore.data.schema import TextDataset
from labelcore.errors import DataError, ModelError
from finetune.backends.base import BackendConfig
from finetune.backends.registry import make_backend
from finetune.cache import ArrayCache, cache_key

#: progress(done_folds, total_folds, message)
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class OOFResult:
    """Out-of-fold predictions of one backend.

    pred_probs : (N, K) columns in the dataset's canonical class order.
    folds : (N,) the fold each row was held out in.
    fit_seconds : (n_folds,) training + prediction time per fold (0 when cached).
    cached : (n_folds,) whether each fold came from the cache.
    """

    config: BackendConfig
    pred_probs: np.ndarray
    folds: np.ndarray
    fit_seconds: np.ndarray
    cached: np.ndarray
    n_parameters: int | None = None


def assign_folds(labels: np.ndarray, *, n_folds: int, seed: int, dataset: TextDataset | None = None) -> np.ndarray:
    """(N,) fold index per row from ``StratifiedKFold(n_folds, shuffle=True, random_state=seed)``.

    Raises ConfigError when ``n_folds < 2`` and DataError when the data cannot be split:
    one class only, fewer rows than folds, or a class with fewer examples than folds."""
    from sklearn.model_selection import StratifiedKFold

    from labelcore.data.validate import check_trainable
    from labelcore.options import check_folds

    check_folds(n_folds)
    labels = np.asarray(labels, dtype=np.int64)
    if dataset is None:
        k = int(labels.max()) + 1 if len(labels) else 0
        dataset = TextDataset([""] * len(labels), labels, tuple(str(i) for i in range(k)),
                              [str(i) for i in range(len(labels))], np.arange(len(labels)), "labels")
    check_trainable(dataset, n_folds=n_folds, labels=labels)
    counts = np.bincount(labels)
    present = np.flatnonzero(counts)
    small = [k for k in present if counts[k] < n_folds]
    if small:
        names = dataset.classes
        shown = ", ".join(
            f"{names[k]!r} ({counts[k]})" for k in small[:5]
        ) + (" ..." if len(small) > 5 else "")
        raise DataError(
            f"{len(small)} class(es) have fewer examples than the {n_folds} folds: {shown}; "
            "lower --folds, or add or merge examples",
            path=dataset.source,
            column=dataset.label_column,
        )
    folds = np.full(len(labels), -1, dtype=np.int64)
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for f, (_, test) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        folds[test] = f
    return folds


def _run_fold(config: BackendConfig, texts: list[str], names: np.ndarray, train: np.ndarray,
              test: np.ndarray, classes: tuple[str, ...], *, fold: int) -> tuple[int, np.ndarray, float, int]:
    """Train a fresh backend on ``train`` rows, predict ``test`` rows in canonical columns."""
    start = time.perf_counter()
    model = make_backend(config).fit([texts[i] for i in train], names[train])
    proba = np.asarray(model.predict_proba([texts[i] for i in test]), dtype=np.float64)
    index = {c: k for k, c in enumerate(classes)}
    full = np.zeros((len(test), len(classes)))
    try:
        full[:, [index[str(c)] for c in model.classes_]] = proba
    except KeyError as exc:
        raise ModelError(f"backend {config.backend!r} returned an unknown class {exc}") from None
    return fold, full, time.perf_counter() - start, int(getattr(model, "n_parameters_", 0) or 0)


def cross_val_predict_proba(
    config: BackendConfig,
    dataset: TextDataset,
    *,
    n_folds: int = 5,
    seed: int = 0,
    cache_dir: str | None = None,
    n_jobs: int = 1,
    train_mask: np.ndarray | None = None,
    progress: Progress | None = None,
) -> OOFResult:
    """Out-of-fold ``pred_probs (N, K)`` of one backend on ``dataset``.

    ``train_mask (N,)`` bool: only these rows are used for training (every row is still
    predicted); e.g. a second round that leaves out the rows a first round flagged.

    Each fold trains a fresh backend on the other folds. With ``cache_dir``, finished folds
    are stored and a rerun (after an interruption, or with more backends) reuses them.
    ``n_jobs > 1`` trains folds in parallel processes (worth it for the CPU backends).
    """
    labels = dataset.labels
    names = dataset.label_names
    folds = assign_folds(labels, n_folds=n_folds, seed=seed, dataset=dataset)
    if cache_dir and "cache_dir" in {f.name for f in fields(config)} and not getattr(config, "cache_dir"):
        config = replace(config, cache_dir=str(cache_dir))
    backend = make_backend(config)
    code_version = f"{__version__}/{type(backend).__name__}/{backend.code_version}"
    cache = ArrayCache(f"{cache_dir}/oof") if cache_dir else None
    mask_key = None
    if train_mask is not None:
        train_mask = np.asarray(train_mask, dtype=bool)
        mask_key = hashlib.sha256(np.packbits(train_mask).tobytes()).hexdigest()[:16]
    extra = {"train_mask": mask_key} if mask_key else {}
    keys = [
        cache_key(data=dataset.fingerprint, backend=config.fingerprint(), fold=f,
                  n_folds=n_folds, seed=seed, code=code_version, **extra)
        for f in range(n_folds)
    ]

    pred = np.full((len(labels), len(dataset.classes)), np.nan)
    seconds = np.zeros(n_folds)
    n_params = np.zeros(n_folds, dtype=np.int64)
    cached = np.zeros(n_folds, dtype=bool)
    todo = []
    for f in range(n_folds):
        test = np.flatnonzero(folds == f)
        expect = {"pred_probs": (len(test), len(dataset.classes)), "test_index": (len(test),), "seconds": ()}
        hit = cache.load(keys[f], expect=expect) if cache else None
        if hit is not None and not _usable_entry(hit, test):
            hit = None  # a wrong or damaged entry is a miss; the fold is recomputed and replaces it
        if hit is not None:
            pred[test] = hit["pred_probs"]
            seconds[f] = float(hit["seconds"])
            n_params[f] = int(hit.get("n_parameters", 0))
            cached[f] = True
        else:
            todo.append(f)
    done = n_folds - len(todo)
    if progress:
        progress(done, n_folds, f"{config.backend}: {done} fold(s) cached")
    if todo:
        backend.prepare(dataset.texts)  # label-free features for all rows, shared by folds

    def finish(f: int, proba: np.ndarray, secs: float, params: int) -> None:
        nonlocal done
        test = np.flatnonzero(folds == f)
        pred[test] = proba
        seconds[f] = secs
        n_params[f] = params
        if cache:
            cache.save(keys[f], {"pred_probs": proba, "test_index": test, "seconds": np.float64(secs),
                                 "n_parameters": np.int64(params)})
        done += 1
        if progress:
            progress(done, n_folds, f"{config.backend}: {done}/{n_folds} folds")

    usable = np.ones(len(labels), dtype=bool) if train_mask is None else train_mask
    jobs = [(f, np.flatnonzero((folds != f) & usable), np.flatnonzero(folds == f)) for f in todo]
    if n_jobs > 1 and len(jobs) > 1:
        from joblib import Parallel, delayed

        runner = Parallel(n_jobs=min(n_jobs, len(jobs)), return_as="generator_unordered")
        results = runner(
            delayed(_run_fold)(config, dataset.texts, names, tr, te, dataset.classes, fold=f)
            for f, tr, te in jobs
        )
        for result in results:
            finish(*result)
    else:
        for f, tr, te in jobs:
            finish(*_run_fold(config, dataset.texts, names, tr, te, dataset.classes, fold=f))

    check_oof(pred, folds, n_folds=n_folds, backend=config.backend)
    return OOFResult(config=config, pred_probs=pred, folds=folds, fit_seconds=seconds, cached=cached,
                     n_parameters=int(n_params.max()) or None)


def _usable_entry(hit: dict[str, np.ndarray], test: np.ndarray) -> bool:
    """A cached fold holds this fold's rows and finite probability rows."""
    proba = hit["pred_probs"]
    return (
        np.array_equal(hit["test_index"], test)
        and np.issubdtype(proba.dtype, np.floating)
        and bool(np.isfinite(proba).all())
        and bool(np.allclose(proba.sum(1), 1.0, atol=1e-4))
        and np.isfinite(float(hit["seconds"]))
        and np.asarray(hit.get("n_parameters", 0)).size == 1
    )


def check_oof(pred_probs: np.ndarray, folds: np.ndarray, *, n_folds: int, backend: str) -> None:
    """Every row predicted exactly once, by a fold that held it out; rows are distributions."""
    counts = np.bincount(folds, minlength=n_folds)
    if folds.min() < 0 or counts.sum() != len(folds):
        raise ModelError(f"{backend}: some rows were not assigned to exactly one fold")
    if np.isnan(pred_probs).any():
        raise ModelError(f"{backend}: {int(np.isnan(pred_probs).any(1).sum())} rows were never predicted")
    sums = pred_probs.sum(1)
    if not np.allclose(sums, 1.0, atol=1e-4) or (pred_probs < -1e-9).any():
        raise ModelError(f"{backend}: predict_proba rows are not probability distributions")
