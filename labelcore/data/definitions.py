"""Dataset definitions: small TOML files in ``datasets/`` naming a source, columns, splits and
license. Paths inside a definition are relative to the definition file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelcore.errors import ConfigError

FORMATS = {"csv", "tsv", "jsonl", "json", "parquet", "clinc150", "builtin", "hf"}


@dataclass(frozen=True)
class DatasetDefinition:
    name: str
    format: str
    splits: dict[str, str]
    text_column: str = "text"
    label_column: str = "label"
    id_column: str | None = None
    classes: str | None = None  # a JSON file listing the canonical class order
    description: str = ""
    license: str = ""
    citation: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def resolve(self, relative: str) -> Path:
        base = self.path.parent if self.path else Path.cwd()
        return (base / relative).resolve()


def definition_dirs() -> list[Path]:
    """Where ``--data NAME`` looks: $LABEL_AUDIT_DATASETS, ./datasets, the project's datasets/."""
    dirs = []
    if os.environ.get("LABEL_AUDIT_DATASETS"):
        dirs.append(Path(os.environ["LABEL_AUDIT_DATASETS"]))
    dirs.append(Path.cwd() / "datasets")
    dirs.append(Path(__file__).resolve().parents[2] / "datasets")
    seen, out = set(), []
    for d in dirs:
        if d.resolve() not in seen and d.is_dir():
            seen.add(d.resolve())
            out.append(d)
    return out


def find_definition(name: str) -> Path | None:
    for d in definition_dirs():
        candidate = d / f"{name}.toml"
        if candidate.is_file():
            return candidate
    return None


def available_definitions() -> list[str]:
    return sorted({p.stem for d in definition_dirs() for p in d.glob("*.toml")})


def read_definition(path: Path) -> DatasetDefinition:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read dataset definition: {exc}") from None
    known = {f for f in DatasetDefinition.__dataclass_fields__ if f != "path"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)}; known: {sorted(known)}")
    for key in ("name", "format", "splits"):
        if key not in raw:
            raise ConfigError(f"{path}: missing key {key!r}")
    if raw["format"] not in FORMATS:
        raise ConfigError(f"{path}: format {raw['format']!r} is not one of {sorted(FORMATS)}")
    if "train" not in raw["splits"]:
        raise ConfigError(f"{path}: [splits] must name a 'train' split")
    return DatasetDefinition(**raw, path=path)
