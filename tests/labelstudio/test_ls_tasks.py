import json

import pytest

pytest.importorskip("label_studio_sdk", reason="label-studio-sdk is not installed (extra 'labelstudio')")

from ls_fixtures import CLASSES, N_FLAGGED, ROWS, write_issues_dir

from labelcore.errors import DataError, ServiceError
from audit.labelstudio.config import build_issue_config, load_interface
from audit.labelstudio.export import export_to_labelstudio
from audit.labelstudio.server import find_free_port
from audit.labelstudio.tasks import build_issue_tasks, build_pair_tasks, read_review_source


@pytest.fixture
def interface():
    return load_interface(build_issue_config(CLASSES))


def test_one_task_per_flagged_example_worst_first_with_the_suggestion_preselected(issues_dir, interface):
    src = read_review_source(issues_dir)
    tasks = build_issue_tasks(src, interface)
    assert len(tasks) == N_FLAGGED
    qualities = [t["data"]["label_quality"] for t in tasks]
    assert qualities == sorted(qualities)
    flagged = {f"ex{i:04d}": row for i, row in enumerate(ROWS) if row[3]}
    for task in tasks:
        data, (prediction,) = task["data"], task["predictions"]
        text, given, suggested, _ = flagged[data["example_id"]]
        assert (data["text"], data["given_label"], data["suggested_label"]) == (text, given, suggested)
        assert {"pred__tfidf-lr", "pred__minilm-lr"} <= set(data) and "tfidf-lr" in data["votes"]
        assert prediction["model_version"] == src.model_version
        assert prediction["result"][0]["value"]["choices"] == [suggested]
    assert len(build_issue_tasks(src, interface, max_items=2)) == 2
    json.dumps(tasks)  # plain JSON, nothing numpy


def test_pair_tasks_carry_exemplars_and_every_evidence_column(issues_dir):
    tasks = build_pair_tasks(read_review_source(issues_dir), max_pairs=5)
    assert [t["data"]["example_id"] for t in tasks] == [
        "pair:card_arrival|card_delivery_estimate", "pair:Refund_not_showing_up|reverted_card_payment?"]
    data = tasks[0]["data"]
    assert "I am still waiting on my card?" in data["exemplars_a"]
    assert "What is the delivery time for a card?" in data["exemplars_b"]
    assert "confusion_rate: 0.5" in data["evidence"] and "diagnosis: overlapping intents" in data["evidence"]
    assert build_pair_tasks(read_review_source(issues_dir), max_pairs=0) == []


def test_an_unknown_label_names_file_row_and_column(tmp_path, interface):
    rows = list(ROWS)
    rows[5] = (rows[5][0], rows[5][1], "no_such_intent", True)
    src = read_review_source(write_issues_dir(tmp_path / "bad", rows))
    with pytest.raises(DataError, match=r"issues.csv, row 5, column 'suggested_label'.*no_such_intent"):
        build_issue_tasks(src, interface)


def test_a_directory_without_summary_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="summary.json"):
        read_review_source(tmp_path)


def test_export_validates_before_it_connects(tmp_path):
    rows = list(ROWS)
    rows[1] = (rows[1][0], "not_a_class", rows[1][2], True)
    bad = write_issues_dir(tmp_path / "bad", rows)
    closed = f"http://127.0.0.1:{find_free_port()}"
    with pytest.raises(DataError, match="given_label"):
        export_to_labelstudio(bad, url=closed, api_key="k")
    with pytest.raises(ServiceError):  # the same call with good data does reach for the server
        export_to_labelstudio(write_issues_dir(tmp_path / "good"), url=closed, api_key="k")


def test_duplicate_example_ids_are_refused(tmp_path, interface):
    issues = write_issues_dir(tmp_path / "dup")
    text = (issues / "issues.csv").read_text().replace("ex0002", "ex0001")
    (issues / "issues.csv").write_text(text)
    with pytest.raises(DataError, match=r"row 2, column 'example_id'.*ex0001"):
        build_issue_tasks(read_review_source(issues), interface)
