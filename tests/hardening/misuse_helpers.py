"""Small data and helpers for the bad-input and misuse tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

FAST = ["-b", "tfidf-lr:char_ngrams=0", "--folds", "2", "--rounds", "1", "--detector", "label_issues", "--jobs", "1"]


def tiny_frame(n_per_class: int = 8) -> pd.DataFrame:
    """Two intents, easy to tell apart, plus one obvious mislabel."""
    a = [f"where is my card number {i}" for i in range(n_per_class)]
    b = [f"how do I top up my account {i}" for i in range(n_per_class)]
    frame = pd.DataFrame({"text": a + b, "label": ["card"] * n_per_class + ["top_up"] * n_per_class})
    frame.loc[0, "label"] = "top_up"
    return frame


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with the hash of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
