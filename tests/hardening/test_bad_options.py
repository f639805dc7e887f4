"""Option errors come before any training, as one clear line and exit code 64."""

from __future__ import annotations

import pytest

from audit.settings import AuditSettings
from labelcore.errors import ConfigError
from misuse_helpers import snapshot, tiny_frame

BAD = [
    (["--filter-by", "prune_by_nois_rate"], "did you mean 'prune_by_noise_rate'"),
    (["--weights", "loss"], "unknown weights"),
    (["--seed", "-1"], "seed"),
    (["--folds", "1"], "folds"),
    (["--rounds", "3"], "rounds"),
    (["--jobs", "0"], "jobs"),
    (["--detector", "nope"], "unknown detector 'nope'"),
    (["-b", "no-such-backend"], "no-such-backend"),
    (["-b", "tfidf-lr:C=-1"], "C"),
]


@pytest.mark.parametrize("extra, words", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_options_fail_before_training(run_cli, tmp_path, no_training, extra, words):
    data = tmp_path / "data.csv"
    tiny_frame().to_csv(data, index=False)
    before = snapshot(tmp_path)
    res = run_cli("find-issues", "--data", data, "--out", tmp_path / "run", *extra)
    assert res.exit_code in (2, 64), res.output  # 2: typer's own range checks
    assert words in res.output and "Traceback" not in res.output
    assert snapshot(tmp_path) == before


def test_settings_check_every_field():
    for bad in ({"n_folds": 1}, {"seed": -3}, {"seed": 1.5}, {"rounds": True}, {"filter_by": "x"},
                {"weights": "log-loss"}, {"n_jobs": 0}, {"noise_aware": "yes"}, {"detectors": ("nope",)},
                {"detector_options": {"label_issues": {"filter_by": "both"}}}):
        with pytest.raises(ConfigError):
            AuditSettings(**bad)
    with pytest.raises(ConfigError, match="unknown option"):
        AuditSettings.from_options(n_fold=3)
    assert AuditSettings(detectors=("duplicates",)).detectors == ("duplicates",)


def test_single_class_data_is_a_data_error_before_training(run_cli, tmp_path, no_training):
    data = tmp_path / "one.csv"
    frame = tiny_frame()
    frame["label"] = "card"
    frame.to_csv(data, index=False)
    res = run_cli("find-issues", "--data", data, "--out", tmp_path / "run", "-b", "tfidf-lr")
    assert res.exit_code == 65 and "only one label" in res.output, res.output
    assert not (tmp_path / "run").exists()


def test_a_missing_local_path_is_not_taken_for_a_hub_id(run_cli, tmp_path):
    (tmp_path / "versions").mkdir()
    missing = tmp_path / "versions" / "b77-v1"
    for args in (["diff", "demo", str(missing)],
                 ["retrain", "--before", "demo", "--after", str(missing), "-b", "tfidf-lr", "--out", str(tmp_path / "r")]):
        res = run_cli(*args)
        assert res.exit_code == 65 and "no such file or folder" in res.output, res.output
        assert "hub" not in res.output.split("(")[0]
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:  # a relative org/name whose first part is a local folder is a local path too
        res = run_cli("diff", "demo", "versions/b77-v1")
        assert res.exit_code == 65 and "no such file or folder" in res.output, res.output
    finally:
        os.chdir(cwd)
