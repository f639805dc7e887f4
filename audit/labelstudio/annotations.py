"""From Label Studio annotations to decisions: parse each annotation, then resolve each task
by majority. Pure functions over exported task dicts (no server, no files)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from audit.labelstudio.config import (
    DECISION, ISSUE_DECISIONS, LABEL, MERGE_INTO, NOTE, PAIR_DECISION, PAIR_DECISIONS,
)

#: Statuses of one annotation; only "ok" votes.
OK, SKIPPED, INCOMPLETE, UNKNOWN_LABEL = "ok", "skipped", "incomplete", "unknown_label"


@dataclass(frozen=True)
class Vote:
    """One annotator's annotation of one task, parsed."""

    task_id: int
    example_id: str
    row: str               # the data row ("" for pair tasks)
    annotator: str
    annotated_at: str
    status: str            # ok / skipped / incomplete / unknown_label
    decision: str = ""
    new_label: str = ""
    note: str = ""
    detail: str = ""       # why the status is not ok


@dataclass(frozen=True)
class Decision:
    """The resolved decision of one task: one row of the decision log."""

    example_id: str
    row: str
    decision: str
    new_label: str
    annotator: str         # the annotators who voted for it, ";"-joined
    annotated_at: str      # the latest of their annotation times
    task_id: int
    note: str


@dataclass(frozen=True)
class Conflict:
    """A task whose annotators disagree: ``tie`` (no decision) or ``majority`` (decided, outvoted)."""

    task_id: int
    example_id: str
    kind: str
    votes: str             # "relabel->x: a@x;b@y | keep: c@z"
    resolved: str          # the winning decision, "" for a tie


@dataclass
class Resolution:
    decisions: list[Decision] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)


def _choice(result: list[dict], name: str) -> str | None:
    for item in result:
        if item.get("from_name") == name:
            choices = (item.get("value") or {}).get("choices") or []
            return str(choices[0]) if choices else None
    return None


def _note(result: list[dict]) -> str:
    for item in result:
        if item.get("from_name") == NOTE:
            return " ".join(str(t) for t in (item.get("value") or {}).get("text") or []).strip()
    return ""


def parse_vote(task: dict, annotation: dict, *, classes: set[str], annotator: str) -> Vote:
    """Parse one annotation of an exported issue or pair task into a :class:`Vote`.

    Issue tasks: relabel -> the chosen label; keep -> the given label; merge -> the merge
    target; drop -> "". Pair tasks: merge -> the merge target (one of the pair); keep_apart and
    relabel -> "". Required choices are enforced only by the UI, so they are checked here.
    """
    data = task.get("data") or {}
    is_pair = data.get("kind") == "pair"
    base = dict(task_id=int(task["id"]), example_id=str(data.get("example_id", "")),
                row="" if is_pair else str(data.get("row", "")), annotator=annotator,
                annotated_at=str(annotation.get("updated_at") or annotation.get("created_at") or ""))
    if annotation.get("was_cancelled"):
        return Vote(**base, status=SKIPPED, detail="skipped (cancelled) by the annotator")
    result = annotation.get("result") or []
    note = _note(result)
    name, allowed = (PAIR_DECISION, PAIR_DECISIONS) if is_pair else (DECISION, ISSUE_DECISIONS)
    decision = _choice(result, name)
    if decision is None:
        return Vote(**base, status=INCOMPLETE, note=note, detail=f"no {name!r} chosen")
    if decision not in allowed:
        return Vote(**base, status=UNKNOWN_LABEL, decision=decision, note=note, detail=f"unknown decision {decision!r}")
    if decision == "merge":
        target_name = MERGE_INTO
    elif decision == "relabel" and not is_pair:
        target_name = LABEL
    else:
        target_name = None
    if target_name is None:
        new_label = str(data.get("given_label", "")) if decision == "keep" else ""
    else:
        new_label = _choice(result, target_name)
        if new_label is None:
            return Vote(**base, status=INCOMPLETE, decision=decision, note=note,
                        detail=f"decision {decision!r} without a {target_name!r} choice")
        if new_label not in classes:
            problem = "a known class"
        elif is_pair and new_label not in (data.get("label_a"), data.get("label_b")):
            problem = "one of the pair"
        else:
            problem = None
        if problem:
            return Vote(**base, status=UNKNOWN_LABEL, decision=decision, new_label=new_label, note=note,
                        detail=f"{target_name} {new_label!r} is not {problem}")
    return Vote(**base, status=OK, decision=decision, new_label=new_label, note=note)


def resolve_votes(votes: list[Vote]) -> tuple[Decision | None, Conflict | None]:
    """Majority over the ``ok`` votes of ONE task, a vote being (decision, new_label).

    Returns (decision, conflict): a unanimous task gives (decision, None); a strict majority
    gives (decision, Conflict "majority") so the outvoted annotators stay visible; a tie gives
    (None, Conflict "tie"); no ok vote gives (None, None).
    """
    ok = [v for v in votes if v.status == OK]
    if not ok:
        return None, None
    counts = Counter((v.decision, v.new_label) for v in ok)
    ranked = counts.most_common()
    first = ok[0]
    summary = " | ".join(
        f"{d}{'->' + n if n else ''}: " + ";".join(v.annotator for v in ok if (v.decision, v.new_label) == (d, n))
        for (d, n), _ in sorted(ranked, key=lambda kv: (-kv[1], kv[0]))
    )
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None, Conflict(first.task_id, first.example_id, "tie", summary, "")
    (decision, new_label), _ = ranked[0]
    winners = sorted((v for v in ok if (v.decision, v.new_label) == (decision, new_label)), key=lambda v: v.annotator)
    resolved = Decision(
        example_id=first.example_id, row=first.row, decision=decision, new_label=new_label,
        annotator=";".join(v.annotator for v in winners),
        annotated_at=max(v.annotated_at for v in winners), task_id=first.task_id,
        note=" | ".join(v.note for v in winners if v.note),
    )
    conflict = None
    if len(ranked) > 1:
        conflict = Conflict(first.task_id, first.example_id, "majority", summary,
                            f"{decision}{'->' + new_label if new_label else ''}")
    return resolved, conflict


def resolve_tasks(tasks: list[dict], *, classes: set[str], annotators: dict[int, str]) -> Resolution:
    """Parse every annotation of every exported task and resolve each task by majority.

    ``annotators`` maps user ids to a readable name (their email); unknown ids read ``user:<id>``.
    """
    out = Resolution()
    for task in sorted(tasks, key=lambda t: int(t["id"])):
        votes = []
        for annotation in task.get("annotations") or []:
            user = annotation.get("completed_by")
            user_id = user.get("id") if isinstance(user, dict) else user
            name = annotators.get(user_id, f"user:{user_id}")
            votes.append(parse_vote(task, annotation, classes=classes, annotator=name))
        votes.sort(key=lambda v: (v.annotator, v.annotated_at))
        out.votes.extend(votes)
        decision, conflict = resolve_votes(votes)
        if decision is not None:
            out.decisions.append(decision)
        if conflict is not None:
            out.conflicts.append(conflict)
    return out
