"""find-issues end to end with the detectors (trains tf-idf folds and embeds the demo: slow)."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from audit.detectors import DEFAULT_DETECTORS


@pytest.mark.slow
def test_find_issues_writes_detector_columns_summary_and_classes(tmp_path):
    from audit.cli.app import app

    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["find-issues", "--data", "demo", "--out", str(out), "--folds", "2",
                                   "--cache-dir", str(tmp_path / "cache")])
    assert res.exit_code == 0, res.output
    issues = pd.read_csv(out / "issues.csv", keep_default_na=False)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["detectors"]) == set(DEFAULT_DETECTORS)  # demo has a test split
    # the label_issues detector's flag, score and reason are is_label_issue / label_quality / reason
    columns = {name: (f"is_{name}", f"{name}_score", f"{name}_reason") for name in DEFAULT_DETECTORS}
    columns["label_issues"] = ("is_label_issue", "label_quality", "reason")
    assert "is_label_issues" not in issues and "label_issues_score" not in issues
    for name, (flag, score, reason) in columns.items():
        flagged = issues[flag].astype(str) == "True"
        assert flagged.sum() == summary["detectors"][name]["n_issues"]
        assert (issues.loc[flagged, reason] != "").all()
        assert issues[score].between(0, 1).all()
    classes = pd.read_csv(out / "classes.csv")
    assert len(classes) == summary["n_classes"] and classes["label_quality"].is_monotonic_increasing

    res = CliRunner().invoke(app, ["find-issues", "--data", "demo", "--out", str(out / "two"), "--folds", "2",
                                   "--cache-dir", str(tmp_path / "cache"), "--detector", "leakage",
                                   "--detector", "label_issues"])
    assert res.exit_code == 0, res.output
    assert set(json.loads((out / "two" / "summary.json").read_text())["detectors"]) == {"leakage", "label_issues"}
    assert not (out / "two" / "classes.csv").exists()
    res = CliRunner().invoke(app, ["find-issues", "--data", "demo", "--out", str(out / "bad"), "--folds", "2",
                                   "--cache-dir", str(tmp_path / "cache"), "--detector", "nope"])
    assert res.exit_code != 0 and "unknown detector 'nope'" in res.output
