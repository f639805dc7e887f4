"""The round trip against a real Label Studio server: export, simulated annotators, import."""

import csv

import pytest
from ls_fixtures import N_FLAGGED, ROWS, write_issues_dir

from audit.labelstudio.client import connect
from audit.labelstudio.config import choice_result, text_result
from audit.labelstudio.export import export_to_labelstudio
from audit.labelstudio.importing import import_from_labelstudio
from audit.labelstudio.manifest import load_manifest

pytestmark = pytest.mark.labelstudio


def issue_result(decision, label=None, merge_into=None, note=None):
    result = [choice_result("decision", "text", decision)]
    if label:
        result.append(choice_result("label", "text", label))
    if merge_into:
        result.append(choice_result("merge_into", "text", merge_into))
    if note:
        result.append(text_result("note", "text", note))
    return result


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def exported(tmp_path, ls_access):
    """An issues dir exported to the session server under a title of its own."""
    issues = write_issues_dir(tmp_path / "issues")
    result = export_to_labelstudio(issues, project_title=f"t {tmp_path.name[-30:]}")
    return issues, result, load_manifest(issues / "labelstudio.json")


def test_one_task_per_flagged_example_with_the_suggestion_preselected(exported, ls_access):
    issues, result, manifest = exported
    client = connect(*ls_access).client
    by_kind = {p.kind: p for p in result.projects}
    assert (by_kind["issues"].n_created, by_kind["pairs"].n_created) == (N_FLAGGED, 2)
    project = client.projects.get(id=by_kind["issues"].project_id)
    tasks = list(client.tasks.list(project=project.id, fields="all"))
    assert len(tasks) == N_FLAGGED
    assert {t.data["example_id"] for t in tasks} == {f"ex{i:04d}" for i, r in enumerate(ROWS) if r[3]}
    # Predictions show preselected only when the project's model_version matches theirs.
    predictions = list(client.predictions.list(task=tasks[0].id))
    assert predictions[0].model_version == project.model_version == manifest.model_version
    assert predictions[0].result[0]["value"]["choices"] == [tasks[0].data["suggested_label"]]
    assert ls_access[1] not in (issues / "labelstudio.json").read_text()


def test_imported_decisions_equal_the_annotations_made(exported, ls_access, annotators, tmp_path):
    issues, _, manifest = exported
    client = connect(*ls_access).client
    tasks = manifest.projects["issues"].tasks
    a, b, c = annotators
    made = {  # example_id -> [(annotator, result)]
        "ex0001": [(a, issue_result("relabel", "card_delivery_estimate", note="asks when"))],
        "ex0002": [(a, issue_result("keep")), (b, issue_result("keep")), (c, issue_result("drop"))],
        "ex0005": [(a, issue_result("merge", merge_into="card_arrival")), (b, issue_result("drop"))],  # tie
        "ex0007": [(b, [])],  # skipped, below
        "ex0009": [(a, issue_result("relabel", "not_a_class"))],
    }
    for example_id, votes in made.items():
        for user, result in votes:
            client.annotations.create(id=tasks[example_id], result=result, completed_by=user,
                                      was_cancelled=not result)
    pair_id = manifest.projects["pairs"].tasks["pair:card_arrival|card_delivery_estimate"]
    client.annotations.create(id=pair_id, completed_by=c, result=[
        choice_result("pair_decision", "evidence", "keep_apart"),
        text_result("note", "evidence", "arrival: card is late; estimate: before ordering")])

    out = tmp_path / "decisions.csv"
    result = import_from_labelstudio(out, issues_dir=issues)
    log = read_csv(out)
    decided = {(r["example_id"], r["decision"], r["new_label"]) for r in log}
    assert decided == {
        ("ex0001", "relabel", "card_delivery_estimate"),
        ("ex0002", "keep", "card_arrival"),
        ("pair:card_arrival|card_delivery_estimate", "keep_apart", ""),
    }
    row = {r["example_id"]: r for r in log}
    assert (row["ex0001"]["row"], row["ex0001"]["note"], row["ex0001"]["task_id"]) == ("1", "asks when",
                                                                                       str(tasks["ex0001"]))
    assert row["pair:card_arrival|card_delivery_estimate"]["row"] == ""
    assert len(row["ex0002"]["annotator"].split(";")) == 2
    kinds = sorted((p.kind, p.example_id) for p in result.problems)
    assert kinds == [("skipped", "ex0007"), ("tie", "ex0005"), ("unknown_label", "ex0009")]
    conflicts = {r["example_id"]: r["kind"] for r in read_csv(result.conflicts_path)}
    assert conflicts == {"ex0002": "majority", "ex0005": "tie"}
    per_annotator = read_csv(result.annotations_path)
    assert len(per_annotator) == sum(len(v) for v in made.values()) + 1
    assert result.n_unannotated == N_FLAGGED + 2 - len(made) - 1

    # Reading the projects by id (no manifest; classes from their configs) decides the same.
    ids = [manifest.projects["issues"].id, manifest.projects["pairs"].id]
    by_id = import_from_labelstudio(tmp_path / "by-id.csv", project_ids=ids)
    assert {(d.example_id, d.decision, d.new_label) for d in by_id.decisions} == decided

    # Re-export and re-import are idempotent: no new task, the same log byte for byte.
    before = out.read_bytes()
    again = export_to_labelstudio(issues, project_title=f"t {tmp_path.name[-30:]}")
    assert [p.n_created for p in again.projects] == [0, 0]
    assert import_from_labelstudio(out, issues_dir=issues).n_appended == 0
    assert out.read_bytes() == before

    # A changed mind appends one row; a deleted task is reported, not dropped silently.
    ann_id = next(x.id for x in client.annotations.list(id=tasks["ex0001"]))
    client.annotations.update(id=ann_id, result=issue_result("drop"))
    client.tasks.delete(id=tasks["ex0009"])
    result = import_from_labelstudio(out, issues_dir=issues)
    assert result.n_appended == 1 and read_csv(out)[-1]["decision"] == "drop"
    assert ("missing_task", "ex0009") in {(p.kind, p.example_id) for p in result.problems}


