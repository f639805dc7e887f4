"""CLI messages do not depend on the terminal width or on the length of the paths they name."""

import pytest
from typer.testing import CliRunner

from labelcore import cli as render
from audit.cli.app import app


@pytest.fixture
def narrow_terminal(monkeypatch):
    for console in (render.console, render.stderr):
        monkeypatch.setattr(console, "_width", 24)
    assert render.console.width == 24


def test_long_paths_are_never_wrapped_mid_message(issues_dir, tmp_path, narrow_terminal):
    out = tmp_path / ("a-folder-name-much-wider-than-the-terminal-" * 3) / "report.md"
    res = CliRunner().invoke(app, ["report", "--issues", str(issues_dir), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert f"Wrote {out} with 3 figure(s)" in res.output.splitlines()

    missing = tmp_path / ("no-such-folder-" * 6)
    bad = CliRunner().invoke(app, ["report", "--issues", str(missing), "--out", str(out)])
    assert bad.exit_code == 65
    assert any(str(missing) in line and "not a folder" in line for line in bad.output.splitlines())
