"""The commands through typer's CliRunner: exit codes and messages, against a real server."""

import pytest
from ls_fixtures import ROWS, write_issues_dir
from typer.testing import CliRunner

from audit.cli.app import app
from audit.labelstudio.server import find_free_port


pytestmark = pytest.mark.labelstudio
WRONG_KEY = "0123456789abcdef-not-the-key-0123456789"


def run(*args, env=None):
    return CliRunner().invoke(app, list(args), env=env)


def test_export_then_import_through_the_cli(tmp_path, ls_access):
    issues = write_issues_dir(tmp_path / "issues")
    result = run("export-labelstudio", "--issues", str(issues), "--project-title", "cli",
                 "--max-items", "3", "--max-pairs", "1")
    assert result.exit_code == 0, result.output
    assert "Manifest" in result.output and ls_access[1] not in result.output
    out = tmp_path / "decisions.csv"
    result = run("import-labelstudio", "--issues", str(issues), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "not annotated yet" in result.output and out.exists()


def test_a_wrong_key_exits_69_without_showing_the_key(tmp_path, ls_access):
    issues = write_issues_dir(tmp_path / "issues")
    result = run("export-labelstudio", "--issues", str(issues), "--api-key", WRONG_KEY)
    assert result.exit_code == 69
    assert "refused the API key" in result.output and WRONG_KEY not in result.output
    result = run("import-labelstudio", "--project", "1", "--out", str(tmp_path / "d.csv"),
                 env={"LABEL_STUDIO_API_KEY": WRONG_KEY})
    assert result.exit_code == 69 and WRONG_KEY not in result.output


def test_a_stopped_server_exits_69(tmp_path, ls_access):
    issues = write_issues_dir(tmp_path / "issues")
    result = run("export-labelstudio", "--issues", str(issues), "--url", f"http://127.0.0.1:{find_free_port()}")
    assert result.exit_code == 69 and "Cannot reach Label Studio" in result.output


def test_an_invalid_label_exits_65_naming_the_row(tmp_path, ls_access):
    rows = list(ROWS)
    rows[2] = (rows[2][0], rows[2][1], "card_arival", True)
    issues = write_issues_dir(tmp_path / "issues", rows)
    result = run("export-labelstudio", "--issues", str(issues))
    assert result.exit_code == 65
    assert "row 2" in result.output and "card_arival" in result.output
    assert not (issues / "labelstudio.json").exists()  # nothing was sent
