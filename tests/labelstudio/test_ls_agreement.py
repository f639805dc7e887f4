"""Export with overlap, two annotators, import, agreement: against a real Label Studio server."""

import pytest
from ls_fixtures import N_FLAGGED, write_issues_dir

from audit.agreement import read_votes, reviewer_agreement
from audit.labelstudio.client import connect
from audit.labelstudio.config import choice_result
from audit.labelstudio.export import export_to_labelstudio, overlap_settings
from audit.labelstudio.importing import import_from_labelstudio
from audit.labelstudio.manifest import load_manifest


def test_overlap_settings():
    assert overlap_settings(None) == {}
    assert overlap_settings(0) == {"maximum_annotations": 1, "overlap_cohort_percentage": 100}
    assert overlap_settings(0.2) == {"maximum_annotations": 2, "overlap_cohort_percentage": 20}


@pytest.mark.labelstudio
def test_overlap_share_gets_two_annotators_and_agreement_is_measured(tmp_path, ls_access, annotators):
    issues = write_issues_dir(tmp_path / "issues")
    export_to_labelstudio(issues, project_title=f"ov {tmp_path.name[-30:]}", overlap=0.5)
    manifest = load_manifest(issues / "labelstudio.json")
    client = connect(*ls_access).client
    pid = manifest.projects["issues"].id
    project = client.projects.get(id=pid)
    assert (project.maximum_annotations, project.overlap_cohort_percentage) == (2, 50)
    tasks = list(client.tasks.list(project=pid, fields="all"))
    doubled = sorted(t.id for t in tasks if t.overlap == 2)
    assert len(doubled) == int(N_FLAGGED * 0.5 + 0.5)       # the server's own rounding
    a, b, _ = annotators
    for i, task_id in enumerate(doubled):   # both keep, except the first: a relabels
        for user in (a, b):
            decision = "relabel" if (user == a and i == 0) else "keep"
            result = [choice_result("decision", "text", decision)]
            if decision == "relabel":
                result.append(choice_result("label", "text", "card_delivery_estimate"))
            client.annotations.create(id=task_id, result=result, completed_by=user)
    out = tmp_path / "decisions.csv"
    imported = import_from_labelstudio(out, issues_dir=issues)
    figures = reviewer_agreement(read_votes(imported.annotations_path))
    assert figures["n_tasks_multi"] == len(doubled)
    assert figures["observed_agreement"] == pytest.approx((len(doubled) - 1) / len(doubled))
    assert len(figures["per_annotator"]) == 2
