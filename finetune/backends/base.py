"""The backend contract, after scikit-learn's estimators.

- ``__init__(config)`` stores the config and nothing else.
- ``fit(texts, y)`` trains on ``texts (N,)`` and label names ``y (N,)`` (str) and returns
  ``self``; learned attributes end in ``_``; ``classes_`` holds the sorted unique names of ``y``
  (``np.unique``). The out-of-fold engine maps columns back to the dataset's canonical class
  order by name, so a backend never needs to know that order.
- ``predict_proba(texts)`` returns ``(M, len(classes_))``; column ``j`` is ``classes_[j]``.
- ``prepare(texts)`` (optional) computes label-free features of every row once per dataset
  and returns them as :class:`PreparedFeatures` (sentence embeddings; a TF-IDF vectorizer fitted
  on the texts, which needs no labels, and its matrix). The engine ships them to every fold,
  whose ``fit(texts, y, prepared=...)`` and ``predict_proba`` then look rows up instead of
  recomputing them. A backend that returns None is called without ``prepared``. One whose
  ``prepare`` is long work of its own (``prepares_slowly = True``: encoding every text) has it
  run in a driver thread while the other backends' folds train.
- ``worker_imports`` (optional): modules a fold task needs; a local worker process imports them
  while the driver prepares the features.
- ``warm_start_state()`` (optional) returns the fitted solution as arrays (or None). The
  engine keeps it per fold where a later fit needs it (and then in the fold cache): the final
  model on every row starts from a fold's, and with ``starts_from_earlier_round = True`` a
  second round's fold (without the flagged rows) starts from the first round's of the same
  fold: ``fit(texts, y, init=state)``. Only backends that return a state are called with ``init``.
- ``clone()`` gives a fresh, unfitted copy with the same config: one per fold.
- ``without_caches()`` (optional) gives the fitted model as it would serve: predictions
  computed from scratch, no per-text cache (used to measure latency). A backend whose result
  is small (``final_beside_folds = True``) has its final model trained in a worker beside the
  folds and sent back this way.
- ``save(path)`` writes a fitted backend to a directory: ``backend.json`` (format, backend
  name, config, classes) beside its weights; ``Backend.load(path)`` (or
  :func:`finetune.backends.registry.load_backend`, which picks the class from
  ``backend.json``) rebuilds it with the same ``predict_proba``. No pickles: arrays go to
  ``.npz`` files read with ``allow_pickle=False``, everything else to JSON.
- ``predict_proba`` before ``fit`` raises :class:`ModelError`; a ``predict_proba`` that is
  not a finite probability distribution per row raises :class:`ModelError`
  (:func:`check_proba`), never reaches a caller as NaN.

``tests/finetune/test_backend_contract.py`` runs every registered backend through this.
- ``provides_oof = True`` marks a backend whose out-of-fold predictions are given, not
  trained (``precomputed``): the engine calls ``given_oof_pred_probs(example_ids, classes, labels=...)``
  instead of training folds.

What one (backend, fold) task needs from a scheduler (CPUs, GPUs) is declared once, on the
config: :meth:`BackendConfig.task_resources`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from labelcore.errors import ConfigError, ModelError

#: Version of the ``backend.json`` written by :meth:`Backend.save`.
SAVE_FORMAT = 1
META_FILE = "backend.json"


@dataclass(frozen=True)
class TaskResources:
    """What one (backend, fold) task needs: ``cpus`` and ``gpus`` (Ray's ``num_cpus`` /
    ``num_gpus``; the local executor ignores them)."""

    cpus: float = 1.0
    gpus: float = 0.0

    def __post_init__(self) -> None:
        if self.cpus < 0 or self.gpus < 0:
            raise ConfigError(f"task resources must be >= 0, got cpus={self.cpus}, gpus={self.gpus}")


@dataclass(frozen=True)
class BackendConfig:
    """Base of every backend config. Subclasses add fields with ``metadata={"help": ...}``.

    Fields listed in ``runtime_fields`` change how a run executes (threads, cache dirs,
    output dirs) but not its result, and are left out of the fingerprint.
    """

    backend: ClassVar[str] = ""
    #: Name of the field a bare spec item fills (``full:google/gemma-3-270m`` -> model).
    positional_field: ClassVar[str | None] = None
    runtime_fields: ClassVar[tuple[str, ...]] = ()

    seed: int = field(default=0, metadata={"help": "Random seed for the model."})

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` on invalid values. Subclasses extend this."""

    def to_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, **dataclasses.asdict(self)}

    @property
    def display_name(self) -> str:
        """The model's name in outputs (columns, tables); the backend name unless overridden."""
        return self.backend

    def task_resources(self) -> TaskResources:
        """What one fold of this backend needs from a scheduler: one CPU, no GPU by default."""
        return TaskResources()

    def result_fields(self) -> dict[str, Any]:
        """Fields as they act on this machine, where that differs from their value (an 'auto')."""
        return {}

    def fingerprint(self) -> str:
        """A stable hash of everything that changes the backend's predictions."""
        content = {k: v for k, v in self.to_dict().items() if k not in self.runtime_fields}
        content.update(self.result_fields())
        blob = json.dumps(content, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @classmethod
    def help(cls) -> dict[str, str]:
        return {f.name: f.metadata.get("help", "") for f in fields(cls)}

    @classmethod
    def from_items(cls, items: Sequence[str], **overrides: Any) -> "BackendConfig":
        """Build from spec items: ``key=value`` pairs and at most one bare positional value."""
        known = {f.name: f for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for item in items:
            if not item:
                continue
            if "=" in item:
                key, raw = item.split("=", 1)
                key = key.strip().replace("-", "_")
            elif cls.positional_field is not None and cls.positional_field not in kwargs:
                key, raw = cls.positional_field, item
            else:
                raise ConfigError(
                    f"backend '{cls.backend}': cannot read {item!r}; use key=value "
                    f"(options: {', '.join(sorted(known))})"
                )
            if key not in known:
                raise ConfigError(
                    f"backend '{cls.backend}' has no option {key!r} "
                    f"(options: {', '.join(sorted(known))})"
                )
            kwargs[key] = _coerce(raw.strip(), known[key], cls.backend)
        kwargs.update(overrides)
        return cls(**kwargs)


def _coerce(raw: str, f: dataclasses.Field, backend: str) -> Any:
    """Convert a spec string to the field's type (bool, int, float, tuple, str)."""
    default = f.default if f.default is not dataclasses.MISSING else None
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if isinstance(default, bool) or kind.startswith("bool"):
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if isinstance(default, int) or kind.startswith("int"):
            return int(raw)
        if isinstance(default, float) or kind.startswith("float"):
            return float(raw)
        if isinstance(default, tuple) or kind.startswith("tuple"):
            return tuple(x for x in raw.split("+") if x)
    except ValueError:
        raise ConfigError(f"backend '{backend}': option {f.name}={raw!r} is not a valid {kind}") from None
    return None if raw.lower() == "none" and default is None else raw


@dataclass
class PreparedFeatures:
    """Label-free features of every text of a dataset, computed once and shared by the folds.

    matrix : (N, D) dense array or sparse matrix; row ``index[text]`` belongs to ``text``.
    transformer : the fitted label-free transformer (``transform(texts) -> rows``) for texts
        that are not in the index, or None when there is none to ship (embeddings: the backend
        encodes unseen texts itself).
    """

    index: dict[str, int]
    matrix: Any
    transformer: Any = None

    @classmethod
    def of(cls, texts: Sequence[str], matrix: Any, transformer: Any = None) -> "PreparedFeatures":
        return cls({t: i for i, t in enumerate(texts)}, matrix, transformer)

    def rows(self, texts: Sequence[str]) -> Any:
        """The rows of ``texts`` (M, D), or None when any text is not in the index."""
        try:
            return self.matrix[[self.index[t] for t in texts]]
        except KeyError:
            return None


class Backend:
    """Base estimator: stores its config; subclasses implement ``fit`` and ``predict_proba``."""

    config_class: ClassVar[type[BackendConfig]] = BackendConfig
    #: Bump when a change to the code changes predictions; part of every cache key.
    code_version: ClassVar[str] = "1"
    #: True for a backend whose out-of-fold predictions are given (see ``given_oof_pred_probs``).
    provides_oof: ClassVar[bool] = False
    #: True when the fitted model, ``without_caches()``, is small to send between processes: the
    #: engine may then train the final model (every row) in a worker beside the folds.
    final_beside_folds: ClassVar[bool] = False
    #: True when ``prepare`` is long work of its own (encoding every text with a network): the
    #: engine then runs it in the driver while other backends' folds train, not before them.
    prepares_slowly: ClassVar[bool] = False
    #: True when a second round's fold may start from the first round's solution of the same
    #: fold (``fit(..., init=warm_start_state())``): a convex fit that reaches the same optimum
    #: from there, in fewer steps (docs/benchmarks.md).
    starts_from_earlier_round: ClassVar[bool] = False
    #: Modules a fold task imports before it computes anything (a worker process imports them
    #: while the driver prepares the features: torch alone takes ~2 s).
    worker_imports: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: BackendConfig) -> None:
        self.config = config

    def get_params(self) -> dict[str, Any]:
        return self.config.to_dict()

    def clone(self) -> "Backend":
        return type(self)(self.config)

    def without_caches(self) -> "Backend":
        """The fitted model predicting without per-text caches (default: itself)."""
        return self

    def prepare(self, texts: Sequence[str]) -> "PreparedFeatures | None":
        """Label-free features of every text, computed once for all folds (optional; None = none)."""
        return None

    def warm_start_state(self) -> dict[str, np.ndarray] | None:
        """The fitted solution a later fit on a subset of the same rows may start from (optional)."""
        return None

    def fit(self, texts: Sequence[str], y: np.ndarray) -> "Backend":
        raise NotImplementedError

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def given_oof_pred_probs(self, example_ids: Sequence[str], classes: Sequence[str], *,
                             labels: Sequence[str] | None = None) -> np.ndarray:
        """``(N, K)`` out-of-fold probabilities of the rows ``example_ids``, columns in
        ``classes`` order; ``labels`` (N,): the rows' labels, which predictions recorded for
        other labels must not be used with. Only for backends with ``provides_oof = True``."""
        raise NotImplementedError(f"{type(self).__name__} trains its folds; it has no given predictions")

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(texts), axis=1)]

    def check_fitted(self) -> None:
        """Raise :class:`ModelError` unless ``fit`` (or ``load``) has run."""
        if getattr(self, "classes_", None) is None:
            raise ModelError(f"backend {self.config.backend!r} is not fitted: call fit() (or load a saved one) "
                             "before predict_proba()")

    # --- save / load ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the fitted backend to the directory ``path``; see :meth:`load`."""
        raise NotImplementedError(f"{type(self).__name__} does not implement save()")

    @classmethod
    def load(cls, path: str | Path) -> "Backend":
        """Rebuild a fitted backend written by :meth:`save`."""
        raise NotImplementedError(f"{cls.__name__} does not implement load()")

    def _write_meta(self, path: Path, **extra: Any) -> None:
        """``backend.json``: format, backend name, config (all fields), classes, ``extra``."""
        meta = {
            "format": SAVE_FORMAT,
            "backend": self.config.backend,
            "config": {k: v for k, v in self.config.to_dict().items() if k != "backend"},
            "classes": [str(c) for c in self.classes_],
            **extra,
        }
        (path / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True, default=list) + "\n")

    @classmethod
    def _from_meta(cls, path: Path) -> tuple["Backend", dict[str, Any]]:
        """An instance of ``cls`` with the saved config and ``classes_``, and the metadata."""
        meta = read_saved_meta(path)
        if meta["backend"] != cls.config_class.backend:
            raise ModelError(f"{path} holds a {meta['backend']!r} backend, not {cls.config_class.backend!r}; "
                             "use finetune.backends.registry.load_backend")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["config"].items()}
        try:
            backend = cls(cls.config_class(**values))
        except TypeError as exc:
            raise ModelError(f"{path / META_FILE}: the saved config does not fit this version: {exc}") from None
        backend.classes_ = np.asarray(meta["classes"])
        return backend, meta

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config})"


