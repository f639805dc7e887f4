"""The ``finetune`` CLI: tiny-model -> train -> predict on a CSV, and its exit codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from finetune.cli import app

runner = CliRunner()


@pytest.fixture()
def csv_file(tmp_path, toy_data):
    texts, labels = toy_data
    path = tmp_path / "train.csv"
    pd.DataFrame({"utterance": texts, "intent": labels}).to_csv(path, index=False)
    return path


def test_tiny_model_train_predict(tmp_path, csv_file, toy_data):
    model_dir = tmp_path / "tiny"
    result = runner.invoke(app, ["tiny-model", str(model_dir), "--arch", "qwen2", "--hidden", "32"])
    assert result.exit_code == 0, result.output
    assert (model_dir / "config.json").is_file() and (model_dir / "tokenizer.json").is_file()

    run = tmp_path / "run"
    spec = f"lora:{model_dir},head=classifier,epochs=1,batch_size=8,progress=false"
    result = runner.invoke(app, ["train", "--data", str(csv_file), "--text-column", "utterance",
                                 "--label-column", "intent", "--backend", spec, "--out", str(run)])
    assert result.exit_code == 0, result.output
    assert (run / "backend.json").is_file() and list((run / "checkpoints").glob("run-*/checkpoint-*"))

    out = tmp_path / "probs.csv"
    result = runner.invoke(app, ["predict", "--model", str(run), "--data", str(csv_file),
                                 "--text-column", "utterance", "--out", str(out)])
    assert result.exit_code == 0, result.output
    probs = pd.read_csv(out)
    columns = [f"proba__{label}" for label in sorted(set(toy_data[1]))]
    assert list(probs.columns) == ["row", "predicted_label", *columns]
    assert len(probs) == len(toy_data[0])
    np.testing.assert_allclose(probs[columns].sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(
        probs["predicted_label"], [c.removeprefix("proba__") for c in np.array(columns)[probs[columns].to_numpy().argmax(1)]]
    )


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["--backend", "full:/no/such/model"], 70, "does not exist"),
        (["--backend", "full:m,head=regression"], 64, "head"),
        (["--backend", "full:m", "--label-column", "missing"], 65, "missing"),
    ],
)
def test_train_errors_have_exit_codes(tmp_path, csv_file, args, code, fragment):
    base = ["train", "--data", str(csv_file), "--text-column", "utterance", "--label-column", "intent", "--out", str(tmp_path / "o")]
    result = runner.invoke(app, base + args)
    assert result.exit_code == code, result.output
    assert fragment in result.output


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("train", "predict", "tiny-model"):
        assert command in result.output
