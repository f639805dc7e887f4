"""The chunked path of :func:`audit.aggregation.find_label_issues_ensemble`, for more rows
than fit in memory (find-issues takes it by itself for large data).

Inputs are each model's ``pred_probs`` as ``.npy`` files (read as memory maps, a chunk of rows
at a time, the map closed after each chunk so that resident memory stays at one chunk) or as
arrays. Memory is ``O(chunk_rows * K * M)`` for the chunks plus ``O(N * M)`` for the per-row
outputs, and the ensemble, returned as a memory map when ``ensemble_path`` is given.

- Ensemble weights: equal (the default, as in memory), or fitted by log loss: the
  given-label probabilities ``(N, M)`` are gathered in one pass, then
  :func:`audit.ensemble.get_ensemble_weights` fits them exactly as in memory.
- Quality scores: per model, cleanlab's :class:`LabelInspector` (the engine of
  ``find_label_issues_batched``) with the ``normalized_margin`` score. For the ensemble, the
  noise-aware posterior of :mod:`audit.aggregation` (default): cleanlab's confident joint is
  summed over chunks with the inspector's class thresholds (``compute_confident_joint(...,
  thresholds=..., calibrate=False)``), calibrated once, and applied chunk by chunk. Scores equal
  the in-memory ones.
- Flags: the lowest scores, as many as cleanlab's batched estimate
  (``LabelInspector.get_num_issues``), which differs a little from the in-memory count
  (see docs/benchmarks.md, "Aggregation at scale").
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from audit.ensemble import get_ensemble_weights
from labelcore.errors import DataError
from audit.aggregation import NOISE_FLOOR, apply_noise_transition, get_noise_transition

Source = str | Path | np.ndarray


def _shape(source: Source) -> tuple[int, int]:
    if isinstance(source, np.ndarray):
        return source.shape
    return np.load(source, mmap_mode="r").shape


def read_rows(source: Source, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of an array or ``.npy`` file, as an in-memory float64 array."""
    if isinstance(source, np.ndarray):
        return np.asarray(source[start:stop], dtype=np.float64)
    mm = np.load(source, mmap_mode="r")
    out = np.array(mm[start:stop], dtype=np.float64)
    del mm  # unmapped now: the pages read leave this process's resident set
    return out


def iter_chunks(sources: Sequence[Source], *, chunk_rows: int) -> Iterator[tuple[slice, list[np.ndarray]]]:
    """Yield ``(rows, [chunk of each source])`` over the common rows of ``sources``."""
    shapes = {_shape(s) for s in sources}
    if len(shapes) != 1:
        raise DataError(f"pred_probs shapes differ: {sorted(shapes)}")
    (n, _), = shapes
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        yield slice(start, stop), [read_rows(s, start, stop) for s in sources]


