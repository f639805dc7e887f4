"""Shared inputs for detector tests: demo splits without internal duplicates, MiniLM
embeddings (loaded once per session) and real out-of-fold probabilities on them."""

from __future__ import annotations

import numpy as np
import pytest

from labelcore.data.schema import TextDataset
from audit.detectors.duplicates import group_by_normalized_text


def make_split(texts, labels, classes, *, split="train") -> TextDataset:
    n = len(texts)
    return TextDataset(
        texts=list(texts), labels=np.asarray(labels, dtype=np.int64), classes=tuple(classes),
        example_ids=[f"{split}-{i}" for i in range(n)], rows=np.arange(n), source=f"memory:{split}", split=split,
    )


def unique_rows(ds: TextDataset, *, exclude=(), per_class: int | None = None) -> TextDataset:
    """The first row of each normalised text, skipping texts normalised-equal to ``exclude``;
    at most ``per_class`` rows per label (keeps the embedding cost of the tests small)."""
    skip = set(group_by_normalized_text(list(exclude)))
    keep = sorted(m[0] for t, m in group_by_normalized_text(ds.texts).items() if t not in skip)
    if per_class is not None:
        counts = np.zeros(len(ds.classes), dtype=int)
        kept = []
        for i in keep:
            counts[ds.labels[i]] += 1
            if counts[ds.labels[i]] <= per_class:
                kept.append(i)
        keep = kept
    return ds.subset(keep)


@pytest.fixture(scope="session")
def embed(tmp_path_factory):
    pytest.importorskip("sentence_transformers")
    from finetune.embeddings import OFFLINE_MINILM, EmbeddingStore

    return EmbeddingStore(OFFLINE_MINILM, root=str(tmp_path_factory.mktemp("emb"))).embed


@pytest.fixture(scope="session")
def demo_train(demo) -> TextDataset:
    return unique_rows(demo.train, per_class=25)


@pytest.fixture(scope="session")
def demo_test(demo, demo_train) -> TextDataset:
    return unique_rows(demo.test, exclude=demo.train.texts)


@pytest.fixture(scope="session")
def demo_embeddings(embed, demo_train) -> np.ndarray:
    return embed(demo_train.texts)  # (300, 384)


@pytest.fixture(scope="session")
def demo_pred_probs(demo_train, demo_embeddings) -> list[np.ndarray]:
    """Two real models' out-of-fold probabilities: LR on MiniLM embeddings, LR on TF-IDF."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    y = demo_train.labels
    emb = cross_val_predict(LogisticRegression(C=30, max_iter=2000), demo_embeddings, y, cv=cv, method="predict_proba")
    tfidf = cross_val_predict(
        make_pipeline(TfidfVectorizer(), LogisticRegression(C=30, max_iter=2000)),
        np.asarray(demo_train.texts, dtype=object), y, cv=cv, method="predict_proba",
    )
    return [emb, tfidf]
