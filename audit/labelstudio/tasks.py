"""Review tasks built from the output of ``audit find-issues`` (see docs/formats.md).

Issue tasks are keyed by ``example_id``; pair tasks by ``pair:<label_a>|<label_b>``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from audit.formats.decision_log import pair_key
from audit.formats.run_folder import ISSUES, PAIR_COLUMNS, RunFolder, read_run_folder
from audit.formats.summary import FILE as SUMMARY_FILE
from labelcore.errors import DataError
from audit.buckets import BUCKET_TITLES, BUCKETS
from audit.guidelines import draft_guideline, is_data_problem
from audit.labelstudio.config import LABEL, check_prediction, choice_result

@dataclass(frozen=True)
class ReviewSource:
    """What the review needs of a find-issues folder (summary.json and issues.csv are required)
    and ``model_version``, which names the run that made the suggestions."""

    run: RunFolder
    model_version: str

    @property
    def path(self) -> Path:
        return self.run.path

    @property
    def classes(self) -> list[str]:
        return list(self.run.summary.classes)

    @property
    def issues(self) -> pd.DataFrame:
        return self.run.issues

    @property
    def pairs(self) -> pd.DataFrame | None:
        return self.run.pairs

    @property
    def issues_path(self) -> Path:
        return self.run.issues_path

    @property
    def pairs_path(self) -> Path:
        return self.run.pairs_path


def read_review_source(path: str | Path) -> ReviewSource:
    """Read a find-issues folder for review (:func:`audit.formats.run_folder.read_run_folder`)."""
    run = read_run_folder(path, require=(SUMMARY_FILE, ISSUES))
    s = run.summary
    fingerprint = json.dumps({"data_fingerprint": s.data_fingerprint, "seed": s.seed, "folds": s.folds,
                              "backends": [dataclasses.asdict(b) for b in s.backends]}, sort_keys=True, default=str)
    return ReviewSource(run, "label-audit-" + hashlib.sha256(fingerprint.encode()).hexdigest()[:12])


def _check_label(value: str, classes: set[str], *, path, row: int, column: str) -> None:
    if value not in classes:
        raise DataError(f"label {value!r} is not one of the classes in summary.json", path=path, row=row, column=column)


def flagged_issues(src: ReviewSource, *, max_items: int | None = None) -> pd.DataFrame:
    """The flagged rows of issues.csv, at most ``max_items``.

    With a ``bucket`` column (audit/buckets.py): the rows with a bucket, grouped by bucket
    (likely mislabelled, duplicate conflicts, out of scope, ambiguous... in
    :data:`~audit.buckets.BUCKETS` order), worst label quality first within a bucket - or, after
    ``audit rerank`` learnt from the decisions, most likely wrong first
    (``review_error_probability``). Without it (an older run): the ``is_label_issue`` rows,
    worst label quality first.
    """
    if "bucket" in src.issues:
        flagged = src.issues[src.issues["bucket"].isin(BUCKETS)]
        order = flagged["bucket"].map({b: i for i, b in enumerate(BUCKETS)})
        worst = (-flagged["review_error_probability"].fillna(-1.0) if "review_error_probability" in flagged
                 else flagged["label_quality"])
        flagged = flagged.assign(_order=order, _worst=worst).sort_values(["_order", "_worst"], kind="stable")
        flagged = flagged.drop(columns=["_order", "_worst"])
    else:
        flagged = src.issues[src.issues["is_label_issue"]].sort_values("label_quality", kind="stable")
    duplicated = flagged["example_id"].duplicated()
    if duplicated.any():
        row = int(flagged.index[duplicated.to_numpy().argmax()])
        raise DataError(f"example_id {flagged.loc[row, 'example_id']!r} appears twice; task keys must be unique",
                        path=src.issues_path, row=row, column="example_id")
    return flagged if max_items is None else flagged.head(max_items)


def build_issue_tasks(src: ReviewSource, interface, *, max_items: int | None = None) -> list[dict]:
    """One task per flagged example, with a prediction that preselects the suggested label.

    Every label and every prediction is checked locally (``interface`` is the project's
    ``LabelInterface``): a bad one raises :class:`DataError` naming issues.csv, row and column.
    """
    classes = set(src.classes)
    vote_cols = [c for c in src.issues.columns if c.startswith("pred__")]
    tasks = []
    flagged = flagged_issues(src, max_items=max_items)
    for idx, rec in zip(flagged.index, flagged.to_dict("records")):  # iterrows is 5x slower
        for column in ("given_label", "suggested_label", *vote_cols):
            _check_label(rec[column], classes, path=src.issues_path, row=int(idx), column=column)
        quality = float(rec["label_quality"])
        votes = "; ".join(f"{c[len('pred__'):]}: {rec[c]}" for c in vote_cols)
        bucket = rec.get("bucket", "")
        data = {
            "kind": "issue",
            "example_id": str(rec["example_id"]),
            "row": int(rec["row"]),
            "text": str(rec["text"]),
            "given_label": rec["given_label"],
            "suggested_label": rec["suggested_label"],
            "label_quality": round(quality, 6),
            "votes": votes,
            **({"bucket": bucket} if bucket else {}),
            "evidence": "\n".join([
                *([f"bucket: {BUCKET_TITLES.get(bucket, bucket)}"] if bucket else []),
                f"given label: {rec['given_label']}",
                f"suggested label: {rec['suggested_label']}",
                f"label quality: {quality:.3f} (lower = more likely wrong)",
                *(f"model {c[len('pred__'):]} votes: {rec[c]}" for c in vote_cols),
            ]),
            **{c: rec[c] for c in vote_cols},
        }
        prediction = {
            "model_version": src.model_version,
            "score": round(1.0 - quality, 6),
            "result": [choice_result(LABEL, "text", rec["suggested_label"])],
        }
        check_prediction(interface, prediction, path=src.issues_path, row=int(idx))
        tasks.append({"data": data, "predictions": [prediction]})
    return tasks


def _exemplars(issues: pd.DataFrame, label: str, *, n: int) -> str:
    """Up to ``n`` clean examples of ``label`` (highest label quality first), one per line."""
    rows = issues[issues["given_label"] == label].sort_values("label_quality", ascending=False, kind="stable")
    lines = [f"- {t}" for t in rows["text"].head(n)]
    return "\n".join(lines) if lines else "(no examples in issues.csv)"


def _pair_review(issues: pd.DataFrame, rec: dict, *, n: int = 15) -> str:
    """The pair's recommendation, its evidence sentence, and the rows to review with their texts
    (the ``rows_*`` columns of pairs.csv, looked up in issues.csv by ``row``)."""
    if not rec.get("recommendation"):
        return ""
    lines = [f"Recommendation: {rec['recommendation']} (cause: {rec.get('diagnosis', '')})"]
    if rec.get("evidence"):
        lines.append(f"Evidence: {rec['evidence']}")
    text = dict(zip(issues["row"].astype(str), issues["text"])) if "row" in issues else {}
    a, b = rec["label_a"], rec["label_b"]
    for column, what in (("rows_a_to_b", f"labelled {a}, evidence says {b}"),
                         ("rows_b_to_a", f"labelled {b}, evidence says {a}"),
                         ("rows_ambiguous", "ambiguous between the two (for a guideline)")):
        ids = str(rec.get(column) or "").split()
        if ids:
            lines.append(f"Rows {what} ({len(ids)}):")
            lines += [f"- row {i}: {text.get(i, '(not in issues.csv)')}" for i in ids[:n]]
            if len(ids) > n:
                lines.append(f"- ... and {len(ids) - n} more (pairs.csv, {column})")
    return "\n".join(lines)


def build_pair_tasks(src: ReviewSource, *, max_pairs: int = 20, n_exemplars: int = 5) -> list[dict]:
    """One task per confused pair (the first ``max_pairs`` rows of pairs.csv): exemplars of both
    labels, the recommendation with its evidence and the rows to review (texts included), and
    every evidence column of pairs.csv."""
    if src.pairs is None or max_pairs <= 0:
        return []
    classes = set(src.classes)
    tasks = []
    for idx, rec in src.pairs.head(max_pairs).iterrows():
        a, b = rec["label_a"], rec["label_b"]
        _check_label(a, classes, path=src.pairs_path, row=int(idx), column="label_a")
        _check_label(b, classes, path=src.pairs_path, row=int(idx), column="label_b")
        columns = "\n".join(f"{c}: {rec[c]}" for c in src.pairs.columns if c not in PAIR_COLUMNS)
        evidence = "\n\n".join(part for part in (_pair_review(src.issues, rec), columns) if part)
        guideline = ""
        if is_data_problem(rec.get("diagnosis", "")):  # a draft for the reviewers to confirm or rewrite
            guideline = draft_guideline(src.issues["text"].astype(str).tolist(), src.issues["given_label"],
                                        label_a=a, label_b=b)["text"]
            evidence = f"Draft guideline (from the data):\n{guideline}\n\n{evidence}"
        tasks.append({"data": {
            "kind": "pair",
            "example_id": pair_key(a, b),
            "label_a": a,
            "label_b": b,
            "title": f"Confused pair: {a}  vs  {b}",
            "exemplars_a": f"Examples labelled {a}:\n" + _exemplars(src.issues, a, n=n_exemplars),
            "exemplars_b": f"Examples labelled {b}:\n" + _exemplars(src.issues, b, n=n_exemplars),
            "evidence": evidence or "(no evidence columns)",
            **({"guideline": guideline} if guideline else {}),
        }})
    return tasks
