"""Reviewer agreement over the per-annotator file that ``audit import-labelstudio`` writes
(``decisions.annotations.csv``).

A vote is the pair (decision, new_label), as in the decision log: ``relabel->x`` and
``relabel->y`` disagree. Only valid votes (status ``ok``) count; when an annotator changed an
annotation, the last row of that (task, annotator) is the current vote. Agreement needs tasks
with at least two votes: ``audit export-labelstudio --overlap`` sends a share of the tasks to
two annotators.

Figures come from the reference implementations: scikit-learn's ``cohen_kappa_score`` (two
annotators), statsmodels' ``fleiss_kappa`` (tasks with the most common number of votes, since
Fleiss' kappa needs a constant number of raters per item) and the ``krippendorff`` package
(nominal alpha; any number of votes per task, missing ones allowed).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from labelcore.errors import DataError, require

VOTE_COLUMNS = ("task_id", "example_id", "annotator", "annotated_at", "status", "decision", "new_label")
PAIR_PREFIX = "pair:"


def read_votes(path: str | Path) -> pd.DataFrame:
    """The current valid votes of ``decisions.annotations.csv``.

    Returns one row per (task, annotator): ``task_id, example_id, annotator, vote`` (``vote`` =
    ``decision`` or ``decision->new_label``). Skipped, incomplete and unknown-label annotations
    are left out; a (task, annotator) that appears several times keeps its last row.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("not found (written next to the decision log by `audit import-labelstudio`)", path=path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in VOTE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"missing columns {missing}: not a *.annotations.csv of `audit import-labelstudio`",
                        path=path)
    current = frame.drop_duplicates(["task_id", "annotator"], keep="last")
    ok = current[current["status"] == "ok"].copy()
    ok["vote"] = [d + ("->" + n if n else "") for d, n in zip(ok["decision"], ok["new_label"])]
    return ok[["task_id", "example_id", "annotator", "vote"]].reset_index(drop=True)


def reliability_matrix(votes: pd.DataFrame) -> tuple[np.ndarray, list[str], list[str], list[str]]:
    """Votes as a (n_annotators, n_tasks) float matrix of category codes, NaN where an annotator
    did not vote. Returns (matrix, annotators, task ids, categories)."""
    annotators = sorted(votes["annotator"].unique())
    tasks = sorted(votes["task_id"].unique(), key=lambda t: (len(t), t))
    categories = sorted(votes["vote"].unique())
    matrix = np.full((len(annotators), len(tasks)), np.nan)
    a_index = {a: i for i, a in enumerate(annotators)}
    t_index = {t: i for i, t in enumerate(tasks)}
    c_index = {c: i for i, c in enumerate(categories)}
    for a, t, v in zip(votes["annotator"], votes["task_id"], votes["vote"]):
        matrix[a_index[a], t_index[t]] = c_index[v]
    return matrix, annotators, tasks, categories


def krippendorff_alpha_nominal(matrix: np.ndarray) -> float | None:
    """Krippendorff's alpha (nominal) of a (raters, items) code matrix with NaN for missing;
    None when undefined (fewer than two pairable votes, or a single category)."""
    krippendorff = require("krippendorff", extra="agreement", purpose="Krippendorff's alpha")
    pairable = matrix[:, (~np.isnan(matrix)).sum(axis=0) >= 2]
    values = pairable[~np.isnan(pairable)]
    if values.size < 2 or len(np.unique(values)) < 2:
        return None
    return float(krippendorff.alpha(reliability_data=pairable, level_of_measurement="nominal"))


def fleiss_kappa_of(matrix: np.ndarray) -> tuple[float | None, int]:
    """Fleiss' kappa over the items with the most common number (>= 2) of votes.

    Returns (kappa, n_items used); kappa is None when no item has two votes or it is undefined.
    """
    irr = require("statsmodels.stats.inter_rater", extra="agreement", purpose="Fleiss' kappa")
    counts = (~np.isnan(matrix)).sum(axis=0)
    if not (counts >= 2).any():
        return None, 0
    n_raters = Counter(counts[counts >= 2].tolist()).most_common(1)[0][0]
    items = matrix[:, counts == n_raters]
    n_categories = int(np.nanmax(matrix)) + 1
    table = np.zeros((items.shape[1], n_categories))
    for j in range(items.shape[1]):
        for code in items[~np.isnan(items[:, j]), j]:
            table[j, int(code)] += 1
    observed = table[:, table.sum(axis=0) > 0]
    if observed.shape[1] < 2:  # everyone used one category: chance agreement is 1, kappa undefined
        return None, items.shape[1]
    return float(irr.fleiss_kappa(observed, method="fleiss")), items.shape[1]


