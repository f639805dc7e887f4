"""``duplicates``: exact duplicates after normalisation, and near duplicates (embedding cosine
similarity at least ``threshold``) whose labels conflict.

Flags: every member of an exact-duplicate group whose labels conflict (with
``flag_agreeing=True``, also groups that agree), and every row with a conflicting-label near
duplicate. Duplicates that agree are harmless to a classifier and are only counted in ``info``. Score: 1 - the row's highest cosine
similarity to any other row (0 for an exact duplicate; without embeddings 1 elsewhere).
Near neighbours come from the neighbour graph the detectors share (:mod:`audit.detectors.neighbors`):
memory is ``block * N`` floats, never ``N * N``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from typing import Sequence

import numpy as np

from audit.detectors.base import DetectorContext, DetectorResult
from audit.detectors.neighbors import find_similar_pairs

_SPACE = re.compile(r"\s+")


class _PunctuationToSpace(dict):
    """A ``str.translate`` table: each Unicode punctuation character (category P*) -> a space,
    any other character -> itself; filled as characters are first met."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        self[code] = value = " " if unicodedata.category(char).startswith("P") else char
        return value


_PUNCTUATION_TO_SPACE = _PunctuationToSpace()


def normalize_text(text: str) -> str:
    """Case-folded, punctuation replaced by spaces, whitespace collapsed."""
    return _SPACE.sub(" ", text.casefold().translate(_PUNCTUATION_TO_SPACE)).strip()


def group_by_normalized_text(texts: Sequence[str]) -> dict[str, list[int]]:
    """Normalised text -> the row indices holding it (insertion order)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(texts):
        groups[normalize_text(t)].append(i)
    return groups


#: Neighbours per row read from the shared graph; rows with more near duplicates are searched in full.
NEIGHBORS = 10


def find_near_duplicate_pairs(context: DetectorContext, *, threshold: float,
                              block: int = 1024) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(max_similarity (N,), pairs (P, 2) with i < j, similarities (P,))``: each row's highest
    cosine similarity to another row, and every pair of rows with similarity at least ``threshold``.

    Read from the neighbour graph the detectors share (:meth:`DetectorContext.nearest_neighbors`);
    a row whose farthest listed neighbour is still at least ``threshold`` may have more, and is
    compared with every row."""
    neighbors = context.nearest_neighbors(NEIGHBORS)
    n, k = neighbors.indices.shape
    rows = np.repeat(np.arange(n), k)
    close = neighbors.similarities.ravel() >= threshold
    pairs, sims = np.stack([rows[close], neighbors.indices.ravel()[close]], 1), neighbors.similarities.ravel()[close]
    crowded = np.flatnonzero(neighbors.similarities[:, -1] >= threshold) if k < n - 1 else np.zeros(0, int)
    if len(crowded):
        more, more_sims = find_similar_pairs(context.embeddings, crowded, threshold=threshold, block=block)
        pairs, sims = np.concatenate([pairs, more]), np.concatenate([sims, more_sims])
    pairs = np.sort(pairs, axis=1)  # (i, j) and (j, i) are one pair
    pairs, first = np.unique(pairs, axis=0, return_index=True)
    return neighbors.similarities[:, 0], pairs, sims[first]


def _describe(ds, j: int, classes, labels) -> str:
    return f"row {ds.rows[j]} (id {ds.example_ids[j]}, '{classes[labels[j]]}')"


def detect_duplicates(
    context: DetectorContext, *, threshold: float = 0.95, max_listed: int = 5, block: int = 1024,
    flag_agreeing: bool = False,
) -> DetectorResult:
    """Exact duplicates, and near duplicates with conflicting labels."""
    ds, labels = context.dataset, context.labels
    classes = np.asarray(ds.classes, dtype=object)
    n = len(ds)
    partners: list[dict[int, str]] = [dict() for _ in range(n)]
    exact = np.zeros(n, dtype=bool)
    flag_exact = np.zeros(n, dtype=bool)
    n_groups = n_conflicting_groups = 0
    for members in group_by_normalized_text(ds.texts).values():
        if len(members) < 2:
            continue
        n_groups += 1
        conflicting = len({int(labels[m]) for m in members}) > 1
        n_conflicting_groups += conflicting
        exact[members] = True
        flag_exact[members] = conflicting or flag_agreeing
        for a in members:
            for b in members:
                if a != b:
                    partners[a][b] = "exact duplicate of"
    score = np.where(exact, 0.0, 1.0)
    near_conflicts = 0
    if context.embeddings is not None and n > 1:
        max_sim, pairs, sims = find_near_duplicate_pairs(context, threshold=threshold, block=block)
        score = np.minimum(score, 1 - max_sim)
        for (a, b), s in zip(pairs.tolist(), sims.tolist()):
            if labels[a] != labels[b] and not (exact[a] and b in partners[a]):
                near_conflicts += 1
                partners[a][b] = partners[b][a] = f"near duplicate (cosine {s:.3f}) of"
    is_issue = flag_exact | np.array([any(v.startswith("near") for v in p.values()) for p in partners], dtype=bool)
    reason = np.full(n, "", dtype=object)
    for i in np.flatnonzero(is_issue):
        items = sorted(partners[i].items(), key=lambda kv: (not kv[1].startswith("exact"), kv[0]))
        same = all(labels[j] == labels[i] for j, _ in items)
        text = "; ".join(f"{kind} {_describe(ds, j, classes, labels)}" for j, kind in items[:max_listed])
        more = f"; and {len(items) - max_listed} more" if len(items) > max_listed else ""
        verdict = "same label" if same else f"conflicting labels (this row: '{classes[labels[i]]}')"
        reason[i] = f"{text}{more}: {verdict}"
    return DetectorResult(
        is_issue, score, reason, 1.0 - float(is_issue.mean()) if n else 1.0,
        {"threshold": threshold, "n_exact_groups": n_groups,
         "n_exact_groups_conflicting": int(n_conflicting_groups),
         "n_near_duplicate_pairs_conflicting": near_conflicts,
         "used_embeddings": context.embeddings is not None},
    )