def test_a_lost_manifest_does_not_duplicate_tasks(exported):
    issues, result, _ = exported
    (issues / "labelstudio.json").unlink()
    title = result.projects[0].title
    again = export_to_labelstudio(issues, project_title=title)
    assert [(p.project_id, p.n_created, p.n_existing) for p in again.projects] == [
        (p.project_id, 0, p.n_wanted) for p in result.projects]


def test_a_personal_access_token_works(ls_server, tmp_path):
    from audit.labelstudio.server import create_personal_access_token

    pat = create_personal_access_token(ls_server.url, ls_server.token)
    assert pat.count(".") == 2  # a JWT
    issues = write_issues_dir(tmp_path / "issues")
    result = export_to_labelstudio(issues, url=ls_server.url, api_key=pat, max_pairs=0,
                                   project_title="pat")
    assert [p.n_created for p in result.projects] == [N_FLAGGED]
    out = tmp_path / "d.csv"
    assert import_from_labelstudio(out, issues_dir=issues, api_key=pat).n_tasks == N_FLAGGED
    assert pat not in (issues / "labelstudio.json").read_text()


def test_a_server_restart_between_export_and_import_loses_nothing(ls_template, tmp_path, monkeypatch):
    from audit.labelstudio.server import start_local_server

    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    data = tmp_path / "restart-data"
    issues = write_issues_dir(tmp_path / "issues")
    with start_local_server(data, template=ls_template) as server:
        exported = export_to_labelstudio(issues, url=server.url, api_key=server.token)
        manifest = load_manifest(issues / "labelstudio.json")
        client = connect(server.url, server.token).client
        client.annotations.create(id=manifest.projects["issues"].tasks["ex0001"],
                                  result=issue_result("relabel", "card_delivery_estimate"))
    with start_local_server(data) as server:  # same data dir, maybe another port
        client = connect(server.url, server.token).client
        client.annotations.create(id=manifest.projects["issues"].tasks["ex0002"], result=issue_result("drop"))
        result = import_from_labelstudio(tmp_path / "d.csv", issues_dir=issues, url=server.url, api_key=server.token)
        assert result.n_tasks == sum(p.n_wanted for p in exported.projects)
        assert not [p for p in result.problems if p.kind == "missing_task"]
        assert {(d.example_id, d.decision) for d in result.decisions} == {("ex0001", "relabel"), ("ex0002", "drop")}
