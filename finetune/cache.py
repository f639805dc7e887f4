"""Content-addressed cache for per-fold predictions (after Hugging Face ``datasets``
fingerprints): the key hashes everything that determines the result, files are written to a
temporary name and moved into place, so an interrupted run leaves no half-written entry."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from labelcore.io import write_npz


def cache_key(**parts: Any) -> str:
    """sha256 of the sorted JSON of ``parts`` (first 24 hex digits)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def default_cache_dir() -> Path:
    return Path(os.environ.get("LABEL_AUDIT_CACHE", Path.home() / ".cache" / "label-audit"))


class ArrayCache:
    """A directory of ``<key>.npz`` files."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / f"{key}.npz"

    def load(self, key: str, *, expect: dict[str, tuple[int, ...]] | None = None) -> dict[str, np.ndarray] | None:
        """The arrays of ``key``, or None (a miss) when the entry is absent, unreadable,
        truncated or corrupt, or lacks an array of ``expect`` (name -> shape) or has another
        shape; a miss is recomputed and its entry replaced by :meth:`save`."""
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            with np.load(p, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error):
            return None  # a truncated or corrupt entry is a miss, and is replaced
        except Exception:  # noqa: BLE001 - numpy/zipfile raise more types on damaged files
            return None
        for name, shape in (expect or {}).items():
            if name not in arrays or arrays[name].shape != tuple(shape):
                return None
        return arrays

    def save(self, key: str, arrays: dict[str, np.ndarray]) -> Path:
        return write_npz(self.path(key), compressed=False, **arrays)