def cohen_kappa_of(matrix: np.ndarray) -> tuple[float | None, int]:
    """Cohen's kappa of exactly two raters over the items both rated; (None, n) otherwise."""
    from sklearn.metrics import cohen_kappa_score

    if matrix.shape[0] != 2:
        return None, 0
    both = ~np.isnan(matrix).any(axis=0)
    a, b = matrix[0, both], matrix[1, both]
    if both.sum() < 2 or len(np.unique(np.concatenate([a, b]))) < 2:
        return None, int(both.sum())
    return float(cohen_kappa_score(a.astype(int), b.astype(int))), int(both.sum())


def model_vote(given_label: str, suggested_label: str) -> str:
    """The vote the models cast on a flagged example: keep when they agree with the given label."""
    return f"keep->{given_label}" if given_label == suggested_label else f"relabel->{suggested_label}"


def class_pair_of(example_id: str, labels: Mapping[str, tuple[str, str]] | None) -> tuple[str, str] | None:
    """The class pair a task is about: a pair task's two labels, or a flagged example's
    (given, suggested) labels, sorted; None when unknown."""
    if example_id.startswith(PAIR_PREFIX):
        a, _, b = example_id[len(PAIR_PREFIX):].partition("|")
        return tuple(sorted((a, b)))  # type: ignore[return-value]
    if labels and example_id in labels:
        given, suggested = labels[example_id]
        return None if given == suggested else tuple(sorted((given, suggested)))  # type: ignore[return-value]
    return None


