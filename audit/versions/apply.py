"""Apply a decision log to a dataset in memory: relabels, drops, and class merges.

Nothing here touches a file; :func:`audit.versions.write.write_version` saves the result.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from labelcore.data.schema import DatasetBundle, TextDataset
from labelcore.errors import DataError
from audit.formats.decision_log import check_decisions, current_decisions, is_pair, pair_labels

#: Columns of the change log (``changelog.csv``), one row per changed example.
CHANGE_COLUMNS = (
    "split", "example_id", "row", "change", "old_label", "new_label",
    "decision", "annotator", "annotated_at", "task_id", "note", "decisions_row",
)
PROVENANCE = ("decision", "annotator", "annotated_at", "task_id", "note")


@dataclasses.dataclass(frozen=True)
class AppliedDecisions:
    """What :func:`apply_decisions` returns.

    bundle : the new dataset (same example ids, rows and texts; fewer rows after drops).
    changes : DataFrame with :data:`CHANGE_COLUMNS`, one row per changed example.
    merges : ``{merged_label: target_label}`` after resolving chains (A->B, B->C gives A->C).
    decisions : the checked decision log; ``n_kept``: keep / keep_apart decisions (no change).
    """

    bundle: DatasetBundle
    changes: pd.DataFrame
    merges: dict[str, str]
    decisions: pd.DataFrame
    n_kept: int


def apply_decisions(
    bundle: DatasetBundle, decisions: pd.DataFrame, *, decisions_path: str | Path = "decisions.csv"
) -> AppliedDecisions:
    """Apply a decision log (a DataFrame as :func:`~audit.versions.decisions.read_decisions`
    returns, or one built in memory, e.g. by :func:`audit.oracle.oracle_decisions`).

    Relabels come first (in the original label set), then merges rewrite the labels of every
    split (train and test alike), then drops remove examples. An unknown example id or label,
    two different decisions for one example, or merges that form a cycle raise
    :class:`DataError` naming ``decisions_path``, the row and the column.
    """
    decisions = check_decisions(decisions, path=decisions_path)
    current = current_decisions(decisions)  # the log is append-only: an example's last row counts
    where = _IdIndex(bundle)
    classes = set(bundle.classes)
    merge_edges: dict[str, tuple[str, int]] = {}  # source -> (target, decision row)
    per_example: dict[tuple[str, int], int] = {}  # (split, index) -> decision row
    n_kept = 0

    def known_label(label: str, row: int, column: str) -> str:
        if label not in classes:
            raise DataError(
                f"unknown label {label!r}; the labels are {sorted(classes)}",
                path=decisions_path, row=row, column=column,
            )
        return label

    for i, rec in zip(current.index, current.to_dict("records")):
        eid, decision, new_label = rec["example_id"], rec["decision"], rec["new_label"]
        if is_pair(eid):
            a, b = pair_labels(eid, path=decisions_path, row=i)
            known_label(a, i, "example_id")
            known_label(b, i, "example_id")
            if decision != "merge":
                n_kept += decision == "keep_apart"
                continue
            if known_label(new_label, i, "new_label") not in (a, b):
                raise DataError(
                    f"merge target {new_label!r} is neither label of the pair {a!r} / {b!r}",
                    path=decisions_path, row=i, column="new_label",
                )
            _add_merge(merge_edges, b if new_label == a else a, new_label, i, decisions_path)
            continue
        key = where.locate(eid, rec.get("split", ""), row=i, path=decisions_path)
        if decision in ("relabel", "merge"):
            known_label(new_label, i, "new_label")
        if key in per_example:  # the same example under another id spelling or split cell
            prev = decisions.loc[per_example[key]]
            if (prev["decision"], prev["new_label"]) != (decision, new_label):
                raise DataError(
                    f"example {eid!r} already has decision {prev['decision']!r} "
                    f"(row {per_example[key]}); one decision per example",
                    path=decisions_path, row=i, column="decision",
                )
        per_example[key] = i
        if decision == "keep":
            n_kept += 1
        elif decision == "merge":
            split, idx = key
            given = where.label_of(split, idx)
            if given != new_label:
                _add_merge(merge_edges, given, new_label, i, decisions_path)

    merges = _resolve_merges(merge_edges, decisions_path)
    new_classes = tuple(c for c in bundle.classes if c not in merges)
    splits: dict[str, TextDataset] = {}
    changes: list[dict] = []
    for name, split in bundle.splits.items():
        old = split.label_names
        new = old.copy()
        cause = np.full(len(split), -1)  # decision row behind each change
        kind = np.full(len(split), "", dtype=object)
        keep = np.ones(len(split), dtype=bool)
        for (s, idx), row in per_example.items():
            if s != name:
                continue
            decision = decisions.at[row, "decision"]
            if decision == "relabel" and decisions.at[row, "new_label"] != old[idx]:
                new[idx], cause[idx], kind[idx] = decisions.at[row, "new_label"], row, "relabel"
            elif decision == "drop":
                keep[idx], cause[idx], kind[idx] = False, row, "drop"
        for idx in range(len(split)):
            target = merges.get(new[idx])
            if target is not None:
                new[idx] = target
                if kind[idx] == "":  # not relabelled: its own label was merged away
                    kind[idx], cause[idx] = "merge", merge_edges[old[idx]][1]
        for idx in np.flatnonzero(kind != ""):
            row = int(cause[idx])
            prov = {c: decisions.at[row, c] for c in PROVENANCE}
            changes.append({
                "split": name, "example_id": split.example_ids[idx], "row": int(split.rows[idx]),
                "change": kind[idx], "old_label": old[idx],
                "new_label": "" if kind[idx] == "drop" else new[idx],
                **prov, "decisions_row": row,
            })
        index = {c: k for k, c in enumerate(new_classes)}
        relabelled = dataclasses.replace(
            split, classes=new_classes, labels=np.asarray([index[n] for n in new], dtype=np.int64)
        )
        splits[name] = relabelled.subset(np.flatnonzero(keep))
    new_bundle = DatasetBundle(bundle.name, splits, new_classes, bundle.spec, bundle.license, bundle.citation)
    change_frame = pd.DataFrame(changes, columns=list(CHANGE_COLUMNS))
    return AppliedDecisions(new_bundle, change_frame, merges, decisions, n_kept)


class _IdIndex:
    """example_id -> (split, position), across all splits of a bundle."""

    def __init__(self, bundle: DatasetBundle) -> None:
        self.bundle = bundle
        self.index: dict[str, list[tuple[str, int]]] = {}
        for name, split in bundle.splits.items():
            for i, eid in enumerate(split.example_ids):
                self.index.setdefault(eid, []).append((name, i))

    def locate(self, eid: str, split: str, *, row: int, path) -> tuple[str, int]:
        found = self.index.get(eid, [])
        if split:
            found = [f for f in found if f[0] == split]
        if not found:
            scope = f"split {split!r}" if split else f"any split of {self.bundle.spec}"
            raise DataError(f"unknown example_id {eid!r}: not in {scope}", path=path, row=row, column="example_id")
        if len(found) > 1:
            raise DataError(
                f"example_id {eid!r} occurs in splits {[f[0] for f in found]}; add a 'split' column",
                path=path, row=row, column="example_id",
            )
        return found[0]

    def label_of(self, split: str, idx: int) -> str:
        ds = self.bundle.splits[split]
        return ds.classes[ds.labels[idx]]


def _add_merge(edges: dict[str, tuple[str, int]], source: str, target: str, row: int, path) -> None:
    if source in edges and edges[source][0] != target:
        raise DataError(
            f"label {source!r} is already merged into {edges[source][0]!r} (row {edges[source][1]})",
            path=path, row=row, column="new_label",
        )
    edges.setdefault(source, (target, row))


def _resolve_merges(edges: dict[str, tuple[str, int]], path) -> dict[str, str]:
    """Follow chains to the final target; a cycle is an error."""
    out = {}
    for source, (target, row) in edges.items():
        seen = {source}
        while target in edges:
            if target in seen:
                raise DataError(f"merges form a cycle through {sorted(seen)}", path=path, row=row, column="new_label")
            seen.add(target)
            target = edges[target][0]
        out[source] = target
    return out
