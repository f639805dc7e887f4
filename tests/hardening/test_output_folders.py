"""Outputs are written whole or not at all, and never over the user's data."""

from __future__ import annotations

import pandas as pd
import pytest

from misuse_helpers import FAST, snapshot, tiny_frame


@pytest.fixture
def data_dir(tmp_path):
    """A user's folder: the data file beside unrelated files."""
    folder = tmp_path / "project"
    folder.mkdir()
    tiny_frame().to_csv(folder / "data.csv", index=False)
    (folder / "notes.txt").write_text("my notes")
    return folder


def test_find_issues_never_writes_over_or_around_the_source(run_cli, data_dir, no_training):
    before = snapshot(data_dir.parent)
    for out in (data_dir, data_dir / "data.csv", data_dir.parent):
        res = run_cli("find-issues", "--data", data_dir / "data.csv", "--out", out, *FAST)
        assert res.exit_code == 64, res.output
        assert "Traceback" not in res.output
    assert snapshot(data_dir.parent) == before


def test_apply_overwrite_never_deletes_the_source_or_its_neighbours(run_cli, data_dir, tmp_path):
    decisions = tmp_path / "decisions.csv"
    pd.DataFrame([{"example_id": "x", "decision": "keep", "new_label": ""}]).to_csv(decisions, index=False)
    res = run_cli("find-issues", "--data", data_dir / "data.csv", "--out", tmp_path / "run", *FAST)
    assert res.exit_code == 0, res.output
    ids = pd.read_csv(tmp_path / "run" / "issues.csv", dtype=str)["example_id"]
    pd.DataFrame([{"example_id": ids[0], "decision": "keep", "new_label": ""}]).to_csv(decisions, index=False)
    before = snapshot(tmp_path)
    for out in (data_dir, data_dir / "data.csv", tmp_path):  # the data's folder, the file, a folder holding both
        res = run_cli("apply", "--data", data_dir / "data.csv", "--decisions", decisions, "--out", out, "--overwrite")
        assert res.exit_code == 64 and "never modified" in res.output, res.output
    assert snapshot(tmp_path) == before

    # a version overwritten by itself, or by a version written into its own folder
    v1 = tmp_path / "v1"
    assert run_cli("apply", "--data", data_dir / "data.csv", "--decisions", decisions, "--out", v1).exit_code == 0
    before = snapshot(v1)
    for out in (v1, v1 / "inner"):
        res = run_cli("apply", "--data", v1, "--decisions", decisions, "--out", out, "--overwrite")
        assert res.exit_code == 64, res.output
    assert snapshot(v1) == before
    # the decisions file inside the folder to be replaced is an input too
    inside = v1 / "decisions.csv"
    res = run_cli("apply", "--data", data_dir / "data.csv", "--decisions", inside, "--out", v1, "--overwrite")
    assert res.exit_code == 64 and snapshot(v1) == before


def test_a_rerun_replaces_the_whole_run_folder_and_keeps_foreign_files(run_cli, data_dir, tmp_path):
    out = tmp_path / "run"
    res = run_cli("find-issues", "--data", data_dir / "data.csv", "--out", out, "-b", "tfidf-lr:char_ngrams=0",
                  "--folds", "2", "--rounds", "1", "--detector", "label_issues", "--detector", "class_quality")
    assert res.exit_code == 0, res.output
    assert (out / "classes.csv").exists()
    (out / "decisions.csv").write_text("example_id,decision,new_label\n")  # a reviewer's work beside the run
    res = run_cli("find-issues", "--data", data_dir / "data.csv", "--out", out, *FAST)
    assert res.exit_code == 0, res.output
    assert not (out / "classes.csv").exists()  # not written by this run: not left behind stale
    assert (out / "decisions.csv").read_text() == "example_id,decision,new_label\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folders left


def test_a_failed_run_leaves_the_previous_folder_as_it_was(run_cli, data_dir, tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert run_cli("find-issues", "--data", data_dir / "data.csv", "--out", out, *FAST).exit_code == 0
    before = snapshot(out)
    import audit.report.short_report

    def boom(result, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(audit.report.short_report, "short_report", boom)
    res = run_cli("find-issues", "--data", data_dir / "data.csv", "--out", out, *FAST)
    assert res.exit_code == 130
    assert snapshot(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_out_must_be_a_writable_folder_ours_to_replace(run_cli, data_dir, tmp_path, no_training):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("years of work")
    for out, words in ((a_file, "is a file"), (a_file / "sub", "cannot create"), (foreign, "did not write")):
        res = run_cli("find-issues", "--data", data_dir / "data.csv", "--out", out, *FAST)
        assert res.exit_code == 64 and words in res.output, res.output
    assert (foreign / "thesis.tex").read_text() == "years of work" and a_file.read_text() == "x"


def test_report_replaces_its_figures_and_refuses_a_folder(issues_dir, tmp_path, run_cli):
    out = tmp_path / "site" / "report.md"
    assert run_cli("report", "--issues", issues_dir, "--out", out).exit_code == 0
    stale = out.parent / "report-old-figure.png"
    stale.write_bytes(b"\x89PNG")
    (out.parent / "other-figure.png").write_bytes(b"\x89PNG")  # not this report's
    assert run_cli("report", "--issues", issues_dir, "--out", out).exit_code == 0
    assert not stale.exists() and (out.parent / "other-figure.png").exists()
    res = run_cli("report", "--issues", issues_dir, "--out", out.parent)
    assert res.exit_code == 64 and "is a folder" in res.output
