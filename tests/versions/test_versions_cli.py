import json

from typer.testing import CliRunner

from audit.cli.app import app

runner = CliRunner()


def test_apply_then_diff_from_the_command_line(demo, planted, make_row, write_decisions, tmp_path):
    tr = demo.train
    rows = [make_row(tr.example_ids[i], "relabel", tr.extra["true_label"][i]) for i in planted[:3]]
    rows.append(make_row("pair:card_arrival|card_delivery_estimate", "merge", "card_arrival"))
    path = write_decisions(rows)
    out = tmp_path / "v1"
    res = runner.invoke(app, ["apply", "--data", "demo", "--decisions", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "3 relabelled" in res.output and "card_delivery_estimate -> card_arrival" in res.output
    assert json.loads((out / "version.json").read_text())["counts"]["relabel"] == 3

    changes = tmp_path / "changes.csv"
    res = runner.invoke(app, ["diff", "demo", str(out), "--rows", "5", "--out", str(changes)])
    assert res.exit_code == 0, res.output
    assert "merged: card_delivery_estimate -> card_arrival" in res.output
    assert len(changes.read_text().splitlines()) == 1 + 3 + sum(
        1 for s in demo.splits.values() for n in s.label_names if n == "card_delivery_estimate")


def test_apply_reports_data_errors_with_exit_code(demo, make_row, write_decisions, tmp_path):
    path = write_decisions([make_row("nope", "drop")])
    res = runner.invoke(app, ["apply", "--data", "demo", "--decisions", str(path), "--out", str(tmp_path / "v")])
    assert res.exit_code == 65
    assert "decisions.csv, row 0, column 'example_id'" in res.output
    assert not (tmp_path / "v").exists()
