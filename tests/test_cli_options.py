"""Option errors are a ConfigError-style exit 64 with a message, before any training, and
write nothing: unknown choices, negative seeds, too few folds, out-of-range numbers, unknown
backends, and --out naming an existing file, a directory where a file is wanted, or a place
under a regular file (tests run as root, so 'not writable' is tested with a path under a file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from audit.cli.app import app
from finetune.cli import app as finetune_app

runner = CliRunner()


@pytest.fixture
def place(tmp_path):
    """tmp_path with a regular file `afile` and a directory `adir` in it (and a tiny CSV)."""
    (tmp_path / "afile").write_text("keep me\n")
    (tmp_path / "adir").mkdir()
    (tmp_path / "adir" / "old.txt").write_text("old\n")
    rows = "".join(f"{w} number {i},{w}\n" for w in ("apple", "berry") for i in range(4))
    (tmp_path / "d.csv").write_text("text,label\n" + rows)
    return tmp_path


@pytest.fixture(autouse=True)
def no_training(monkeypatch):
    """Any training is a test failure: option errors must come first."""
    from finetune.backends.tfidf import TfidfLRBackend

    def trained(self, *a, **k):
        raise AssertionError("a model was trained before the option error")

    monkeypatch.setattr(TfidfLRBackend, "fit", trained)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


FIND = ["find-issues", "--data", "{d}", "-b", "tfidf-lr", "--no-cache", "--jobs", "1"]
BENCH = ["benchmark", "--data", "demo", "-b", "tfidf-lr", "--jobs", "1", "--cache-dir", "{t}/cache"]
RETRAIN = ["retrain", "--before", "demo", "--after", "demo", "--backend", "tfidf-lr", "--seeds", "1"]
REPORT = ["report", "--issues", "{t}/adir"]

# (name, command line, words the message must contain)
AUDIT_CASES = [
    ("find unknown filter-by", [*FIND, "--filter-by", "bogus", "--out", "{t}/o"], "bogus"),
    ("find unknown weights", [*FIND, "--weights", "heavy", "--out", "{t}/o"], "heavy"),
    ("find negative seed", [*FIND, "--seed", "-1", "--out", "{t}/o"], "--seed"),
    ("find huge seed", [*FIND, "--seed", str(2**32), "--out", "{t}/o"], "seed"),
    ("find one fold", [*FIND, "--folds", "1", "--out", "{t}/o"], "folds"),
    ("find zero folds", [*FIND, "--folds", "0", "--out", "{t}/o"], "folds"),
    ("find negative folds", [*FIND, "--folds", "-3", "--out", "{t}/o"], "folds"),
    ("find rounds 3", [*FIND, "--rounds", "3", "--out", "{t}/o"], "rounds"),
    ("find out is a file", [*FIND, "--out", "{t}/afile"], "is a file"),
    ("find out under a file", [*FIND, "--out", "{t}/afile/run"], "is a file"),
    ("find out deep under a file", [*FIND, "--out", "{t}/afile/a/b/c"], "is a file"),
    ("find unknown backend", ["find-issues", "--data", "{d}", "-b", "xgb", "--no-cache", "--out", "{t}/o"], "xgb"),
    ("find bad backend option", ["find-issues", "--data", "{d}", "-b", "tfidf-lr:C=-1", "--no-cache", "--out", "{t}/o"], "C must be"),
    ("find unknown option", [*FIND, "--fold", "3", "--out", "{t}/o"], "--fold"),
    ("find missing out", [*FIND], "--out"),
    ("bench unknown noise", [*BENCH, "--noise", "loud", "--out", "{t}/o"], "loud"),
    ("bench negative seed", [*BENCH, "--seed", "-5", "--out", "{t}/o"], "--seed"),
    ("bench one fold", [*BENCH, "--folds", "1", "--out", "{t}/o"], "folds"),
    ("bench rate above range", [*BENCH, "--rate", "1.5", "--out", "{t}/o"], "rate"),
    ("bench out is a file", [*BENCH, "--out", "{t}/afile"], "is a file"),
    ("bench out under a file", [*BENCH, "--out", "{t}/afile/x"], "is a file"),
    ("bench bad pair", [*BENCH, "--noise", "pairs", "--pair", "nocolon", "--out", "{t}/o"], "LABEL_A:LABEL_B"),
    ("bench unknown retrain backend", [*BENCH, "--loop", "--retrain-backend", "xgb", "--out", "{t}/o"], "xgb"),
    ("retrain out is a file", [*RETRAIN, "--out", "{t}/afile"], "is a file"),
    ("retrain out under a file", [*RETRAIN, "--out", "{t}/afile/r"], "is a file"),
    ("retrain confidence 1.5", [*RETRAIN, "--confidence", "1.5", "--out", "{t}/o"], "confidence"),
    ("retrain confidence 0", [*RETRAIN, "--confidence", "0", "--out", "{t}/o"], "confidence"),
    ("retrain unknown second backend", [*RETRAIN, "--backend", "xgb", "--out", "{t}/o"], "xgb"),
    ("retrain zero seeds", [*RETRAIN, "--seeds", "0", "--out", "{t}/o"], "seeds"),
    ("report unknown bar-on", [*REPORT, "--bar-on", "train", "--out", "{t}/r.md"], "train"),
    ("report out is a directory", [*REPORT, "--out", "{t}/adir"], "folder"),
    ("report out under a file", [*REPORT, "--out", "{t}/afile/r.md"], "is a file"),
    ("report negative top", [*REPORT, "--top", "-1", "--out", "{t}/r.md"], "top"),
    ("report html under a file", [*REPORT, "--html", "--out", "{t}/afile/r.md"], "is a file"),
]

FINETUNE_CASES = [
    ("train out is a file", ["train", "--data", "{d}", "--backend", "tfidf-lr", "--out", "{t}/afile"], "is a file"),
    ("train out under a file", ["train", "--data", "{d}", "--backend", "tfidf-lr", "--out", "{t}/afile/m"], "is a file"),
    ("train unknown backend", ["train", "--data", "{d}", "--backend", "xgb", "--out", "{t}/m"], "xgb"),
    ("train bad backend option", ["train", "--data", "{d}", "--backend", "tfidf-lr:max_iter=many", "--out", "{t}/m"], "max_iter"),
    ("predict out is a directory", ["predict", "--model", "{t}/adir", "--data", "{d}", "--out", "{t}/adir"], "folder"),
    ("predict out under a file", ["predict", "--model", "{t}/adir", "--data", "{d}", "--out", "{t}/afile/p.csv"], "is a file"),
    ("predict unknown option", ["predict", "--modle", "{t}/adir", "--data", "{d}", "--out", "{t}/p.csv"], "--modle"),
]


def _fill(args, root: Path) -> list[str]:
    return [a.format(t=root, d=root / "d.csv") for a in args]


def _check(result, place: Path, before: dict, words: str) -> None:
    assert result.exit_code == 64, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert words.lower() in result.output.lower(), result.output
    assert snapshot(place) == before  # nothing written, nothing changed
    assert not (place / "o").exists() and not (place / "m").exists()


@pytest.mark.parametrize("name,args,words", AUDIT_CASES, ids=[c[0] for c in AUDIT_CASES])
def test_audit_option_errors_exit_64_before_training(place, name, args, words):
    before = snapshot(place)
    result = runner.invoke(app, _fill(args, place))
    _check(result, place, before, words)


@pytest.mark.parametrize("name,args,words", FINETUNE_CASES, ids=[c[0] for c in FINETUNE_CASES])
def test_finetune_option_errors_exit_64_before_training(place, name, args, words):
    before = snapshot(place)
    result = runner.invoke(finetune_app, _fill(args, place))
    _check(result, place, before, words)


def test_output_checks_accept_new_and_existing_folders(tmp_path):
    from labelcore.io import check_output_dir, check_output_file

    assert check_output_dir(tmp_path) == tmp_path
    assert check_output_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    check_output_file(tmp_path / "new" / "r.md")
    assert not (tmp_path / "new").exists()  # checks create nothing


def test_library_settings_reject_options_before_training():
    from labelcore.errors import ConfigError
    from audit.settings import AuditSettings

    for kwargs in ({"filter_by": "bogus"}, {"weights": "heavy"}, {"seed": -1}, {"n_folds": 1}):
        with pytest.raises(ConfigError):
            AuditSettings(**kwargs)
