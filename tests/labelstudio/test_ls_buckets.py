"""Review tasks: issue tasks grouped by bucket, pair tasks with a draft guideline (no server)."""

import pandas as pd
from ls_fixtures import ROWS, write_issues_dir

from audit.buckets import BUCKETS, buckets_of_issues
from audit.labelstudio.config import build_issue_config, load_interface
from audit.labelstudio.tasks import build_issue_tasks, build_pair_tasks, read_review_source


def test_tasks_are_grouped_by_bucket_and_carry_it(issues_dir):
    path = issues_dir / "issues.csv"
    issues = pd.read_csv(path, dtype=str, keep_default_na=False)
    issues["is_outliers"] = ["True" if i == 0 else "False" for i in range(len(issues))]  # row 0: not a label issue
    issues["bucket"] = buckets_of_issues(issues)
    issues.to_csv(path, index=False)
    src = read_review_source(issues_dir)
    tasks = build_issue_tasks(src, load_interface(build_issue_config(src.classes)))
    buckets = [t["data"]["bucket"] for t in tasks]
    assert len(tasks) == sum(r[3] for r in ROWS) + 1            # the outlier is a task too
    assert buckets == sorted(buckets, key=BUCKETS.index)          # grouped, in bucket order
    assert {"likely_mislabelled", "ambiguous", "out_of_scope"} <= set(buckets)
    for bucket in set(buckets):                                   # worst quality first within a bucket
        qualities = [t["data"]["label_quality"] for t in tasks if t["data"]["bucket"] == bucket]
        assert qualities == sorted(qualities)
    assert tasks[0]["data"]["evidence"].startswith("bucket: ")


def test_pair_task_of_a_data_problem_carries_the_draft(tmp_path):
    issues = write_issues_dir(tmp_path / "issues")
    pairs = pd.read_csv(issues / "pairs.csv")
    pairs.loc[0, "diagnosis"] = "data"
    pairs.to_csv(issues / "pairs.csv", index=False)
    tasks = build_pair_tasks(read_review_source(issues))
    assert tasks[0]["data"]["evidence"].startswith("Draft guideline (from the data):")
    assert tasks[0]["data"]["guideline"].startswith(f"{pairs.loc[0, 'label_a']}: texts that mention")
    assert "guideline" not in tasks[1]["data"]
