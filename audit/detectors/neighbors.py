"""Each row's nearest other rows in embedding space (cosine), computed once for every detector
of a run: ``outliers`` scores them (cleanlab, from the graph), ``duplicates`` reads its near
duplicates from them. One blockwise pass: memory is ``block * N`` floats, never ``N * N``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Neighbors:
    """indices : (N, k) each row's k nearest other rows, nearest first (ties: lower row first).
    similarities : (N, k) float32 their cosine similarities."""

    indices: np.ndarray
    similarities: np.ndarray

    @property
    def k(self) -> int:
        return self.indices.shape[1]

    def first(self, k: int) -> "Neighbors":
        """The ``k`` nearest of each row (``k`` <= :attr:`k`)."""
        return self if k == self.k else Neighbors(self.indices[:, :k], self.similarities[:, :k])


def normalize_rows(embeddings: np.ndarray) -> np.ndarray:
    """``(N, D)`` float32 rows of unit length (a zero row stays zero)."""
    e = np.asarray(embeddings, dtype=np.float32)
    return e / np.clip(np.linalg.norm(e, axis=1, keepdims=True), 1e-12, None)


def find_nearest_neighbors(embeddings: np.ndarray, *, k: int, block: int = 1024) -> Neighbors:
    """:class:`Neighbors` of ``embeddings (N, D)`` (rows re-normalised), ``k`` < N."""
    e = normalize_rows(embeddings)
    n = len(e)
    if not 0 < k < n:
        raise ValueError(f"k must be between 1 and N - 1 = {n - 1}, got {k}")
    indices = np.empty((n, k), dtype=np.int64)
    similarities = np.empty((n, k), dtype=np.float32)
    width = -(-n // _GROUP) * _GROUP
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        s = np.full((len(rows), width), -np.inf, dtype=np.float32)
        np.matmul(e[rows], e.T, out=s[:, :n])  # (B, N) similarities
        s[rows - start, rows] = -np.inf
        top = _top_k(s, k)
        sims = np.take_along_axis(s, top, 1)
        order = np.lexsort((top, -sims), axis=1)
        indices[rows] = np.take_along_axis(top, order, 1)
        similarities[rows] = np.take_along_axis(sims, order, 1)
    return Neighbors(indices, similarities)


#: Columns per group in :func:`_top_k`'s first pass.
_GROUP = 16


def _top_k(s: np.ndarray, k: int) -> np.ndarray:
    """``(B, k)`` column indices of each row's ``k`` largest entries of ``s (B, W)`` (``W`` a
    multiple of :data:`_GROUP`), unordered. A row's k largest lie in the k groups of
    :data:`_GROUP` columns with the largest maxima, so those groups are found first (a pass over
    W / 16 maxima) and the k largest are picked among their 16 k columns: exact, ~10x faster
    than a selection over every column."""
    b, w = s.shape
    if w // _GROUP <= k:
        return np.argpartition(s, w - k, axis=1)[:, w - k:]
    maxima = s.reshape(b, w // _GROUP, _GROUP).max(axis=2)
    groups = np.argpartition(maxima, maxima.shape[1] - k, axis=1)[:, -k:]  # (B, k)
    columns = (groups[:, :, None] * _GROUP + np.arange(_GROUP)).reshape(b, -1)  # (B, 16 k)
    picked = np.argpartition(np.take_along_axis(s, columns, 1), columns.shape[1] - k, axis=1)[:, -k:]
    return np.take_along_axis(columns, picked, 1)


def find_similar_pairs(embeddings: np.ndarray, rows: np.ndarray, *, threshold: float,
                       block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """``(pairs (P, 2), similarities (P,))``: every ``(i, j)``, ``i`` in ``rows`` and ``j != i``,
    with cosine similarity at least ``threshold``."""
    e = normalize_rows(embeddings)
    found, sims = [np.zeros((0, 2), dtype=np.int64)], [np.zeros(0, dtype=np.float32)]
    for start in range(0, len(rows), block):
        chunk = np.asarray(rows[start:start + block])
        s = e[chunk] @ e.T
        s[np.arange(len(chunk)), chunk] = -np.inf
        bi, j = np.nonzero(s >= threshold)
        found.append(np.stack([chunk[bi], j], 1))
        sims.append(s[bi, j])
    return np.concatenate(found), np.concatenate(sims)
