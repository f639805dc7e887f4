"""The Python API as documented: the example in docs/python-api.md runs and finds the errors."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import audit
from labelcore.errors import ConfigError, DataError

DOC = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"


def test_the_documented_example_runs(monkeypatch, tmp_path, demo):
    monkeypatch.setenv("LABEL_AUDIT_CACHE", str(tmp_path / "cache"))
    code = "\n".join(re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S))
    scope: dict = {}
    exec(compile(code, str(DOC), "exec"), scope)
    flagged = scope["flagged"]
    truth = dict(zip(demo.train.example_ids, demo.train.extra["true_label"]))
    wrong = (flagged["example_id"].map(truth) != flagged["given_label"]).mean()
    assert len(flagged) > 10 and wrong > 0.5  # most flags are planted errors
    assert isinstance(scope["result"].pairs, pd.DataFrame)


def test_every_kind_of_input_gives_the_same_audit(tmp_path, demo):
    import datasets

    frame = pd.DataFrame({"text": demo.train.texts, "label": demo.train.label_names})
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    kw = dict(backends=["tfidf-lr:char_ngrams=0"], n_folds=2, rounds=1, detectors=["label_issues"], cache_dir=None)
    results = [audit.find_issues(d, **kw) for d in (frame, datasets.Dataset.from_pandas(frame), str(path))]
    for r in results[1:]:
        pd.testing.assert_frame_equal(r.issues[["example_id", "label_quality", "is_label_issue"]],
                                      results[0].issues[["example_id", "label_quality", "is_label_issue"]])
    out = tmp_path / "run"
    audit.find_issues(frame, out=out, **kw)
    assert (out / "issues.csv").exists() and (out / "summary.json").exists()


def test_bad_arguments_are_our_errors(demo):
    frame = pd.DataFrame({"text": demo.train.texts, "label": demo.train.label_names})
    with pytest.raises(ConfigError, match="unknown option"):
        audit.find_issues(frame, n_fold=3)
    with pytest.raises(ConfigError, match="filter_by"):
        audit.find_issues(frame, filter_by="nope")
    with pytest.raises(DataError, match="column"):
        audit.find_issues(frame, text_column="utterance")
    with pytest.raises(DataError, match="cannot load"):
        audit.find_issues(42)
