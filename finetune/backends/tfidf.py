"""``tfidf-lr``: word + character TF-IDF features and a multinomial logistic regression."""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from labelcore.io import write_npz, write_text
from labelcore.errors import ConfigError, ModelError
from finetune.backends.base import Backend, BackendConfig, PreparedFeatures, check_proba, initial_solution, linear_state
from finetune.backends.softmax_lbfgs import WORKER_IMPORTS, fit_logistic_regression


@dataclass(frozen=True)
class TfidfLRConfig(BackendConfig):
    backend = "tfidf-lr"

    C: float = field(
        default=30.0,
        metadata={
            "help": "Inverse regularisation. sklearn's default 1.0 is badly under-confident on "
            "intent data (BANKING77 OOF log loss 1.44); ~30 is where accuracy stops improving."
        },
    )
    word_ngrams: int = field(default=2, metadata={"help": "Word n-grams 1..N."})
    char_ngrams: int = field(default=5, metadata={"help": "char_wb n-grams char_min_n..N (0 = off)."})
    char_min_n: int = field(default=2, metadata={"help": "Shortest char_wb n-gram."})
    word_min_df: int = field(default=1, metadata={"help": "A word n-gram is a feature when in this many texts."})
    char_min_df: int = field(default=2, metadata={"help": "A char n-gram is a feature when in this many texts. Fewer "
                                                          "features fit faster but cost detection of systematic noise "
                                                          "(docs/benchmarks.md)."})
    max_iter: int = field(default=300, metadata={"help": "L-BFGS iterations."})
    tol: float = field(default=2e-5, metadata={"help": "L-BFGS stops when every gradient entry is below this, as "
                                                      "scikit-learn's gtol. Below scikit-learn's 1e-4: torch's "
                                                      "L-BFGS stopped a little short of it there, and looser "
                                                      "tolerances detect noise less well (3e-5 cost near-class "
                                                      "AUPRC 0.009 on one seed, docs/benchmarks.md)."})

    def validate(self) -> None:
        if self.C <= 0:
            raise ConfigError(f"tfidf-lr: C must be > 0, got {self.C}")
        if self.word_ngrams < 1 or self.char_ngrams not in (0, *range(2, 9)):
            raise ConfigError("tfidf-lr: word_ngrams >= 1 and char_ngrams in {0, 2..8}")
        if self.char_ngrams and not 1 <= self.char_min_n <= self.char_ngrams:
            raise ConfigError(f"tfidf-lr: char_min_n must be in 1..char_ngrams ({self.char_ngrams}), got {self.char_min_n}")
        if self.word_min_df < 1 or self.char_min_df < 1:
            raise ConfigError("tfidf-lr: word_min_df and char_min_df must be >= 1")
        if self.max_iter < 1 or self.tol <= 0:
            raise ConfigError("tfidf-lr: max_iter >= 1 and tol > 0")


