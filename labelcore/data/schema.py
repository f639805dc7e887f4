"""The in-memory shape of a labelled split and of a dataset (splits sharing one class order)."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TextDataset:
    """One labelled split.

    Attributes
    ----------
    texts : list[str] (N,)
    labels : np.ndarray (N,) int64 codes into ``classes``.
    classes : tuple[str, ...] (K,) the canonical class order, shared by every split.
    example_ids : list[str] (N,) stable ids that survive reordering of the source file.
    rows : np.ndarray (N,) 0-based data row in the source file (header excluded).
    source : str path or dataset id the split was read from.
    split : str split name.
    extra : pd.DataFrame (N, *) other columns of the source, kept for reference.
    label_column : str the label column's name in the source (for messages).
    """

    texts: list[str]
    labels: np.ndarray
    classes: tuple[str, ...]
    example_ids: list[str]
    rows: np.ndarray
    source: str
    split: str = "train"
    extra: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)
    label_column: str = "label"

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def label_names(self) -> np.ndarray:
        """(N,) label names (object array)."""
        return np.asarray(self.classes, dtype=object)[self.labels]

    @property
    def fingerprint(self) -> str:
        """Content hash of texts, labels, ids and class order (not of file paths or row order
        of the source: reordering rows changes nothing the models see except fold assignment)."""
        h = hashlib.sha256()
        h.update("\x1f".join(self.classes).encode())
        for eid, text, lab in zip(self.example_ids, self.texts, self.labels):
            h.update(f"\x1e{eid}\x1f{text}\x1f{lab}".encode())
        return h.hexdigest()[:16]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "row": self.rows,
                "example_id": self.example_ids,
                "split": self.split,
                "text": self.texts,
                "label": self.label_names,
            }
        )

    def subset(self, index: Sequence[int] | np.ndarray) -> "TextDataset":
        idx = np.asarray(index, dtype=int)
        return TextDataset(
            texts=[self.texts[i] for i in idx],
            labels=self.labels[idx],
            classes=self.classes,
            example_ids=[self.example_ids[i] for i in idx],
            rows=self.rows[idx],
            source=self.source,
            split=self.split,
            extra=self.extra.iloc[idx].reset_index(drop=True) if len(self.extra) else self.extra,
            label_column=self.label_column,
        )

    def with_labels(self, labels: np.ndarray) -> "TextDataset":
        """Same examples, other labels (e.g. planted noise). ``labels (N,)`` int codes."""
        labels = np.asarray(labels, dtype=np.int64)
        if labels.shape != self.labels.shape:
            raise ValueError(f"labels shape {labels.shape} != {self.labels.shape}")
        return dataclasses.replace(self, labels=labels)


@dataclass(frozen=True)
class DatasetBundle:
    """A named dataset: its splits (``train`` always; ``test`` etc. when present)."""

    name: str
    splits: dict[str, TextDataset]
    classes: tuple[str, ...]
    spec: str
    license: str = ""
    citation: str = ""

    @property
    def train(self) -> TextDataset:
        return self.splits["train"]

    @property
    def test(self) -> TextDataset | None:
        return self.splits.get("test")

    @property
    def source_paths(self) -> list[str]:
        """The local files and folders this dataset was read from (what a command must never
        overwrite): the spec when it is a path, and each split's source file."""
        import re
        from pathlib import Path

        candidates = [self.spec] + [re.sub(r"(#.*|\[[^\]]*\])$", "", s.source) for s in self.splits.values()]
        return sorted({c for c in candidates if c and Path(c).exists()})

    @property
    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.splits):
            h.update(f"{name}:{self.splits[name].fingerprint};".encode())
        return h.hexdigest()[:16]
