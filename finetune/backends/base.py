"""The backend contract, after scikit-learn's estimators.

- ``__init__(config)`` stores the config and nothing else.
- ``fit(texts, y)`` trains on ``texts (N,)`` and label names ``y (N,)`` (str) and returns
  ``self``; learned attributes end in ``_``; ``classes_`` holds the sorted unique names of ``y``
  (``np.unique``). The out-of-fold engine maps columns back to the dataset's canonical class
  order by name, so a backend never needs to know that order.
- ``predict_proba(texts)`` returns ``(M, len(classes_))``; column ``j`` is ``classes_[j]``.
- ``prepare(texts)`` (optional) precomputes label-free per-text features once for all rows,
  so folds can share them (e.g. sentence embeddings).
- ``clone()`` gives a fresh, unfitted copy with the same config: one per fold.
- ``without_caches()`` (optional) gives the fitted model as it would serve: predictions
  computed from scratch, no per-text cache (used to measure latency).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Sequence

import numpy as np

from labelcore.errors import ConfigError


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

    def fingerprint(self) -> str:
        """A stable hash of everything that changes the backend's predictions."""
        content = {k: v for k, v in self.to_dict().items() if k not in self.runtime_fields}
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


class Backend:
    """Base estimator: stores its config; subclasses implement ``fit`` and ``predict_proba``."""

    config_class: ClassVar[type[BackendConfig]] = BackendConfig
    #: Bump when a change to the code changes predictions; part of every cache key.
    code_version: ClassVar[str] = "1"

    def __init__(self, config: BackendConfig) -> None:
        self.config = config

    def get_params(self) -> dict[str, Any]:
        return self.config.to_dict()

    def clone(self) -> "Backend":
        return type(self)(self.config)

    def without_caches(self) -> "Backend":
        """The fitted model predicting without per-text caches (default: itself)."""
        return self

    def prepare(self, texts: Sequence[str]) -> None:  # noqa: B027 - optional hook
        """Precompute label-free features for all texts (optional)."""

    def fit(self, texts: Sequence[str], y: np.ndarray) -> "Backend":
        raise NotImplementedError

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(texts), axis=1)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config})"
