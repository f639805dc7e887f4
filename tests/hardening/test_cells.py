"""What people open stays harmless: formula cells neutralised, markup shown as typed,
giant cells cut in the short report; our own readers give back exactly what was written."""

from __future__ import annotations

import csv

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.formats.run_folder import read_run_folder
from audit.labelstudio.tasks import read_review_source
from labelcore.spreadsheet import TRIGGERS, neutralise_cell, restore_cell
from misuse_helpers import FAST

EVIL = ["=HYPERLINK(\"http://x\",\"click\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "'=already quoted", "''+two"]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text())
def test_neutralising_is_lossless_and_leaves_no_formula(text):
    cell = neutralise_cell(text)
    assert restore_cell(cell) == text
    assert not cell[:1] in TRIGGERS or cell == text == ""


def test_csvs_for_people_hold_no_formula_and_read_back_exactly(run_cli, tmp_path):
    frame = pd.DataFrame({
        "text": [f"{e} where is my card {i}" if i % 2 else e for i, e in enumerate(EVIL * 2)]
        + [f"top up please {i}" for i in range(14)],
        "label": ["=cmd|' /C calc'!A0"] * 14 + ["+top_up"] * 14,
    })
    data = tmp_path / "evil.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "run"
    res = run_cli("find-issues", "--data", data, "--out", out, *FAST)
    assert res.exit_code == 0, res.output
    for name in ("issues.csv", "pairs.csv"):
        with open(out / name, newline="") as fh:
            for row in csv.reader(fh):
                assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row), (name, row)
    run = read_run_folder(out)
    assert sorted(run.issues["text"]) == sorted(frame["text"])
    assert set(run.issues["given_label"]) == {"=cmd|' /C calc'!A0", "+top_up"}
    assert set(run.pairs["label_a"]) | set(run.pairs["label_b"]) <= set(run.issues["given_label"])
    assert sorted(read_review_source(out).issues["text"]) == sorted(frame["text"])


def test_markup_in_labels_is_printed_as_typed(run_cli, tmp_path):
    frame = pd.DataFrame({"text": [f"where is my card {i}" for i in range(8)] + [f"top up now {i}" for i in range(8)],
                          "label": ["[bold]card[/bold]"] * 8 + ["[link](http://x)"] * 8})
    frame.loc[[0, 1, 8, 9], "label"] = ["[link](http://x)"] * 2 + ["[bold]card[/bold]"] * 2  # a confused pair
    data = tmp_path / "markup.csv"
    frame.to_csv(data, index=False)
    res = run_cli("find-issues", "--data", data, "--out", tmp_path / "run", *FAST)
    assert res.exit_code == 0, res.output
    assert "[bold]card[/bold]" in res.output and "[link](http://x)" in res.output


def test_a_giant_text_cell_is_cut_in_the_short_report(run_cli, tmp_path):
    frame = pd.DataFrame({"text": [f"where is my card {i}" for i in range(8)] + [f"top up now {i}" for i in range(8)],
                          "label": ["card"] * 8 + ["top_up"] * 8})
    frame.loc[0, ["text", "label"]] = ["how do I top up " + "x" * 1_000_000, "card"]  # mislabelled: it is flagged
    data = tmp_path / "big.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "run"
    res = run_cli("find-issues", "--data", data, "--out", out, *FAST)
    assert res.exit_code == 0, res.output
    assert (out / "report.md").stat().st_size < 20_000
    assert len(read_run_folder(out).issues["text"].str.len().max() * "x") == 1_000_016  # kept whole in issues.csv
