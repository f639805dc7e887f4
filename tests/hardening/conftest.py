"""Fixtures for the bad-input and misuse tests."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from audit.cli.app import app
from tests.report.issues_fixture import build_issues_dir



@pytest.fixture(scope="session")
def issues_dir(tmp_path_factory):
    return build_issues_dir(tmp_path_factory.mktemp("issues") / "run")


@pytest.fixture
def run_cli(cache_dir):
    def run(*args: str):
        argv = [str(a) for a in args]
        if argv and argv[0] in ("find-issues", "benchmark"):
            argv += ["--cache-dir", cache_dir]
        return CliRunner().invoke(app, argv)

    return run


@pytest.fixture
def no_training(monkeypatch):
    """Fail loudly if any fold trains: option errors must come before the work."""
    import audit.benchmark
    import audit.pipeline  # imported before patching, so their own names get patched, then restored
    import finetune.oof

    def refuse(*args, **kwargs):
        raise AssertionError("a model was trained before the options were checked")

    for module, name in ((finetune.oof, "cross_val_predict_proba_many"), (finetune.oof, "cross_val_predict_proba"),
                         (audit.pipeline, "cross_val_predict_proba_many"), (audit.benchmark, "cross_val_predict_proba")):
        monkeypatch.setattr(module, name, refuse)
