"""Atomic writes: a file appears whole or not at all."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd


def _atomic(path: Path, write: Callable[[Path], None]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    return _atomic(Path(path), lambda p: frame.to_csv(p, index=False))


def write_json(obj: Any, path: str | Path) -> Path:
    return _atomic(Path(path), lambda p: p.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n"))


def write_text(text: str, path: str | Path) -> Path:
    return _atomic(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def write_npz(path: str | Path, **arrays: np.ndarray) -> Path:
    def write(p: Path) -> None:
        with open(p, "wb") as f:
            np.savez_compressed(f, **arrays)

    return _atomic(Path(path), write)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


# --- output paths, checked before any work ---------------------------------------------------
def _first_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _check_creatable(path: Path, *, option: str, kind: str) -> None:
    """Raise ConfigError unless the missing ``path`` could be created as a ``kind``."""
    from labelcore.errors import ConfigError

    base = _first_existing(path)
    if not base.is_dir():
        raise ConfigError(
            f"{option} {path}: cannot create this {kind}, because {base} is a file, not a directory; "
            "choose another path"
        )
    if not os.access(base, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path}: {base} is not writable; choose another path")


def check_output_dir(path: str | Path, *, option: str = "--out") -> Path:
    """Check, before any work, that ``path`` can be an output folder: an existing directory
    we may write in, or a path whose nearest existing ancestor is a writable directory.

    Raises :class:`~labelcore.errors.ConfigError` (exit 64) when ``path`` is an existing file
    (or anything else that is not a directory), lies under a file, or is not writable.
    Creates nothing."""
    from labelcore.errors import ConfigError

    path = Path(path)
    if str(path).strip() == "":
        raise ConfigError(f"{option} is empty; name an output folder")
    if path.exists() or path.is_symlink():
        if not path.is_dir():
            raise ConfigError(f"{option} {path} exists and is not a directory; name a folder (new or existing)")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"{option} {path} is not writable; choose another folder")
        return path
    _check_creatable(path, option=option, kind="folder")
    return path


def check_output_file(path: str | Path, *, option: str = "--out") -> Path:
    """Check, before any work, that ``path`` can be written as a file: not an existing
    directory, its folder existing and writable or creatable. Raises ConfigError; creates nothing."""
    from labelcore.errors import ConfigError

    path = Path(path)
    if str(path).strip() == "" or path.name in ("", ".", ".."):
        raise ConfigError(f"{option} {str(path)!r} does not name a file")
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a directory; name a file")
    if path.exists() and not path.is_file():
        raise ConfigError(f"{option} {path} exists and is not a regular file")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"{option} {path} is not writable; choose another file")
    parent = path.parent
    if parent.exists():
        if not parent.is_dir():
            raise ConfigError(f"{option} {path}: {parent} is a file, not a directory; choose another path")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise ConfigError(f"{option} {path}: {parent} is not writable; choose another path")
    else:
        _check_creatable(parent, option=option, kind="folder")
    return path
