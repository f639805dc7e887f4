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


def test_a_run_without_an_embedding_backend_embeds_nothing_unless_a_detector_is_named(tmp_path, monkeypatch):
    """-b tfidf-lr: the default detectors that need sentence embeddings are skipped (with the
    reason in summary.json), duplicates runs on exact matches only, and no text is embedded;
    naming an embedding detector embeds on demand."""
    from audit.pipeline import find_issues
    from finetune.backends import parse_backend_spec
    from finetune.embeddings import EmbeddingStore
    from labelcore.data import load_data

    demo = load_data("demo")
    calls = []
    real = EmbeddingStore.encode
    monkeypatch.setattr(EmbeddingStore, "encode", lambda self, texts: calls.append(len(texts)) or real(self, texts))
    tfidf = [parse_backend_spec("tfidf-lr")]
    quick = find_issues(demo.train, tfidf, n_folds=2, rounds=1, test=demo.test)
    assert calls == []
    assert "outliers" not in quick.detectors and "outliers" in quick.summary.detectors_skipped
    assert "minilm" in quick.summary.detectors_skipped["outliers"]
    assert quick.detectors["duplicates"].info["used_embeddings"] is False
    named = find_issues(demo.train, tfidf, n_folds=2, rounds=1, detectors=["outliers", "duplicates"])
    assert calls and set(named.detectors) == {"outliers", "duplicates"} and not named.summary.detectors_skipped
    assert named.detectors["duplicates"].info["used_embeddings"] is True