def read_saved_meta(path: str | Path) -> dict[str, Any]:
    """The ``backend.json`` of a directory written by :meth:`Backend.save`, checked."""
    path = Path(path)
    meta_file = path / META_FILE
    if not meta_file.is_file():
        raise ModelError(f"{path} is not a saved backend (no {META_FILE}); write one with 'finetune train'")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{meta_file} is not valid JSON ({exc}); train and save the model again") from None
    if not isinstance(meta, dict) or not {"backend", "config", "classes"} <= set(meta):
        raise ModelError(f"{meta_file} lacks backend/config/classes; train and save the model again")
    if meta.get("format", SAVE_FORMAT) > SAVE_FORMAT:
        raise ModelError(f"{meta_file} has format {meta['format']}, newer than this version reads "
                         f"({SAVE_FORMAT}); upgrade label-audit")
    return meta


def check_proba(proba: Any, *, n_rows: int, n_classes: int, backend: str) -> np.ndarray:
    """``proba`` as a float64 ``(n_rows, n_classes)`` array of finite rows summing to 1.

    Raises :class:`ModelError` otherwise: a diverged model (NaN/inf weights) must never
    hand NaN probabilities to a caller."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != (n_rows, n_classes):
        raise ModelError(f"backend {backend!r}: predict_proba returned shape {proba.shape}, "
                         f"expected {(n_rows, n_classes)}")
    bad = ~np.isfinite(proba).all(axis=1)
    if bad.any():
        raise ModelError(
            f"backend {backend!r} predicts NaN or infinite probabilities for {int(bad.sum())} of {n_rows} "
            "rows: the model diverged in training; lower the learning rate (lr=...) or use warmup"
        )
    if n_rows and (not np.allclose(proba.sum(axis=1), 1.0, atol=1e-4) or (proba < -1e-9).any()):
        raise ModelError(f"backend {backend!r}: predict_proba rows are not probability distributions")
    return proba


def initial_solution(init: dict[str, np.ndarray] | None, y: np.ndarray,
                     n_features: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(coef, intercept)`` of ``init`` (a :func:`linear_state`) when it is a solution for the
    classes of ``y`` and ``n_features`` features; else None: the fit starts cold."""
    if init is not None and fits_state(init, np.unique(y), n_features):
        return init["coef"], init["intercept"]
    return None


def linear_state(model: Any, classes: np.ndarray, dtype: Any = None) -> dict[str, np.ndarray]:
    """A fitted linear model's ``warm_start_state``: coef, intercept (as ``dtype``) and classes."""
    return {"coef": model.coef_.astype(dtype or model.coef_.dtype),
            "intercept": model.intercept_.astype(dtype or model.intercept_.dtype), "classes": classes.astype(str)}


def fits_state(init: dict[str, np.ndarray], classes: np.ndarray, n_features: int) -> bool:
    """``init`` (a ``warm_start_state``) is a solution for these classes and features; else a fit
    starts cold."""
    coef = init.get("coef")
    rows = 1 if len(classes) == 2 else len(classes)  # sklearn's binary model has one row
    return (
        coef is not None and coef.shape == (rows, n_features)
        and np.array_equal(np.asarray(init.get("classes")).astype(str), classes.astype(str))
    )