def reviewer_agreement(
    votes: pd.DataFrame,
    *,
    labels: Mapping[str, tuple[str, str]] | None = None,
    min_pair_tasks: int = 5,
) -> dict:
    """Agreement between reviewers, and of each reviewer with the others and with the models.

    Parameters
    ----------
    votes : from :func:`read_votes` (``task_id, example_id, annotator, vote``).
    labels : example_id -> (given_label, suggested_label) from issues.csv; enables agreement
        with the models' suggestion and the class pair of flagged examples.
    min_pair_tasks : a class pair gets its own figures when at least this many of its tasks
        have two or more votes.

    Returns
    -------
    dict with ``n_votes``, ``n_tasks``, ``n_tasks_multi`` (tasks with >= 2 votes),
    ``annotators``, ``cohen_kappa`` (None unless exactly two annotators), ``fleiss_kappa``,
    ``fleiss_n_tasks``, ``krippendorff_alpha``, ``observed_agreement`` (share of agreeing vote
    pairs on multi-vote tasks), ``per_annotator`` (name -> ``n_votes``, ``n_compared``,
    ``agreement_with_consensus`` = share of their votes equal to the strict majority of the
    *other* annotators' votes on the task, ``n_model_compared``, ``agreement_with_models``) and
    ``per_pair`` (list of ``label_a, label_b, n_tasks, observed_agreement,
    krippendorff_alpha``). Figures are None where undefined.
    """
    matrix, annotators, tasks, categories = reliability_matrix(votes)
    counts = (~np.isnan(matrix)).sum(axis=0)
    multi = counts >= 2
    cohen, n_cohen = cohen_kappa_of(matrix)
    fleiss, n_fleiss = fleiss_kappa_of(matrix)
    example_of = dict(zip(votes["task_id"], votes["example_id"]))

    per_annotator = {}
    for i, name in enumerate(annotators):
        agree = compared = model_agree = model_compared = 0
        for j, task in enumerate(tasks):
            if np.isnan(matrix[i, j]):
                continue
            mine = categories[int(matrix[i, j])]
            others = Counter(categories[int(c)] for c in np.delete(matrix[:, j], i) if not np.isnan(c))
            if others:
                (top, n_top), *rest = others.most_common()
                if not rest or rest[0][1] < n_top:  # a strict majority of the others
                    compared += 1
                    agree += mine == top
            example = example_of[task]
            if labels and example in labels:
                model_compared += 1
                model_agree += mine == model_vote(*labels[example])
        per_annotator[name] = {
            "n_votes": int((~np.isnan(matrix[i])).sum()),
            "n_compared": compared,
            "agreement_with_consensus": agree / compared if compared else None,
            "n_model_compared": model_compared,
            "agreement_with_models": model_agree / model_compared if model_compared else None,
        }

    by_pair: dict[tuple[str, str], list[int]] = {}
    for j, task in enumerate(tasks):
        pair = class_pair_of(example_of[task], labels)
        if pair is not None and multi[j]:
            by_pair.setdefault(pair, []).append(j)
    per_pair = [
        {"label_a": a, "label_b": b, "n_tasks": len(cols),
         "observed_agreement": observed_agreement(matrix[:, cols]),
         "krippendorff_alpha": krippendorff_alpha_nominal(matrix[:, cols])}
        for (a, b), cols in sorted(by_pair.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        if len(cols) >= min_pair_tasks
    ]
    return {
        "n_votes": int(counts.sum()),
        "n_tasks": len(tasks),
        "n_tasks_multi": int(multi.sum()),
        "annotators": annotators,
        "cohen_kappa": cohen,
        "cohen_n_tasks": n_cohen,
        "fleiss_kappa": fleiss,
        "fleiss_n_tasks": n_fleiss,
        "krippendorff_alpha": krippendorff_alpha_nominal(matrix),
        "observed_agreement": observed_agreement(matrix),
        "per_annotator": per_annotator,
        "per_pair": per_pair,
    }


def agreement_by_round(
    rounds: list[pd.DataFrame],
    *,
    labels: Mapping[str, tuple[str, str]] | None = None,
    min_pair_tasks: int = 5,
) -> dict:
    """Agreement in successive review rounds, overall and per class pair: did it rise?

    Parameters
    ----------
    rounds : the votes of each round (:func:`read_votes`), oldest first.
    labels, min_pair_tasks : as for :func:`reviewer_agreement`.

    Returns
    -------
    dict with ``rounds`` (one :func:`reviewer_agreement` result per round) and ``per_pair``:
    for every class pair with figures in at least one round, ``label_a, label_b``,
    ``n_tasks``, ``observed_agreement`` and ``krippendorff_alpha`` (lists, one entry per round,
    None where the round had fewer than ``min_pair_tasks`` multi-vote tasks of the pair),
    ``change`` (observed agreement of the last round with figures minus the first; None
    unless two rounds have figures) and ``verdict`` (``rose``, ``fell``, ``unchanged`` or
    ``one round``). Observed agreement decides the verdict because alpha is undefined when
    every vote of a round is the same.
    """
    results = [reviewer_agreement(votes, labels=labels, min_pair_tasks=min_pair_tasks) for votes in rounds]
    found: dict[tuple[str, str], dict[int, dict]] = {}
    for i, result in enumerate(results):
        for p in result["per_pair"]:
            found.setdefault((p["label_a"], p["label_b"]), {})[i] = p
    per_pair = []
    for (a, b), by_round in sorted(found.items()):
        figures = [by_round.get(i) for i in range(len(results))]
        observed = [f["observed_agreement"] if f else None for f in figures]
        known = [x for x in observed if x is not None]
        change = known[-1] - known[0] if len(known) >= 2 else None
        verdict = ("one round" if change is None else "rose" if change > 1e-9
                   else "fell" if change < -1e-9 else "unchanged")
        per_pair.append({
            "label_a": a, "label_b": b, "n_tasks": [f["n_tasks"] if f else 0 for f in figures],
            "observed_agreement": observed,
            "krippendorff_alpha": [f["krippendorff_alpha"] if f else None for f in figures],
            "change": change, "verdict": verdict,
        })
    return {"rounds": results, "per_pair": per_pair}


def rounds_markdown(by_round: dict) -> str:
    """The per-round figures of :func:`agreement_by_round` as markdown tables."""
    from audit.report.markdown import escape, table

    def num(x):
        return "–" if x is None else f"{x:.3f}"

    n = len(by_round["rounds"])
    lines = [table(["round", "valid votes", "tasks with 2+ votes", "Krippendorff's alpha", "observed agreement"],
                   [[i + 1, r["n_votes"], r["n_tasks_multi"], num(r["krippendorff_alpha"]),
                     num(r["observed_agreement"])] for i, r in enumerate(by_round["rounds"])], align="rrrrr")]
    if by_round["per_pair"]:
        rows = []
        for p in by_round["per_pair"]:
            cells = [f"{num(o)} ({k})" if o is not None else "–"
                     for o, k in zip(p["observed_agreement"], p["n_tasks"])]
            change = "–" if p["change"] is None else f"{p['change']:+.3f}"
            rows.append([escape(p["label_a"]), escape(p["label_b"]), *cells, change, p["verdict"]])
        lines += ["", table(["label a", "label b", *[f"round {i + 1}" for i in range(n)], "change", "agreement"],
                            rows, align="ll" + "r" * n + "rl")]
        lines += ["", "Per pair: observed agreement (share of agreeing vote pairs) on the pair's tasks with two or "
                  "more votes, with how many such tasks in brackets; a round with too few is left out (–)."]
    return "\n".join(lines)


def observed_agreement(matrix: np.ndarray) -> float | None:
    """Share of agreeing pairs among all pairs of votes on the same item (items with >= 2 votes)."""
    agree = total = 0
    for column in matrix.T:
        codes = column[~np.isnan(column)]
        if len(codes) < 2:
            continue
        _, n = np.unique(codes, return_counts=True)
        agree += int((n * (n - 1)).sum())
        total += len(codes) * (len(codes) - 1)
    return agree / total if total else None


def labels_from_issues(issues: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """example_id -> (given_label, suggested_label) from an issues.csv frame."""
    for column in ("example_id", "given_label", "suggested_label"):
        if column not in issues.columns:
            raise DataError(f"issues.csv has no {column!r} column", column=column)
    return {str(e): (str(g), str(s)) for e, g, s in
            zip(issues["example_id"], issues["given_label"], issues["suggested_label"])}


def agreement_markdown(result: dict) -> str:
    """The agreement figures as markdown (for ``audit report`` and ``agreement.md``)."""
    from audit.report.markdown import escape, table

    def num(x):
        return "–" if x is None else f"{x:.3f}"

    lines = [
        f"{result['n_votes']} valid votes by {len(result['annotators'])} annotator(s) on {result['n_tasks']} "
        f"tasks; {result['n_tasks_multi']} tasks have two or more votes.",
        "",
        table(["measure", "value", "over"], [
            ["Cohen's kappa (two annotators)", num(result["cohen_kappa"]), f"{result['cohen_n_tasks']} tasks"],
            ["Fleiss' kappa", num(result["fleiss_kappa"]), f"{result['fleiss_n_tasks']} tasks"],
            ["Krippendorff's alpha (nominal)", num(result["krippendorff_alpha"]),
             f"{result['n_tasks_multi']} tasks"],
            ["observed agreement (vote pairs)", num(result["observed_agreement"]),
             f"{result['n_tasks_multi']} tasks"],
        ], align="lrl"),
        "",
        table(["annotator", "votes", "agreement with the others' majority", "agreement with the models"],
              [[escape(name), a["n_votes"], f"{num(a['agreement_with_consensus'])} ({a['n_compared']})",
                f"{num(a['agreement_with_models'])} ({a['n_model_compared']})"]
               for name, a in result["per_annotator"].items()], align="lrrr"),
    ]
    if result["per_pair"]:
        lines += ["", table(["label a", "label b", "tasks", "observed agreement", "Krippendorff's alpha"],
                            [[escape(p["label_a"]), escape(p["label_b"]), p["n_tasks"],
                              num(p["observed_agreement"]), num(p["krippendorff_alpha"])]
                             for p in result["per_pair"]], align="llrrr")]
    lines += ["", "A vote is the decision with its label (relabel->x and relabel->y disagree); skipped "
              "and invalid annotations are left out. Numbers in brackets: how many votes were compared."]
    return "\n".join(lines)
