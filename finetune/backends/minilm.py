"""Backends on frozen sentence embeddings (all-MiniLM-L6-v2 by default).

Embeddings depend on the text only, so ``prepare`` computes them once for every row and
folds reuse them (from memory, or from the on-disk store across processes and runs).

- ``minilm-lr``: logistic regression on the embeddings.
- ``minilm-knn``: a vote of the ``k`` nearest training examples (cosine), weighted by
  ``exp(cos / temperature)``. It sees label noise from a different angle than a linear model:
  a mislabelled row is surrounded by rows of its true class.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import Sequence

import numpy as np

from labelcore.io import write_npz
from labelcore.errors import ModelError
from finetune.backends.base import Backend, PreparedFeatures, check_proba, initial_solution, linear_state
from finetune.backends.softmax_lbfgs import WORKER_IMPORTS, fit_logistic_regression
from finetune.backends.minilm_config import MiniLMConfig, MiniLMKNNConfig
from finetune.embeddings import EmbeddingStore


class _EmbeddingBackend(Backend):
    prepares_slowly = True  # encoding every text: the driver does it while other folds train

    def _store(self) -> EmbeddingStore:
        if getattr(self, "_embedding_store", None) is None:
            cfg = self.config
            self._embedding_store = EmbeddingStore(
                cfg.model, root=cfg.cache_dir or None, batch_size=cfg.batch_size, normalize=cfg.normalize,
                precision=cfg.precision,
            )
        return self._embedding_store

    def prepare(self, texts: Sequence[str]) -> PreparedFeatures:
        """Embeddings of every text (from the on-disk store when there), shared by the folds."""
        texts = list(texts)
        return PreparedFeatures.of(texts, self._store().embed(texts))

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        prepared = getattr(self, "_prepared", None)
        rows = prepared.rows(list(texts)) if prepared is not None else None
        return self._store().embed(texts) if rows is None else rows

    # save / load: the learned arrays in weights.npz (the encoder is named by the config)
    def _arrays(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def save(self, path: str | Path) -> Path:
        self.check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        write_npz(path / "weights.npz", compressed=False, **self._arrays())
        self._write_meta(path, n_parameters=int(self.n_parameters_))
        return path

    @classmethod
    def load(cls, path: str | Path) -> "_EmbeddingBackend":
        path = Path(path)
        backend, meta = cls._from_meta(path)
        try:
            with np.load(path / "weights.npz", allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            backend._set_arrays(arrays)
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
            raise ModelError(f"{path}: cannot read the saved {meta['backend']} weights ({exc}); save it again") from None
        backend.n_parameters_ = int(meta.get("n_parameters", 0))
        return backend

    def _checked(self, proba: np.ndarray, n_rows: int) -> np.ndarray:
        return check_proba(proba, n_rows=n_rows, n_classes=len(self.classes_), backend=self.config.backend)

    def without_caches(self) -> "_EmbeddingBackend":
        """A shallow copy whose embeddings are encoded afresh on every call (shares the encoder)."""
        import copy

        fresh = copy.copy(self)
        fresh._embedding_store = _Uncached(self._store())
        fresh._prepared = None
        return fresh


class MiniLMBackend(_EmbeddingBackend):
    config_class = MiniLMConfig
    code_version = "2"
    worker_imports = WORKER_IMPORTS
    starts_from_earlier_round = True

    def fit(self, texts: Sequence[str], y: np.ndarray, *, prepared: PreparedFeatures | None = None,
            init: dict[str, np.ndarray] | None = None) -> "MiniLMBackend":
        """``prepared``: the dataset's embeddings (:meth:`prepare`); ``init``: a
        :meth:`warm_start_state` of the same classes (the final model starts from a fold's, a
        second round's fold from the first round's)."""
        self._prepared = prepared
        y = np.asarray(y)
        features = self._embed(texts)
        # scikit-learn's objective, torch's L-BFGS: 4.3 s -> 0.9 s a BANKING77 fold (docs/benchmarks.md)
        self.model_ = fit_logistic_regression(features, y, C=self.config.C, tol=1e-4, max_iter=1000,
                                              init=initial_solution(init, y, features.shape[1]),
                                              random_state=self.config.seed)
        self.classes_ = self.model_.classes_
        encoder = self._store().n_parameters()
        self.n_parameters_ = int(encoder + self.model_.coef_.size + self.model_.intercept_.size)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self.check_fitted()
        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        return self._checked(self.model_.predict_proba(self._embed(texts)), len(texts))

    def warm_start_state(self) -> dict[str, np.ndarray]:
        self.check_fitted()
        return linear_state(self.model_, self.classes_)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.model_.coef_, "intercept": self.model_.intercept_}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=self.config.C, max_iter=1000, random_state=self.config.seed)
        model.classes_ = self.classes_
        model.coef_, model.intercept_ = arrays["coef"], arrays["intercept"]
        model.n_features_in_ = model.coef_.shape[1]
        model.n_iter_ = np.zeros(1, dtype=np.int32)
        self.model_ = model


class MiniLMKNNBackend(_EmbeddingBackend):
    config_class = MiniLMKNNConfig
    code_version = "2"  # 2: similarities by torch
    worker_imports = ("torch",)

    def fit(self, texts: Sequence[str], y: np.ndarray, *, prepared: PreparedFeatures | None = None) -> "MiniLMKNNBackend":
        self._prepared = prepared
        self.classes_, self.codes_ = np.unique(np.asarray(y), return_inverse=True)
        self.embeddings_ = self._embed(texts)
        self.n_parameters_ = self._store().n_parameters()
        return self

    def predict_proba(self, texts: Sequence[str], *, block_bytes: int = 64 << 20) -> np.ndarray:
        """(M, K) neighbour votes; similarities computed in blocks of rows that take about
        ``block_bytes`` (similarities + neighbour indices: 12 bytes per query x training row;
        BANKING77's 3,080 test texts at once took 330 MB more). The similarities are torch's
        product, in the threads the encoder just used: numpy's BLAS threads spin after a product
        and slowed the next text's encoding (batch-1 latency 16 ms against 8.4 ms for minilm-lr)."""
        import torch

        self.check_fitted()
        cfg = self.config
        queries = self._embed(texts)
        k = min(cfg.k, len(self.codes_))
        out = np.full((len(queries), len(self.classes_)), cfg.smoothing)
        block = max(1, block_bytes // (12 * len(self.codes_)))
        for start in range(0, len(queries), block):
            negated = (torch.from_numpy(np.ascontiguousarray(queries[start:start + block], dtype=np.float32))
                       @ torch.from_numpy(np.asarray(self.embeddings_, dtype=np.float32)).T).numpy()  # (b, N_train)
            np.negative(negated, out=negated)  # in place: nearest first
            nn = np.argpartition(negated, k - 1, axis=1)[:, :k]
            votes = np.exp(-np.take_along_axis(negated, nn, 1) / cfg.temperature)
            rows = np.repeat(np.arange(len(nn)), k) + start
            np.add.at(out, (rows, self.codes_[nn].ravel()), votes.ravel())
        return self._checked(out / out.sum(1, keepdims=True), len(texts))

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"codes": self.codes_, "embeddings": self.embeddings_}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.codes_, self.embeddings_ = arrays["codes"], arrays["embeddings"]


class _Uncached:
    """An :class:`EmbeddingStore` stand-in that encodes every text, remembering nothing."""

    def __init__(self, store: EmbeddingStore) -> None:
        self.store = store

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.store.encode(texts)

    def n_parameters(self) -> int:
        return self.store.n_parameters()
