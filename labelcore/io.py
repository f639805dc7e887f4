"""Atomic writes: a file, or a whole output folder, appears whole or not at all."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from labelcore.errors import ConfigError


def _atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """The one atomic file write: ``write(tmp)`` fills a temporary file beside ``path``, which is
    then renamed into place; on any failure (or Ctrl-C) the temporary file is removed."""
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


def write_csv(frame: pd.DataFrame, path: str | Path, *, for_people: bool = True) -> Path:
    """Write ``frame`` without its index. ``for_people``: text cells that a spreadsheet would run
    as formulas are neutralised (:mod:`labelcore.spreadsheet`; :func:`read_csv` restores them)."""
    if for_people:
        from labelcore.spreadsheet import neutralise_frame

        frame = neutralise_frame(frame)
    return _atomic(Path(path), lambda p: frame.to_csv(p, index=False))


def read_csv(path: str | Path, **options) -> pd.DataFrame:
    """Read a CSV that :func:`write_csv` wrote for people (neutralised cells restored).
    ``options`` go to :func:`pandas.read_csv`."""
    from labelcore.spreadsheet import restore_frame

    return restore_frame(pd.read_csv(path, **options))


def write_json(obj: Any, path: str | Path) -> Path:
    return _atomic(Path(path), lambda p: p.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n"))


def write_text(text: str, path: str | Path) -> Path:
    return _atomic(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def write_npz(path: str | Path, *, compressed: bool = True, **arrays: np.ndarray) -> Path:
    def write(p: Path) -> None:
        with open(p, "wb") as f:
            (np.savez_compressed if compressed else np.savez)(f, **arrays)

    return _atomic(Path(path), write)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def check_not_source(out: str | Path, inputs: Sequence[str | Path]) -> None:
    """Raise :class:`ConfigError` when writing ``out`` could touch an input: ``out`` is an
    input, holds one (an ancestor folder), or sits inside an input folder."""
    target = Path(out).resolve()
    for source in inputs:
        if not str(source):
            continue
        src = Path(source).resolve()
        if target == src or target in src.parents or (src.is_dir() and src in target.parents):
            raise ConfigError(
                f"--out {out} would overwrite the input {source}: the source data is never modified; "
                "choose an output folder outside it"
            )


def check_output_folder(
    out: str | Path, *, marker: str, inputs: Sequence[str | Path] = (), overwrite: bool = True
) -> None:
    """Raise :class:`ConfigError` unless :func:`write_folder` may write ``out``: call it before
    any long work, so that a bad ``--out`` fails in a second, not after training."""
    out = Path(out)
    check_not_source(out, inputs)
    check_output_dir(out)
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise ConfigError(f"--out {out} exists and is not empty; choose another --out or pass --overwrite")
        if not (out / marker).exists():
            raise ConfigError(f"--out {out} is a non-empty folder that this command did not write (no {marker}); "
                              "choose a new or empty folder")


def check_output_file(out: str | Path, *, inputs: Sequence[str | Path] = ()) -> None:
    """Raise :class:`ConfigError` unless ``out`` can be written as a file: not an input, not a
    folder, and its nearest existing parent is a writable folder."""
    out = Path(out)
    check_not_source(out, inputs)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give a file name")
    if out.exists():
        if not os.access(out, os.W_OK):
            raise ConfigError(f"--out {out} is not writable; choose another file")
    else:
        _check_creatable(out, option="--out", kind="file")


def write_folder(
    out: str | Path,
    write: Callable[[Path], None],
    *,
    owns: Callable[[str], bool],
    marker: str,
    inputs: Sequence[str | Path] = (),
    overwrite: bool = True,
) -> Path:
    """Write a whole output folder: ``write(tmp)`` fills a fresh folder beside ``out``, which then
    takes the place of ``out`` in one rename. A failure (or Ctrl-C) leaves ``out`` as it was.

    owns : which file names of an existing ``out`` this kind of folder writes. Those of an
        earlier run are replaced (none is left behind); other files (a reviewer's
        ``decisions.csv``, say) are carried over.
    marker : the file that identifies this kind of folder (``summary.json``...). An existing,
        non-empty ``out`` without it is refused (it is not ours to replace), as is a file.
    inputs : paths that must not be overwritten or deleted (see :func:`check_not_source`).
    overwrite : when false, an existing non-empty ``out`` is refused.
    """
    out = Path(out)
    check_output_folder(out, marker=marker, inputs=inputs, overwrite=overwrite)
    existing = out.exists()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise ConfigError(f"--out {out} cannot be written: {exc.strerror or exc}") from None
    old = None
    try:
        write(tmp)
        if existing:
            for item in out.iterdir():
                if not owns(item.name) and not (tmp / item.name).exists():
                    _copy(item, tmp / item.name)
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / "previous")
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    except BaseException:
        if old is not None and (old / "previous").exists() and not out.exists():
            os.replace(old / "previous", out)
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out


def _copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True)
    else:
        shutil.copy2(src, dst, follow_symlinks=False)


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
            raise ConfigError(f"{option} {path} is a file, not a folder; give a folder (new or existing)")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"{option} {path} is not writable; choose another folder")
        return path
    _check_creatable(path, option=option, kind="folder")
    return path


