"""A diverged model (NaN / inf loss, weights or probabilities) is a ModelError (exit 70): it is
never saved by `finetune train`, and `finetune predict` writes nothing with it."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from labelcore.errors import ModelError
from finetune.cli import app

runner = CliRunner()


@pytest.fixture
def data(tmp_path):
    p = tmp_path / "d.csv"
    rows = "".join(f"{w} number {i},{w}\n" for w in ("apple", "berry", "cherry") for i in range(5))
    p.write_text("text,label\n" + rows)
    return p


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_train_that_predicts_non_finite_saves_nothing(tmp_path, data, monkeypatch, bad):
    from finetune.backends import tfidf

    real_fit = tfidf.fit_logistic_regression

    def diverging_fit(*a, **k):
        model = real_fit(*a, **k)
        model.coef_[:] = bad  # what a diverged optimiser leaves behind
        return model

    monkeypatch.setattr(tfidf, "fit_logistic_regression", diverging_fit)
    out = tmp_path / "model"
    result = runner.invoke(app, ["train", "--data", str(data), "--backend", "tfidf-lr", "--out", str(out)])
    assert result.exit_code == 70, (result.output, result.exception)
    assert "NaN or infinite" in result.output and "lower the learning rate" in result.output
    assert not out.exists()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_predict_with_non_finite_weights_exits_70_and_writes_nothing(tmp_path, data, bad):
    model = tmp_path / "model"
    assert runner.invoke(app, ["train", "--data", str(data), "--backend", "tfidf-lr", "--out", str(model)]).exit_code == 0
    ok = runner.invoke(app, ["predict", "--model", str(model), "--data", str(data), "--out", str(tmp_path / "ok.csv")])
    assert ok.exit_code == 0, ok.output  # predict works for every backend that saves (tfidf-lr here)
    with np.load(model / "weights.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["coef"][:] = bad
    with open(model / "weights.npz", "wb") as f:
        np.savez(f, **arrays)
    out = tmp_path / "probs.csv"
    before = data.read_bytes()
    result = runner.invoke(app, ["predict", "--model", str(model), "--data", str(data), "--out", str(out)])
    assert result.exit_code == 70, (result.output, result.exception)
    assert "NaN or infinite" in result.output
    assert not out.exists() and data.read_bytes() == before


def test_lm_divergence_checks_loss_and_weights():
    torch = pytest.importorskip("torch")
    from finetune.backends.lm.estimator import check_finite_training

    model = torch.nn.Linear(3, 2)
    check_finite_training(model, [{"loss": 1.2}, {"train_loss": 0.9}], backend="full", lr=1e-3)
    for log in ([{"loss": float("nan")}], [{"loss": 1.0}, {"train_loss": float("inf")}]):
        with pytest.raises(ModelError, match="diverged: the training loss"):
            check_finite_training(model, log, backend="full", lr=10.0)
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    with pytest.raises(ModelError, match="diverged: the trained weights"):
        check_finite_training(model, [{"loss": 1.0}], backend="lora", lr=10.0)
    model.weight.requires_grad_(False)  # frozen (e.g. a quantised base): not ours to judge
    check_finite_training(model, [{"loss": 1.0}], backend="lora", lr=10.0)
