"""`audit find-issues` end to end on the built-in demo, and its errors."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from audit.cli.app import app

runner = CliRunner()


def test_find_issues_on_demo_writes_every_file(tmp_path, cache_dir, demo):
    out = tmp_path / "run"
    result = runner.invoke(app, ["find-issues", "--data", "demo", "-b", "tfidf-lr", "--out", str(out),
                                 "--cache-dir", cache_dir, "--jobs", "1"])
    assert result.exit_code == 0, result.output
    issues = pd.read_csv(out / "issues.csv")
    required = {"row", "example_id", "text", "given_label", "suggested_label", "label_quality",
                "is_label_issue", "pred__tfidf-lr", "n_models_disagree", "reason"}
    assert required <= set(issues.columns)
    assert len(issues) == len(demo.train) and issues["label_quality"].is_monotonic_increasing
    # flags find the planted flips of the demo far better than chance
    truth = dict(zip(demo.train.example_ids, demo.train.extra["true_label"]))
    flagged = issues[issues["is_label_issue"]]
    hit = (flagged["example_id"].map(truth) != flagged["given_label"]).mean()
    assert len(flagged) > 0 and hit > 0.5
    pairs = pd.read_csv(out / "pairs.csv")
    assert list(pairs.columns[:2]) == ["label_a", "label_b"]
    assert {pairs.loc[0, "label_a"], pairs.loc[0, "label_b"]} == {"card_arrival", "card_delivery_estimate"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["classes"] == list(demo.classes) and summary["n_label_issues"] == len(flagged)
    report = (out / "report.md").read_text()
    assert "card_arrival" in report and "| row | text |" in report


def test_bad_input_exits_non_zero_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,a\n,b\n")
    out = tmp_path / "run"
    result = runner.invoke(app, ["find-issues", "--data", str(bad), "--out", str(out), "--no-cache"])
    assert result.exit_code == 65
    assert "bad.csv, row 1, column 'text'" in result.output
    assert not out.exists()


def test_unknown_backend_is_an_option_error(tmp_path):
    result = runner.invoke(app, ["find-issues", "--data", "demo", "-b", "xgb", "--out", str(tmp_path / "o")])
    assert result.exit_code == 64 and "unknown backend 'xgb'" in result.output


def test_too_few_examples_for_the_folds(tmp_path):
    data = tmp_path / "small.csv"
    data.write_text("text,label\n" + "".join(f"t{i},{'ab'[i % 2]}\n" for i in range(6)))
    result = runner.invoke(app, ["find-issues", "--data", str(data), "-b", "tfidf-lr", "--folds", "5",
                                 "--out", str(tmp_path / "o"), "--no-cache"])
    assert result.exit_code == 65 and "fewer examples than the 5 folds" in result.output
