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


def _run_with_one_data_pair(issues_dir, tmp_path):
    """A copy of the run folder whose first pair is diagnosed a data problem (the others
    capacity). Returns (folder, label_a, label_b)."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(issues_dir, run)
    pairs = pd.read_csv(run / "pairs.csv")
    pairs["diagnosis"] = ["data"] + ["capacity"] * (len(pairs) - 1)
    pairs.to_csv(run / "pairs.csv", index=False)
    return run, pairs.loc[0, "label_a"], pairs.loc[0, "label_b"]


def test_guidelines_section_for_data_pairs_with_the_reviewers_rule(issues_dir, tmp_path):
    run, a, b = _run_with_one_data_pair(issues_dir, tmp_path)
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


def _write_votes(path, records, vote_of):
    """One decisions.annotations.csv: annotators a@x and b@x on every record;
    ``vote_of(task, who, rec)`` -> (decision, label)."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([f.name for f in fields(Vote)])
        for t, rec in enumerate(records):
            for who in ("a@x", "b@x"):
                decision, label = vote_of(t, who, rec)
                w.writerow([t + 1, rec["example_id"], rec["row"], who, "2026-01-01", "ok", decision, label, "", ""])
    return path


def test_report_shows_whether_agreement_on_a_pair_rose_between_rounds(issues_dir, tmp_path):
    from audit.agreement import agreement_by_round, labels_from_issues

    run, a, b = _run_with_one_data_pair(issues_dir, tmp_path)
    issues = pd.read_csv(run / "issues.csv", dtype=str, keep_default_na=False)
    rows = issues.index[issues["given_label"] == a][:6]
    assert len(rows) == 6
    issues.loc[rows, "suggested_label"] = b  # six flagged rows of the pair a -> b
    issues.to_csv(run / "issues.csv", index=False)
    records = issues.loc[rows].to_dict("records")

    # round 1: b@x keeps the given label on half the tasks; round 2 (after the guideline): both relabel
    first = _write_votes(tmp_path / "r1.csv", records, lambda t, who, rec: ("keep", a) if who == "b@x" and t % 2
                         else ("relabel", b))
    second = _write_votes(tmp_path / "r2.csv", records, lambda t, who, rec: ("relabel", b))
    expected = agreement_by_round([read_votes(first), read_votes(second)], labels=labels_from_issues(issues))
    (pair,) = [p for p in expected["per_pair"] if {p["label_a"], p["label_b"]} == {a, b}]
    assert pair["observed_agreement"] == [pytest.approx(0.5), pytest.approx(1.0)]
    assert pair["verdict"] == "rose" and pair["change"] == pytest.approx(0.5)

    text = write_report(run, tmp_path / "report.md", annotations=[first, second]).read_text()
    agreement = text.split("## Reviewer agreement", 1)[1]
    assert "### Across 2 review rounds" in agreement and "### Round 2 (the latest)" in agreement
    assert "0.500 (6)" in agreement and "1.000 (6)" in agreement and "+0.500" in agreement
    guideline = text.split("## Guidelines for confused pairs", 1)[1].split("\n## ", 1)[0]
    assert "Reviewer agreement on this pair by round: 0.50 (6 tasks) -> 1.00 (6 tasks); it rose (+0.50)." in guideline

    # the other way round, it fell; one file keeps the one-round section
    text = write_report(run, tmp_path / "report.md", annotations=[second, first]).read_text()
    assert "it fell (-0.50)." in text
    text = write_report(run, tmp_path / "report.md", annotations=first).read_text()
    assert "review rounds" not in text and "by round" not in text


def test_agreement_by_round_needs_enough_tasks_of_a_pair_in_two_rounds():
    from audit.agreement import agreement_by_round

    def votes(n_tasks, agree):
        rows = []
        for t in range(n_tasks):
            for who in ("a", "b"):
                vote = "relabel->y" if agree or who == "a" else "keep->x"
                rows.append({"task_id": str(t), "example_id": f"e{t}", "annotator": who, "vote": vote})
        return pd.DataFrame(rows)

    labels = {f"e{t}": ("x", "y") for t in range(10)}
    result = agreement_by_round([votes(3, False), votes(8, True)], labels=labels)
    (pair,) = result["per_pair"]
    assert pair["n_tasks"] == [0, 8] and pair["observed_agreement"] == [None, 1.0]
    assert pair["verdict"] == "one round" and pair["change"] is None
    assert [r["n_tasks_multi"] for r in result["rounds"]] == [3, 8]
