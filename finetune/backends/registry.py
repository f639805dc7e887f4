"""The one registry of backends. Adding a backend = one ``register_backend`` call here.

Configs and estimators are referenced by import path so that listing backends or parsing
a spec never imports torch; the estimator module loads only when a backend is built.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from labelcore.errors import ConfigError
from finetune.backends.base import Backend, BackendConfig


@dataclass(frozen=True)
class BackendEntry:
    name: str
    config_path: str  # "module:ConfigClass" (must import without heavy deps)
    estimator_path: str  # "module:EstimatorClass"
    summary: str

    def config_class(self) -> type[BackendConfig]:
        return _load(self.config_path)

    def estimator_class(self) -> type[Backend]:
        return _load(self.estimator_path)


_REGISTRY: dict[str, BackendEntry] = {}


def register_backend(name: str, *, config: str, estimator: str, summary: str) -> None:
    if name in _REGISTRY:
        raise ValueError(f"backend {name!r} is already registered")
    _REGISTRY[name] = BackendEntry(name, config, estimator, summary)


def _load(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def available_backends() -> dict[str, BackendEntry]:
    return dict(_REGISTRY)


def get_entry(name: str) -> BackendEntry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown backend {name!r}; available: {', '.join(sorted(_REGISTRY))}"
        ) from None


def parse_backend_spec(spec: str, **overrides: Any) -> BackendConfig:
    """Parse ``NAME[:ITEM,ITEM...]`` where an item is ``key=value`` or the positional value.

    >>> parse_backend_spec("tfidf-lr:C=10").C
    10.0
    """
    name, _, rest = spec.strip().partition(":")
    entry = get_entry(name)
    items = [i for i in rest.split(",")] if rest else []
    return entry.config_class().from_items(items, **overrides)


def load_backend(path: str | Path) -> Backend:
    """A fitted backend from a directory written by ``Backend.save`` (any registered backend:
    ``backend.json`` names which)."""
    from finetune.backends.base import read_saved_meta

    meta = read_saved_meta(path)
    return get_entry(str(meta["backend"])).estimator_class().load(path)


def fit_and_save(config: BackendConfig, texts: Sequence[str], labels: Sequence[str], out: str | Path,
                 *, check_rows: int = 8) -> Backend:
    """Train ``config`` on ``texts (N,)`` / ``labels (N,)`` (names) and save it to ``out``.

    A model that cannot predict finite probabilities (a diverged run) raises
    :class:`ModelError` before anything is saved; when ``out`` did not exist before, the
    folder the run created (its checkpoints) is removed again, so a failure writes nothing."""
    import shutil

    from labelcore.errors import ModelError

    out = Path(out)
    created = not out.exists()
    try:
        model = make_backend(config).fit(texts, labels)
        model.predict_proba(list(texts[:check_rows]))  # check_proba: NaN / inf raise ModelError
    except (ModelError, KeyboardInterrupt) as exc:
        if created and isinstance(exc, ModelError):
            shutil.rmtree(out, ignore_errors=True)
        raise
    model.save(out)
    return model


def make_backend(config: BackendConfig | str) -> Backend:
    """Build an unfitted estimator from a config (or a spec string)."""
    if isinstance(config, str):
        config = parse_backend_spec(config)
    return get_entry(config.backend).estimator_class()(config)


# --- registrations -------------------------------------------------------------------------
register_backend(
    "tfidf-lr",
    config="finetune.backends.tfidf:TfidfLRConfig",
    estimator="finetune.backends.tfidf:TfidfLRBackend",
    summary="word 1-2gram + char_wb 2-5gram TF-IDF, logistic regression (CPU, ~1 min on 10k rows)",
)
register_backend(
    "minilm-lr",
    config="finetune.backends.minilm_config:MiniLMConfig",
    estimator="finetune.backends.minilm:MiniLMBackend",
    summary="all-MiniLM-L6-v2 sentence embeddings (offline wheel) + logistic regression (CPU)",
)
register_backend(
    "minilm-knn",
    config="finetune.backends.minilm_config:MiniLMKNNConfig",
    estimator="finetune.backends.minilm:MiniLMKNNBackend",
    summary="k-nearest-neighbour vote on all-MiniLM-L6-v2 embeddings (CPU, seconds once embedded)",
)
register_backend(
    "full",
    config="finetune.backends.lm.config:FullConfig",
    estimator="finetune.backends.lm.estimator:FullBackend",
    summary="full fine-tune of a causal LM (generative or classifier head); GPU for >100M params",
)
register_backend(
    "lora",
    config="finetune.backends.lm.config:LoraConfig",
    estimator="finetune.backends.lm.estimator:LoraBackend",
    summary="LoRA adapters (peft) on a frozen causal LM; head trained and saved too",
)
register_backend(
    "qlora",
    config="finetune.backends.lm.config:QLoraConfig",
    estimator="finetune.backends.lm.estimator:QLoraBackend",
    summary="LoRA on a 4-bit NF4 base (bitsandbytes, double quantisation); runs on CPU too",
)
register_backend(
    "precomputed",
    config="finetune.backends.precomputed:PrecomputedConfig",
    estimator="finetune.backends.precomputed:PrecomputedBackend",
    summary="out-of-fold predictions made elsewhere (Parquet/CSV: example_id + a column per class, or an "
    "oof.npz); read, not trained; params=N places it on the scale axis",
)
