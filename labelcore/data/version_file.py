"""``version.json``: what makes a folder a dataset version (written by ``audit apply``).

The data layer owns it because a version is a dataset: ``load_data(folder)`` reads it. Keys:
``format``, ``format_version``, ``name``, ``fingerprint``, ``classes`` (canonical order),
``splits`` (``{name: {file, n_examples, fingerprint}}``), ``parent``, ``merges``, ``counts``,
``decisions``, ``created_at``, ``license``, ``citation``.
"""

from __future__ import annotations

import json
from pathlib import Path

from labelcore.errors import DataError

VERSION_FILE = "version.json"
FORMAT = "label-audit/dataset-version"
FORMAT_VERSION = 1


def read_version_meta(folder: str | Path) -> dict:
    """Read and check ``folder/version.json``; :class:`DataError` names the file and key."""
    from labelcore.data.readers import read_text

    path = Path(folder) / VERSION_FILE
    try:
        meta = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise DataError(f"not a dataset version file: {exc}", path=path) from None
    if not isinstance(meta, dict):
        raise DataError("not a dataset version file: expected a JSON object", path=path)
    if meta.get("format", FORMAT) != FORMAT:
        raise DataError(f"format {meta.get('format')!r} is not {FORMAT!r}", path=path, column="format")
    version = meta.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise DataError(f"format_version {version!r} is newer than this label-audit reads ({FORMAT_VERSION})",
                        path=path, column="format_version")
    classes, splits = meta.get("classes"), meta.get("splits")
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise DataError("'classes' must be a list of class names", path=path, column="classes")
    if not isinstance(splits, dict) or "train" not in splits:
        raise DataError("'splits' must name at least a train split", path=path, column="splits")
    for name, split in splits.items():
        file = split.get("file") if isinstance(split, dict) else None
        if not isinstance(file, str) or Path(file).name != file:
            raise DataError(f"splits.{name}.file must be a file name in the folder, got {file!r}",
                            path=path, column=f"splits.{name}.file")
    return meta