class TfidfLRBackend(Backend):
    """Speed (docs/benchmarks.md, "CPU tier"): the vectorizer needs no labels, so ``prepare``
    fits it once on every text and the folds share its float32 matrix; scikit-learn's objective
    is solved with torch's L-BFGS (:mod:`finetune.backends.softmax_lbfgs`, 2x faster than
    scipy's L-BFGS-B here, at a tighter tolerance); the final model on all rows trains in fold
    0's task, from that fold's solution (``final_beside_folds``, ``warm_start_state``); a second
    round's fold starts from the first round's (``starts_from_earlier_round``)."""

    config_class = TfidfLRConfig
    code_version = "7"  # 7: identical columns merged too; 6: columns of one training row merged per row; 5: unused columns left out
    final_beside_folds = True  # vocabularies + one weight matrix, a few MB
    starts_from_earlier_round = True
    worker_imports = WORKER_IMPORTS

    def _vectorizer(self, relaxed: bool = False):
        """The unfitted word (+ char_wb) TF-IDF union, float32.

        ``relaxed``: one-character words count and n-grams seen once are kept - the fallback
        for data so small or short that the usual vocabulary would be empty."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_union

        cfg = self.config
        word = {"token_pattern": r"(?u)\b\w+\b"} if relaxed else {}
        parts = [TfidfVectorizer(ngram_range=(1, cfg.word_ngrams), sublinear_tf=True, dtype=np.float32,
                                 min_df=1 if relaxed else cfg.word_min_df, **word)]
        if cfg.char_ngrams:
            parts.append(
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(cfg.char_min_n, cfg.char_ngrams), sublinear_tf=True,
                    min_df=1 if relaxed else cfg.char_min_df, dtype=np.float32,
                )
            )
        return make_union(*parts)

    def _model(self):
        from sklearn.linear_model import LogisticRegression

        cfg = self.config
        return LogisticRegression(C=cfg.C, max_iter=cfg.max_iter, tol=cfg.tol, random_state=cfg.seed)

    def _fit_vectorizer(self, texts: list[str]):
        """``(fitted union, (N, D) float32 CSR)``; the relaxed union when the usual one is empty."""
        for relaxed in (False, True):
            union = self._vectorizer(relaxed=relaxed)
            try:
                matrix = union.fit_transform(texts)
            except ValueError as exc:
                if relaxed or ("vocabulary" not in str(exc) and "no terms remain" not in str(exc)):
                    raise ModelError(
                        f"tfidf-lr cannot be trained on these {len(texts)} texts ({exc}); the texts need words "
                        "or characters in common"
                    ) from None
                continue  # tiny or very short texts: no word seen twice, no char n-gram seen thrice
            union.relaxed_ = relaxed
            return union, matrix.tocsr()
        raise AssertionError("unreachable")

    def prepare(self, texts: Sequence[str]) -> PreparedFeatures:
        """The vectorizer fitted on every text (no labels involved) and its matrix, once per dataset."""
        texts = list(texts)
        union, matrix = self._fit_vectorizer(texts)
        return PreparedFeatures.of(texts, matrix, union)

    def _features(self, texts: list[str]):
        rows = self._prepared.rows(texts) if self._prepared is not None else None
        return self.vectorizer_.transform(texts) if rows is None else rows

    def fit(self, texts: Sequence[str], y: np.ndarray, *, prepared: PreparedFeatures | None = None,
            init: dict[str, np.ndarray] | None = None) -> "TfidfLRBackend":
        """Fit on ``texts (N,)`` / label names ``y (N,)``; ``prepared``: this dataset's shared
        features (:meth:`prepare`); ``init``: a :meth:`warm_start_state` of the same classes to
        start from."""
        texts, y = list(texts), np.asarray(y)
        if prepared is not None:
            self._prepared, self.vectorizer_ = prepared, prepared.transformer
            matrix = self._features(texts)
        else:
            self._prepared = None
            self.vectorizer_, matrix = self._fit_vectorizer(texts)
        self.relaxed_ = bool(getattr(self.vectorizer_, "relaxed_", False))
        cfg = self.config
        try:
            lr = fit_logistic_regression(matrix, y, C=cfg.C, tol=cfg.tol, max_iter=cfg.max_iter,
                                         init=initial_solution(init, y, matrix.shape[1]), random_state=cfg.seed)
        except ValueError as exc:  # e.g. one class
            raise ModelError(
                f"tfidf-lr cannot be trained on these {len(texts)} texts ({exc}); it needs at least two classes"
            ) from None
        # solved in float32 (the matrix's dtype, half the time); predicts in float64, so rows sum to 1
        lr.coef_, lr.intercept_ = lr.coef_.astype(np.float64), lr.intercept_.astype(np.float64)
        self.lr_ = lr
        self.classes_ = lr.classes_
        self.n_parameters_ = int(lr.coef_.size + lr.intercept_.size)
        return self

    def warm_start_state(self) -> dict[str, np.ndarray]:
        self.check_fitted()
        return linear_state(self.lr_, self.classes_, np.float32)

    def without_caches(self) -> "TfidfLRBackend":
        """A shallow copy that vectorizes every text afresh (as it would serve)."""
        import copy

        fresh = copy.copy(self)
        fresh._prepared = None
        return fresh

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self.check_fitted()
        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        proba = self.lr_.predict_proba(self._features(list(texts)))
        return check_proba(proba, n_rows=len(texts), n_classes=len(self.classes_), backend=self.config.backend)

    # --- save / load: vocabularies and idf weights as JSON + arrays, no pickle -------------------
    def save(self, path: str | Path) -> Path:
        self.check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        union, lr = self.vectorizer_, self.lr_
        vocabularies = [{t: int(i) for t, i in v.vocabulary_.items()} for _, v in union.transformer_list]
        arrays = {f"idf_{i}": v.idf_ for i, (_, v) in enumerate(union.transformer_list)}
        arrays.update(coef=lr.coef_, intercept=lr.intercept_)
        write_npz(path / "weights.npz", compressed=False, **arrays)
        write_text(json.dumps(vocabularies, ensure_ascii=False), path / "vocabularies.json")
        self._write_meta(path, n_parameters=self.n_parameters_, relaxed=bool(getattr(self, "relaxed_", False)))
        return path

    @classmethod
    def load(cls, path: str | Path) -> "TfidfLRBackend":
        path = Path(path)
        backend, meta = cls._from_meta(path)
        try:
            vocabularies = json.loads((path / "vocabularies.json").read_text(encoding="utf-8"))
            with np.load(path / "weights.npz", allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
            raise ModelError(f"{path}: cannot read the saved tfidf-lr weights ({exc}); save it again") from None
        backend.relaxed_ = bool(meta.get("relaxed", False))
        union, lr = backend._vectorizer(relaxed=backend.relaxed_), backend._model()
        union.relaxed_ = backend.relaxed_
        if len(vocabularies) != len(union.transformer_list):
            raise ModelError(f"{path}: {len(vocabularies)} saved vocabularies for {len(union.transformer_list)} "
                             "vectorizers; the saved files do not match backend.json")
        for i, ((_, vectorizer), vocabulary) in enumerate(zip(union.transformer_list, vocabularies)):
            vectorizer.vocabulary_ = vocabulary
            vectorizer.fixed_vocabulary_ = False
            vectorizer.idf_ = arrays[f"idf_{i}"]
        lr.classes_ = backend.classes_
        lr.coef_, lr.intercept_ = arrays["coef"], arrays["intercept"]
        lr.n_features_in_ = lr.coef_.shape[1]
        lr.n_iter_ = np.zeros(1, dtype=np.int32)
        backend.vectorizer_, backend.lr_, backend._prepared = union, lr, None
        backend.n_parameters_ = int(meta.get("n_parameters", lr.coef_.size + lr.intercept_.size))
        return backend

