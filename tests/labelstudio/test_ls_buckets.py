"""The export groups issue tasks by bucket (no server)."""

import pandas as pd
from ls_fixtures import ROWS

from audit.buckets import BUCKETS, buckets_of_issues
from audit.labelstudio.config import build_issue_config, load_interface
from audit.labelstudio.tasks import build_issue_tasks, read_issues_dir


def test_tasks_are_grouped_by_bucket_and_carry_it(issues_dir):
    path = issues_dir / "issues.csv"
    issues = pd.read_csv(path, dtype=str, keep_default_na=False)
    issues["is_outliers"] = ["True" if i == 0 else "False" for i in range(len(issues))]  # row 0: not a label issue
    issues["bucket"] = buckets_of_issues(issues)
    issues.to_csv(path, index=False)
    src = read_issues_dir(issues_dir)
    tasks = build_issue_tasks(src, load_interface(build_issue_config(src.classes)))
    buckets = [t["data"]["bucket"] for t in tasks]
    assert len(tasks) == sum(r[3] for r in ROWS) + 1            # the outlier is a task too
    assert buckets == sorted(buckets, key=BUCKETS.index)          # grouped, in bucket order
    assert {"likely_mislabelled", "ambiguous", "out_of_scope"} <= set(buckets)
    for bucket in set(buckets):                                   # worst quality first within a bucket
        qualities = [t["data"]["label_quality"] for t in tasks if t["data"]["bucket"] == bucket]
        assert qualities == sorted(qualities)
    assert tasks[0]["data"]["evidence"].startswith("bucket: ")
