"""The report's reviewer-agreement section (audit report --annotations)."""

import csv
from dataclasses import fields

import pandas as pd
import pytest

from audit.agreement import read_votes, reviewer_agreement
from audit.labelstudio.annotations import Vote
from audit.report.build import write_report


def test_report_shows_the_agreement_of_the_annotations(issues_dir, tmp_path):
    issues = pd.read_csv(issues_dir / "issues.csv", dtype=str, keep_default_na=False)
    flagged = issues.head(8)
    path = tmp_path / "decisions.annotations.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([f.name for f in fields(Vote)])
        for t, rec in enumerate(flagged.to_dict("records")):
            for who in ("a@x", "b@x"):
                follow = who == "a@x" or t % 2 == 0   # b follows the models on every other task
                decision, label = ("relabel", rec["suggested_label"]) if follow else ("keep", rec["given_label"])
                w.writerow([t + 1, rec["example_id"], rec["row"], who, "2026-01-01", "ok", decision, label, "", ""])
    text = write_report(issues_dir, tmp_path / "report.md", annotations=path).read_text()
    assert "## Reviewer agreement" in text
    expected = reviewer_agreement(read_votes(path))
    section = text.split("## Reviewer agreement", 1)[1]
    assert f"{expected['krippendorff_alpha']:.3f}" in section
    assert f"{expected['cohen_kappa']:.3f}" in section
    assert expected["observed_agreement"] == pytest.approx(0.5)


def test_guidelines_section_for_data_pairs_with_the_reviewers_rule(issues_dir, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(issues_dir, run)
    pairs = pd.read_csv(run / "pairs.csv")
    pairs["diagnosis"] = ["data"] + ["capacity"] * (len(pairs) - 1)
    pairs.to_csv(run / "pairs.csv", index=False)
    a, b = pairs.loc[0, "label_a"], pairs.loc[0, "label_b"]
    issues = pd.read_csv(run / "issues.csv", dtype=str, keep_default_na=False)
    moved = issues[issues["given_label"] == a].head(3)
    path = tmp_path / "decisions.annotations.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([f.name for f in fields(Vote)])
        for t, rec in enumerate(moved.to_dict("records")):
            w.writerow([t + 1, rec["example_id"], rec["row"], "a@x", "2026-01-01", "ok", "relabel", b, "", ""])
    text = write_report(run, tmp_path / "report.md", annotations=path).read_text()
    section = text.split("## Guidelines for confused pairs", 1)[1].split("\n## ", 1)[0]
    assert section.count("\n### ") == 1                     # only the pair diagnosed as a data problem
    assert "discriminative words" in section
    assert "Reviewers decided 3 examples of the pair: 3" in section
