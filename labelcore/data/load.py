"""``load_data(spec)``: one entry point for every source a user can name.

``spec`` may be a definition name (``banking77``, ``demo``; see ``datasets/``), a ``.toml``
definition, a CSV / TSV / JSONL / JSON / Parquet file, a directory written by
``datasets.Dataset.save_to_disk``, a dataset version written by ``audit apply`` (a directory
with a ``version.json``), or a Hugging Face dataset id (``hf:ID`` or ``org/name``).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labelcore.data.definitions import (
    DatasetDefinition,
    available_definitions,
    find_definition,
    read_definition,
)
from labelcore.data.readers import read_table, read_text
from labelcore.data.schema import DatasetBundle, TextDataset
from labelcore.data.validate import build_split
from labelcore.data.version_file import VERSION_FILE, read_version_meta
from labelcore.errors import ConfigError, DataError, ServiceError


def load_data(
    spec: "str | Path | pd.DataFrame | DatasetBundle | Any",
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    id_column: str | None = None,
    test: str | Path | None = None,
) -> DatasetBundle:
    """Load a dataset into a :class:`DatasetBundle` (``train`` plus any other splits).

    ``spec``: a definition name, a file, a folder, ``hf:ID``, or already in memory: a pandas
    DataFrame (the train split) or a Hugging Face ``Dataset`` / ``DatasetDict``.
    Column options override a definition's. ``test`` adds a test split from a file.
    Raises :class:`DataError` naming file, row and column on bad input.
    """
    if isinstance(spec, DatasetBundle):
        return spec
    if isinstance(spec, pd.DataFrame):
        split = build_split(spec.reset_index(drop=True), text_column=text_column or "text",
                            label_column=label_column or "label", id_column=id_column, path="<DataFrame>")
        return _with_test(DatasetBundle("dataframe", {"train": split}, split.classes, "<DataFrame>"),
                          test, text_column, label_column, id_column)
    if type(spec).__module__.startswith("datasets."):  # a Hugging Face Dataset / DatasetDict in memory
        bundle = _from_hf_loaded(spec, "<Dataset>", text_column, label_column, id_column)
        return _with_test(bundle, test, text_column, label_column, id_column)
    if not isinstance(spec, (str, Path)):
        raise DataError(f"cannot load a {type(spec).__name__}: give a path, a dataset name, a pandas DataFrame "
                        "or a Hugging Face Dataset")
    spec_str = str(spec)
    path = Path(spec_str)
    definition: DatasetDefinition | None = None
    if path.suffix == ".toml" and path.is_file():
        definition = read_definition(path)
    elif not path.exists() and (found := find_definition(spec_str)) is not None:
        definition = read_definition(found)

    if definition is not None:
        bundle = _from_definition(definition, spec_str, text_column, label_column, id_column)
    elif path.is_dir() and (path / VERSION_FILE).is_file():
        bundle = _from_version_dir(path, spec_str)
    elif path.is_dir():
        bundle = _from_hf(spec_str, text_column, label_column, id_column, local=True)
    elif path.suffix.lower() in (".csv", ".tsv", ".jsonl", ".json", ".parquet"):
        split = _read_file_split(path, "train", text_column or "text", label_column or "label", id_column, None, None)
        bundle = DatasetBundle(name=path.stem, splits={"train": split}, classes=split.classes, spec=spec_str)
    elif spec_str.startswith("hf:") or _looks_like_hub_id(spec_str):
        bundle = _from_hf(spec_str.removeprefix("hf:"), text_column, label_column, id_column, local=False)
    elif not path.exists() and (path.suffix or "/" in spec_str or os.sep in spec_str):
        raise DataError("no such file or folder (for a Hugging Face hub dataset, write hf:ID)", path=spec_str)
    else:
        names = ", ".join(available_definitions()) or "none found"
        raise DataError(
            f"not a file, directory, dataset definition or Hugging Face id "
            f"(definitions: {names})",
            path=spec_str,
        )

    return _with_test(bundle, test, text_column, label_column, id_column)


def _with_test(bundle: DatasetBundle, test, text_column, label_column, id_column) -> DatasetBundle:
    if test is not None:
        train = bundle.train
        test_split = _read_file_split(
            Path(test), "test", text_column or "text", label_column or train.label_column,
            id_column, train.classes, f"the train split ({train.source})",
        )
        bundle = DatasetBundle(bundle.name, {**bundle.splits, "test": test_split}, bundle.classes,
                               bundle.spec, bundle.license, bundle.citation)
    return bundle


def _read_file_split(path, split, text_column, label_column, id_column, classes, classes_from) -> TextDataset:
    frame = read_table(path)
    return build_split(
        frame, text_column=text_column, label_column=label_column, id_column=id_column,
        path=str(path), split=split, classes=classes, classes_from=classes_from,
    )


def _from_definition(d: DatasetDefinition, spec, text_column, label_column, id_column) -> DatasetBundle:
    text_column = text_column or d.text_column
    label_column = label_column or d.label_column
    id_column = id_column or d.id_column
    classes = None
    classes_from = None
    if d.classes:
        classes_path = d.resolve(d.classes)
        try:
            classes = tuple(json.loads(read_text(classes_path)))
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON class list: {exc.msg}", path=classes_path) from None
        classes_from = str(classes_path)

    if d.format == "builtin":
        frames = _builtin_frames(d)
        sources = {s: f"builtin:{d.name}/{s}" for s in frames}
    elif d.format == "clinc150":
        frames, sources = _clinc_frames(d)
        text_column, label_column = "text", "label"
    elif d.format == "hf":
        return _from_hf(d.splits["train"], text_column, label_column, id_column, local=False)
    else:
        frames, sources = {}, {}
        for split, rel in d.splits.items():
            p = d.resolve(rel)
            frames[split] = read_table(p, d.format)
            sources[split] = str(p)

    splits: dict[str, TextDataset] = {}
    train = build_split(
        frames["train"], text_column=text_column, label_column=label_column, id_column=id_column,
        path=sources["train"], split="train", classes=classes, classes_from=classes_from,
    )
    splits["train"] = train
    for split, frame in frames.items():
        if split == "train":
            continue
        splits[split] = build_split(
            frame, text_column=text_column, label_column=label_column, id_column=id_column,
            path=sources[split], split=split, classes=train.classes,
            classes_from=classes_from or f"the train split ({sources['train']})",
        )
    return DatasetBundle(d.name, splits, train.classes, spec, d.license, d.citation)


def _builtin_frames(d: DatasetDefinition) -> dict[str, pd.DataFrame]:
    from labelcore.data.synthetic import GENERATORS

    params = dict(d.params)
    name = params.pop("generator", "")
    if name not in GENERATORS:
        raise ConfigError(f"{d.path}: unknown generator {name!r}; known: {sorted(GENERATORS)}")
    frames = GENERATORS[name](**params)
    return {split: frames[key] for split, key in d.splits.items()}


def _clinc_frames(d: DatasetDefinition):
    frames, sources, cache = {}, {}, {}
    for split, rel in d.splits.items():
        file, _, key = rel.partition("#")
        p = d.resolve(file)
        if p not in cache:
            try:
                cache[p] = json.loads(read_text(p))
            except json.JSONDecodeError as exc:
                raise DataError(f"invalid JSON: {exc.msg}", path=p) from None
        if key not in cache[p]:
            raise DataError(f"no key {key!r}; keys are {sorted(cache[p])}", path=p)
        pairs = cache[p][key]
        frames[split] = pd.DataFrame(pairs, columns=["text", "label"])
        sources[split] = f"{p}#{key}"
    return frames, sources


def _looks_like_hub_id(spec: str) -> bool:
    """``org/name`` that is no local path: one slash, no suffix, and ``org`` is no local folder
    (``runs/v1`` with a ``runs/`` folder here is a missing local path, not a hub id)."""
    org, sep, name = spec.partition("/")
    return (bool(sep) and bool(org) and bool(name) and "/" not in name and not org.startswith(".")
            and not Path(spec).suffix and not Path(spec).exists() and not Path(org).is_dir())


def _from_version_dir(path: Path, spec: str) -> DatasetBundle:
    """A folder written by ``audit apply``: ``version.json`` + one CSV per split with
    ``example_id, text, label, row`` (ids and source rows are kept, not re-derived)."""
    meta_path = path / VERSION_FILE
    meta = read_version_meta(path)
    classes, split_files = tuple(meta["classes"]), meta["splits"]
    splits = {}
    for name in ["train", *[s for s in split_files if s != "train"]]:
        file = path / split_files[name]["file"]
        # every cell is data here: no NA strings (a text "null" stays "null")
        frame = pd.read_csv(io.StringIO(read_text(file)), dtype=str, keep_default_na=False)
        if "row" not in frame:
            raise DataError("no 'row' column", path=file, column="row")
        splits[name] = build_split(
            frame.drop(columns="row"), text_column="text", label_column="label", id_column="example_id",
            path=str(file), split=name, classes=classes, classes_from=str(meta_path),
            rows=pd.to_numeric(frame["row"]).to_numpy(),
        )
    return DatasetBundle(meta.get("name", path.name), splits, classes, spec,
                         meta.get("license", ""), meta.get("citation", ""))


def _from_hf(spec: str, text_column, label_column, id_column, *, local: bool) -> DatasetBundle:
    import datasets as hfds  # the Hugging Face library (our datasets/ folder is not a package)

    if local:
        try:
            loaded = hfds.load_from_disk(spec)
        except FileNotFoundError:
            loaded = hfds.load_dataset(spec)  # a local data dir or loading script
    else:
        if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
            raise ServiceError(
                f"{spec!r} is a Hugging Face hub id, but HF_HUB_OFFLINE is set; "
                "use a local file or a directory saved with save_to_disk"
            )
        try:
            loaded = hfds.load_dataset(spec)
        except Exception as exc:  # hub errors come in many types
            raise ServiceError(f"cannot load {spec!r} from the Hugging Face hub: {exc}") from None
    return _from_hf_loaded(loaded, spec, text_column, label_column, id_column)


def _from_hf_loaded(loaded, spec: str, text_column, label_column, id_column) -> DatasetBundle:
    import datasets as hfds
    if isinstance(loaded, hfds.Dataset):
        loaded = hfds.DatasetDict({"train": loaded})
    if "train" not in loaded:
        raise DataError(f"no 'train' split; splits are {list(loaded)}", path=spec)
    text_column = text_column or "text"
    label_column = label_column or "label"
    classes = None
    feature = loaded["train"].features.get(label_column)
    if isinstance(feature, hfds.ClassLabel):
        classes = tuple(feature.names)
    splits = {}
    for name in ["train", *[s for s in loaded if s != "train"]]:
        frame = loaded[name].to_pandas()
        if classes is not None and label_column in frame:
            frame[label_column] = np.asarray(classes, dtype=object)[frame[label_column].to_numpy()]
        splits[name] = build_split(
            frame, text_column=text_column, label_column=label_column, id_column=id_column,
            path=f"{spec}[{name}]", split=name,
            classes=classes if classes is not None else (None if name == "train" else splits["train"].classes),
            classes_from=f"{spec}[train]",
        )
    return DatasetBundle(Path(spec).name, splits, splits["train"].classes, spec)