class NpyWriter:
    """Write an ``(N, K)`` ``.npy`` file chunk by chunk with plain writes (no memory map)."""

    def __init__(self, path: str | Path, shape: tuple[int, int], dtype=np.float32) -> None:
        self.path, self.dtype, self.shape = Path(path), np.dtype(dtype), shape
        self._tmp = self.path.with_suffix(".npy.tmp")
        self._f = open(self._tmp, "wb")
        np.lib.format.write_array_header_1_0(
            self._f, {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": shape}
        )
        self._rows = 0

    def write(self, chunk: np.ndarray) -> None:
        self._f.write(np.ascontiguousarray(chunk, dtype=self.dtype).tobytes())
        self._rows += len(chunk)

    def close(self) -> Path:
        self._f.close()
        if self._rows != self.shape[0]:
            raise DataError(f"wrote {self._rows} rows, expected {self.shape[0]}", path=self.path)
        os.replace(self._tmp, self.path)
        return self.path


def _weights_from_given(given: np.ndarray) -> np.ndarray:
    """(M,) the weights of :func:`audit.ensemble.get_ensemble_weights` from the given-label
    probabilities ``(N, M)`` alone (the log loss of the average depends on nothing else):
    the same optimiser on ``(N, 1)`` columns with label 0."""
    return get_ensemble_weights(np.zeros(len(given), dtype=np.int64), [given[:, [j]] for j in range(given.shape[1])])


def _inspector(k: int):
    from cleanlab.experimental.label_issues_batched import LabelInspector

    return LabelInspector(num_class=k, store_results=False, verbose=False, n_jobs=1,
                          quality_score_kwargs={"method": "normalized_margin"})


def _flags(inspector, scores: np.ndarray, predicted_given: np.ndarray) -> np.ndarray:
    """cleanlab's batched flags: the ``get_num_issues()`` lowest scores, minus rows whose
    prediction is the given label (as ``find_label_issues_batched`` does)."""
    from cleanlab.rank import find_top_issues

    mask = np.zeros(len(scores), dtype=bool)
    mask[find_top_issues(scores, top=inspector.get_num_issues(silent=True))] = True
    return mask & ~predicted_given


def _argmax_given_wins_ties(p: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Argmax where the given label wins near-ties (cleanlab's ``_reduce_issues`` rule)."""
    from cleanlab.internal.constants import FLOATING_POINT_COMPARISON

    q = p.copy()
    q[np.arange(len(labels)), labels] += FLOATING_POINT_COMPARISON
    return q.argmax(1)


def aggregate_label_issues_chunked(
    labels: np.ndarray,
    sources: Sequence[Source],
    *,
    model_names: Sequence[str],
    ensemble_path: str | Path | None = None,
    chunk_rows: int = 32768,
    weights: str = "equal",
    noise_aware: bool = True,
    floor: float = NOISE_FLOOR,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """:func:`audit.aggregation.find_label_issues_ensemble` in chunks: the same table, ensemble
    and weights (``filter_by="rank"``; the count of flags is cleanlab's batched estimate).

    Parameters
    ----------
    labels : (N,) int codes. sources : M ``.npy`` paths or arrays (N, K), out-of-fold.
    ensemble_path : where to write the ensemble (float32 ``.npy``); the ensemble returned is then
        a read-only memory map of it. None: a temporary file, read back into memory (float32).
    """
    labels = np.asarray(labels, dtype=np.int64)
    n, k = _shape(sources[0])
    m = len(sources)
    if len(labels) != n:
        raise DataError(f"{len(labels)} labels for {n} rows of pred_probs")
    model_insp = [_inspector(k) for _ in range(m)]
    given = np.empty((n, m))
    preds = np.empty((n, m), dtype=np.int32)
    for rows, chunks in iter_chunks(sources, chunk_rows=chunk_rows):  # pass 1: models
        y, idx = labels[rows], np.arange(rows.stop - rows.start)
        for j, p in enumerate(chunks):
            given[rows, j] = p[idx, y]
            preds[rows, j] = p.argmax(1)
            model_insp[j].update_confident_thresholds(y, p)
    if weights == "equal":
        weights = np.full(m, 1 / m)
    elif weights == "log_loss":
        weights = _weights_from_given(given)
    else:
        raise ValueError(f"weights must be 'equal' or 'log_loss', got {weights!r}")
    del given

    keep = ensemble_path is not None
    if keep:
        path = Path(ensemble_path)
    else:
        fd, tmp = tempfile.mkstemp(suffix=".npy", prefix="ensemble-")
        os.close(fd)
        path = Path(tmp)
    writer = NpyWriter(path, (n, k))
    ens_insp = _inspector(k)
    model_quality = np.empty((n, m))
    model_tie = np.empty((n, m), dtype=bool)
    for rows, chunks in iter_chunks(sources, chunk_rows=chunk_rows):  # pass 2: models -> ensemble
        y = labels[rows]
        ens = np.tensordot(weights, np.stack(chunks), axes=1).astype(np.float32)
        writer.write(ens)
        ens_insp.update_confident_thresholds(y, ens)
        for j, p in enumerate(chunks):
            model_quality[rows, j] = model_insp[j].score_label_quality(y, p)
            model_tie[rows, j] = _argmax_given_wins_ties(p, y) == y
    writer.close()

    from cleanlab.count import calibrate_confident_joint, compute_confident_joint
    from cleanlab.rank import get_label_quality_scores

    label_quality = np.empty(n)
    argmax = np.empty(n, dtype=np.int32)
    best_other = np.empty(n, dtype=np.int32)
    ens_tie = np.empty(n, dtype=bool)
    thresholds = ens_insp.get_confident_thresholds()
    joint = np.zeros((k, k), dtype=np.int64)
    try:
        for rows, (ens,) in iter_chunks([path], chunk_rows=chunk_rows):  # pass 3: ensemble
            y = labels[rows]
            label_quality[rows] = ens_insp.score_label_quality(y, ens)  # also counts issues
            argmax[rows] = ens.argmax(1)
            other = ens.copy()
            other[np.arange(len(y)), y] = -1
            best_other[rows] = other.argmax(1)
            ens_tie[rows] = _argmax_given_wins_ties(ens, y) == y
            if noise_aware:
                joint += compute_confident_joint(y, ens, thresholds=thresholds, calibrate=False)
        if noise_aware:  # pass 4: the noise-aware posterior, as in memory
            transition = get_noise_transition(calibrate_confident_joint(joint, labels), floor=floor)
            for rows, (ens,) in iter_chunks([path], chunk_rows=chunk_rows):
                y = labels[rows]
                post = apply_noise_transition(y, ens.astype(np.float64), transition)
                label_quality[rows] = get_label_quality_scores(y, post, method="normalized_margin")
        ens = np.load(path, mmap_mode="r") if keep else np.load(path)
    finally:
        if not keep:
            path.unlink(missing_ok=True)
    is_issue = _flags(ens_insp, label_quality, ens_tie)
    table = pd.DataFrame({"label_quality": label_quality, "is_label_issue": is_issue,
                          "suggested": np.where(is_issue, best_other, argmax)})
    for j, name in enumerate(model_names):
        table[f"pred__{name}"] = preds[:, j]
        table[f"quality__{name}"] = model_quality[:, j]
        table[f"flag__{name}"] = _flags(model_insp[j], model_quality[:, j], model_tie[:, j])
    table["n_models_disagree"] = (preds != labels[:, None]).sum(1)
    table["n_models"] = m
    return table, ens, weights
