"""Backends on frozen sentence embeddings (all-MiniLM-L6-v2 by default).

Embeddings depend on the text only, so ``prepare`` computes them once for every row and
folds reuse them (from memory, or from the on-disk store across processes and runs).

- ``minilm-lr``: logistic regression on the embeddings.
- ``minilm-knn``: a vote of the ``k`` nearest training examples (cosine), weighted by
  ``exp(cos / temperature)``. It sees label noise from a different angle than a linear model:
  a mislabelled row is surrounded by rows of its true class.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from finetune.backends.base import Backend
from finetune.backends.minilm_config import MiniLMConfig, MiniLMKNNConfig
from finetune.embeddings import EmbeddingStore


class _EmbeddingBackend(Backend):
    def _store(self) -> EmbeddingStore:
        if getattr(self, "_embedding_store", None) is None:
            cfg = self.config
            self._embedding_store = EmbeddingStore(
                cfg.model, root=cfg.cache_dir or None, batch_size=cfg.batch_size, normalize=cfg.normalize
            )
        return self._embedding_store

    def prepare(self, texts: Sequence[str]) -> None:
        self._store().embed(texts)

    def without_caches(self) -> "_EmbeddingBackend":
        """A shallow copy whose embeddings are encoded afresh on every call (shares the encoder)."""
        import copy

        fresh = copy.copy(self)
        fresh._embedding_store = _Uncached(self._store())
        return fresh


class _Uncached:
    """An :class:`EmbeddingStore` stand-in that encodes every text, remembering nothing."""

    def __init__(self, store: EmbeddingStore) -> None:
        self.store = store

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.store.encode(texts)

    def n_parameters(self) -> int:
        return self.store.n_parameters()


class MiniLMBackend(_EmbeddingBackend):
    config_class = MiniLMConfig
    code_version = "1"

    def fit(self, texts: Sequence[str], y: np.ndarray) -> "MiniLMBackend":
        from sklearn.linear_model import LogisticRegression

        self.model_ = LogisticRegression(C=self.config.C, max_iter=1000, random_state=self.config.seed)
        self.model_.fit(self._store().embed(texts), np.asarray(y))
        self.classes_ = self.model_.classes_
        encoder = self._store().n_parameters()
        self.n_parameters_ = int(encoder + self.model_.coef_.size + self.model_.intercept_.size)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.model_.predict_proba(self._store().embed(texts))


class MiniLMKNNBackend(_EmbeddingBackend):
    config_class = MiniLMKNNConfig
    code_version = "1"

    def fit(self, texts: Sequence[str], y: np.ndarray) -> "MiniLMKNNBackend":
        self.classes_, self.codes_ = np.unique(np.asarray(y), return_inverse=True)
        self.embeddings_ = self._store().embed(texts)
        self.n_parameters_ = self._store().n_parameters()
        return self

    def predict_proba(self, texts: Sequence[str], *, block: int = 2048) -> np.ndarray:
        """(M, K) neighbour votes; similarities computed in blocks of ``block`` rows."""
        cfg = self.config
        queries = self._store().embed(texts)
        k = min(cfg.k, len(self.codes_))
        out = np.full((len(queries), len(self.classes_)), cfg.smoothing)
        for start in range(0, len(queries), block):
            sims = queries[start:start + block] @ self.embeddings_.T  # (b, N_train)
            nn = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            votes = np.exp(np.take_along_axis(sims, nn, 1) / cfg.temperature)
            rows = np.repeat(np.arange(len(nn)), k) + start
            np.add.at(out, (rows, self.codes_[nn].ravel()), votes.ravel())
        return out / out.sum(1, keepdims=True)
