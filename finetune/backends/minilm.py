"""``minilm-lr``: frozen sentence embeddings (all-MiniLM-L6-v2 by default) + logistic regression.

Embeddings depend on the text only, so ``prepare`` computes them once for every row and
folds reuse them (from memory, or from the on-disk store across processes and runs)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from finetune.backends.base import Backend
from finetune.backends.minilm_config import MiniLMConfig
from finetune.embeddings import EmbeddingStore


class MiniLMBackend(Backend):
    config_class = MiniLMConfig
    code_version = "1"

    def _store(self) -> EmbeddingStore:
        if getattr(self, "_embedding_store", None) is None:
            cfg = self.config
            self._embedding_store = EmbeddingStore(
                cfg.model, root=cfg.cache_dir or None, batch_size=cfg.batch_size, normalize=cfg.normalize
            )
        return self._embedding_store

    def prepare(self, texts: Sequence[str]) -> None:
        self._store().embed(texts)

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
