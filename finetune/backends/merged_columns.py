"""Parallel columns of a sparse design matrix merged into one, for a linear model's L2-penalised
solve (:mod:`finetune.backends.softmax_lbfgs`), and its weights expanded back after.

Columns ``x_j = s_j u`` along one unit vector ``u`` (``s_j = ||x_j||``) meet the loss only through
``u (sum_j s_j w_j)^T``. At the optimum, and at every L-BFGS iterate from zero (whose steps combine
gradients, each ``w_j``'s being ``s_j`` times one vector), ``w_j = s_j / m * v`` for one ``v``, with
``m = sqrt(sum_j s_j^2)``. So the group can be solved as the one column ``m u`` with weights ``v``:
the same logits and the same penalty (``||v||^2 = sum_j ||w_j||^2``), an isometry, so the same
problem in fewer numbers. Two kinds of groups are found (BANKING77 folds: 34.8k used TF-IDF
columns -> 19.4k, 1.37M nonzeros -> 1.14M):

- the columns with a single nonzero in the same row (``u`` = that row's unit vector): words and
  n-grams seen in one text, 36% of the columns, ~4.5k merged columns;
- identical columns: the n-grams of a rare word, all seen in the same few texts with the same
  values (6.9k more columns). Found by a hash of each column's (row, value) pairs, then compared
  entry by entry, so a hash collision only leaves columns unmerged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Merging pays for its bookkeeping only when it removes at least this share of the columns.
MIN_SAVED_SHARE = 0.05


class MergedColumns:
    """``X (N, D)`` with its parallel columns merged: :attr:`matrix` ``(N, D')`` holds the
    columns of :attr:`keep` first, then one column per group.

    keep : (D - S,) original columns kept as they are.
    columns : (S,) original columns merged; slot : (S,) each one's group (0-based, after the kept
        columns); share : (S,) float32 ``s_j / m`` of its group.
    """

    def __init__(self, X: Any, keep: np.ndarray, columns: np.ndarray, slot: np.ndarray, share: np.ndarray,
                 groups: Any) -> None:
        import scipy.sparse as sp

        self.shape = X.shape
        self.keep, self.columns, self.slot, self.share = keep, columns, slot, share.astype(np.float32)
        self.n_groups = groups.shape[1]
        self.matrix = sp.hstack([X[:, keep], groups], format="csr", dtype=np.float32)

    def expand(self, weights: np.ndarray) -> np.ndarray:
        """``(D, K)`` weights of every original column from the merged problem's ``(D', K)``."""
        full = np.zeros((self.shape[1], weights.shape[1]), dtype=weights.dtype)
        full[self.keep] = weights[: len(self.keep)]
        full[self.columns] = self.share[:, None] * weights[len(self.keep) + self.slot]
        return full

    def project(self, weights: np.ndarray) -> np.ndarray:
        """The merged problem's ``(D', K)`` start nearest to original ``(D, K)`` weights (a warm
        start): ``v = sum_j s_j / m * w_j`` per group; exact for weights :meth:`expand` made."""
        weights = np.asarray(weights, dtype=np.float32)
        merged = np.zeros((self.n_groups, weights.shape[1]), dtype=np.float32)
        np.add.at(merged, self.slot, self.share[:, None] * weights[self.columns])
        return np.vstack([weights[self.keep], merged])


def merge_parallel_columns(X: Any, counts: np.ndarray | None = None) -> MergedColumns | None:
    """:class:`MergedColumns` of a canonical sparse CSR ``X`` whose columns all have a nonzero
    (``counts (D,)``: each column's number of nonzeros, computed when not given); None when
    ``X`` is dense or merging would remove fewer than :data:`MIN_SAVED_SHARE` of the columns."""
    import scipy.sparse as sp

    if not sp.issparse(X):
        return None
    n, d = X.shape
    if counts is None:
        counts = np.bincount(X.indices, minlength=d)
    single_cols, single_slot, single_share, single_block = _single_row_groups(X, counts == 1)
    C = X.tocsc()
    C.sort_indices()
    same_cols, same_slot, same_share, same_block = _identical_groups(C, np.flatnonzero(counts >= 2))
    n_merged = len(single_cols) + len(same_cols)
    n_groups = single_block.shape[1] + same_block.shape[1]
    if n_merged - n_groups < MIN_SAVED_SHARE * d:
        return None
    columns = np.concatenate([single_cols, same_cols])
    keep = np.setdiff1d(np.arange(d), columns, assume_unique=True)
    slot = np.concatenate([single_slot, same_slot + single_block.shape[1]])
    share = np.concatenate([single_share, same_share])
    return MergedColumns(X, keep, columns, slot, share, sp.hstack([single_block, same_block], format="csr"))


def _single_row_groups(X: Any, single: np.ndarray):
    """The columns with one nonzero, grouped by their row: ``(columns, slot, share, block (N, G))``."""
    import scipy.sparse as sp

    rows_of_nonzeros = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    in_single = single[X.indices]
    columns = X.indices[in_single]  # in row order
    values = X.data[in_single].astype(np.float64)
    rows, slot = np.unique(rows_of_nonzeros[in_single], return_inverse=True)
    norms = np.sqrt(np.bincount(slot, weights=values ** 2, minlength=len(rows)))
    block = sp.csr_matrix((norms.astype(np.float32), (rows, np.arange(len(rows)))), shape=(X.shape[0], len(rows)))
    return columns, slot, values / norms[slot], block


def _identical_groups(C: Any, candidates: np.ndarray):
    """The ``candidates`` columns of a CSC ``C`` with sorted indices (each with 2+ nonzeros) equal
    to another candidate, grouped: ``(columns, slot, share, block (N, G))``; a group of ``g``
    columns becomes ``sqrt(g) x``."""
    import scipy.sparse as sp

    d = len(candidates)
    if d < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), sp.csr_matrix((C.shape[0], 0))
    starts, lengths = C.indptr[candidates], C.indptr[candidates + 1] - C.indptr[candidates]
    where = np.repeat(starts, lengths) + _ranges(lengths)  # the candidates' nonzeros, column by column
    rows, values = C.indices[where], C.data[where]
    # a column's key: a 64-bit sum of its mixed (row, value) pairs, mixed with its length
    pairs = (rows.astype(np.uint64) << np.uint64(32)) | values.view(np.uint32).astype(np.uint64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    with np.errstate(over="ignore"):
        keys = _mix(np.add.reduceat(_mix(pairs), offsets) ^ lengths.astype(np.uint64))
    _, first, label = np.unique(keys, return_index=True, return_inverse=True)
    rep = first[label]  # (d,) the first candidate with this candidate's key
    # entry by entry against that one: a collision leaves the column on its own
    other = np.flatnonzero(rep != np.arange(d))
    if len(other):
        mine = np.repeat(offsets[other], lengths[other]) + _ranges(lengths[other])
        theirs = np.repeat(offsets[rep[other]], lengths[other]) + _ranges(lengths[other])
        same = (rows[mine] == rows[theirs]) & (values[mine] == values[theirs])
        differs = ~np.logical_and.reduceat(same, np.concatenate([[0], np.cumsum(lengths[other])[:-1]]))
        rep[other[differs]] = other[differs]
    size = np.bincount(rep, minlength=d)
    merged = np.flatnonzero(size[rep] >= 2)
    reps, slot = np.unique(rep[merged], return_inverse=True)  # groups in order of their first column
    block = C[:, candidates[reps]].multiply(np.sqrt(size[reps]).astype(np.float32)[None, :])
    return candidates[merged], slot.reshape(-1), 1.0 / np.sqrt(size[rep[merged]]), block.tocsr().astype(np.float32)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser of ``x`` (uint64, wrapping)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(l) for l in lengths])``."""
    ends = np.cumsum(lengths)
    return np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - lengths, lengths)
