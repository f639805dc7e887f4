import pytest

from audit.labelstudio.config import choice_result, text_result
from audit.labelstudio.annotations import (
    INCOMPLETE, OK, SKIPPED, UNKNOWN_LABEL, Vote, parse_vote, resolve_tasks, resolve_votes,
)

CLASSES = {"card_arrival", "card_delivery_estimate", "lost_or_stolen_card"}
ISSUE = {"id": 5, "data": {"kind": "issue", "example_id": "ex1", "row": 3, "given_label": "card_arrival"}}
PAIR = {"id": 9, "data": {"kind": "pair", "example_id": "pair:card_arrival|card_delivery_estimate",
                          "label_a": "card_arrival", "label_b": "card_delivery_estimate"}}


def ann(*result, cancelled=False, user=1, at="2026-01-01T00:00:00Z"):
    return {"result": list(result), "was_cancelled": cancelled, "completed_by": user, "updated_at": at}


def parse(task, annotation):
    return parse_vote(task, annotation, classes=CLASSES, annotator="a@x")


@pytest.mark.parametrize("result, decision, new_label", [
    ([choice_result("decision", "text", "relabel"), choice_result("label", "text", "lost_or_stolen_card")],
     "relabel", "lost_or_stolen_card"),
    ([choice_result("decision", "text", "keep"), choice_result("label", "text", "lost_or_stolen_card")],
     "keep", "card_arrival"),  # keep: the given label, whatever the preselected label says
    ([choice_result("decision", "text", "merge"), choice_result("merge_into", "text", "card_delivery_estimate")],
     "merge", "card_delivery_estimate"),
    ([choice_result("decision", "text", "drop")], "drop", ""),
])
def test_issue_votes(result, decision, new_label):
    vote = parse(ISSUE, ann(*result, text_result("note", "text", "because")))
    assert (vote.status, vote.decision, vote.new_label, vote.note, vote.row) == (OK, decision, new_label, "because", "3")


@pytest.mark.parametrize("annotation, status", [
    (ann(cancelled=True), SKIPPED),
    (ann(choice_result("label", "text", "card_arrival")), INCOMPLETE),            # no decision
    (ann(choice_result("decision", "text", "relabel")), INCOMPLETE),              # relabel to what?
    (ann(choice_result("decision", "text", "merge")), INCOMPLETE),                # merge into what?
    (ann(choice_result("decision", "text", "relabel"), choice_result("label", "text", "nope")), UNKNOWN_LABEL),
    (ann(choice_result("decision", "text", "burn")), UNKNOWN_LABEL),
])
def test_issue_votes_that_do_not_count(annotation, status):
    vote = parse(ISSUE, annotation)
    assert vote.status == status and vote.detail


def test_pair_votes():
    merge = parse(PAIR, ann(choice_result("pair_decision", "evidence", "merge"),
                            choice_result("merge_into", "evidence", "card_arrival")))
    assert (merge.status, merge.decision, merge.new_label, merge.row) == (OK, "merge", "card_arrival", "")
    apart = parse(PAIR, ann(choice_result("pair_decision", "evidence", "keep_apart"),
                            text_result("note", "evidence", "arrival = already late")))
    assert (apart.decision, apart.new_label, apart.note) == ("keep_apart", "", "arrival = already late")
    outside = parse(PAIR, ann(choice_result("pair_decision", "evidence", "merge"),
                              choice_result("merge_into", "evidence", "lost_or_stolen_card")))
    assert outside.status == UNKNOWN_LABEL and "one of the pair" in outside.detail


def vote(annotator, decision, new_label="", at="2026-01-01T00:00:00Z", status=OK):
    return Vote(5, "ex1", "3", annotator, at, status, decision, new_label)


def test_unanimous_votes_decide_without_conflict():
    decision, conflict = resolve_votes([vote("b", "drop", at="t2"), vote("a", "drop", at="t1")])
    assert conflict is None
    assert (decision.decision, decision.annotator, decision.annotated_at) == ("drop", "a;b", "t2")


def test_majority_wins_and_the_dissent_is_listed():
    decision, conflict = resolve_votes([vote("a", "relabel", "x"), vote("b", "keep", "card_arrival"),
                                        vote("c", "relabel", "x")])
    assert (decision.decision, decision.new_label, decision.annotator) == ("relabel", "x", "a;c")
    assert conflict.kind == "majority" and "keep->card_arrival: b" in conflict.votes


def test_same_decision_with_different_labels_is_not_agreement():
    decision, conflict = resolve_votes([vote("a", "relabel", "x"), vote("b", "relabel", "y")])
    assert decision is None and conflict.kind == "tie"


def test_a_tie_decides_nothing_and_only_ok_votes_count():
    decision, conflict = resolve_votes([vote("a", "drop"), vote("b", "keep", "card_arrival"),
                                        vote("c", "", status=SKIPPED), vote("d", "", status=INCOMPLETE)])
    assert decision is None and conflict.kind == "tie" and conflict.resolved == ""
    assert resolve_votes([vote("c", "", status=SKIPPED)]) == (None, None)


def test_resolve_tasks_names_annotators_and_keeps_every_vote():
    task = dict(ISSUE, annotations=[
        ann(choice_result("decision", "text", "drop"), user=1),
        ann(choice_result("decision", "text", "drop"), user={"id": 2, "email": "b@x"}),
        ann(cancelled=True, user=3),
    ])
    res = resolve_tasks([task, dict(PAIR, annotations=[])], classes=CLASSES, annotators={1: "a@x", 2: "b@x"})
    assert [d.annotator for d in res.decisions] == ["a@x;b@x"]
    assert sorted(v.annotator for v in res.votes) == ["a@x", "b@x", "user:3"]
    assert res.conflicts == []
