"""``write_report``: the data-quality report as markdown with PNG figures beside it."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from audit.pairs import get_confusion_counts
from audit.report import figures
from audit.report.health import (
    class_label_quality,
    health_numbers,
    most_confused_classes,
)
from audit.formats.benchmark_result import read_benchmark
from audit.formats.retrain_result import read_retrain
from audit.formats.run_folder import RunFolder as IssuesRun
from audit.formats.run_folder import read_run_folder
from audit.report.markdown import escape, fmt, table
from audit.decision import Requirement, as_number, decide
from audit.learning_curve import read_learning_curve
from audit.report.decision_section import costs_markdown, decision_markdown
from audit.report.models import human_count, model_rows
from audit.report.benchmark_section import planted_noise_section
from audit.report.pairs_section import pairs_section
from labelcore.errors import ConfigError
from labelcore.io import check_not_source

#: Every figure a report may draw, as ``<stem>-<name>.png`` beside it.
FIGURES = ("confusion", "class-quality", "models", "before-after", "learning-curve")
from audit.options import BAR_METRICS  # noqa: E402 - declared once


def write_report(
    issues_dir: str | Path,
    out: str | Path,
    *,
    retrain_dir: str | Path | None = None,
    requirement: Requirement | None = None,
    learning_curve_dir: str | Path | None = None,
    accuracy_bar: float = 0.9,
    bar_on: str = "auto",
    top_issues: int = 25,
    top_pairs: int = 10,
    heatmap_classes: int = 12,
    annotations: str | Path | Sequence[str | Path] | None = None,
    benchmark_dirs: Sequence[str | Path] = (),
    html: bool = False,
) -> Path:
    """Write the report to ``out`` (markdown), its figures beside it (``<stem>-*.png``) and, with
    ``html``, a standalone page (``<stem>.html``). Everything is rendered first, then moved into
    place; figures of an earlier report of the same name that this one does not draw are removed.

    ``requirement``: what the decision section checks (:class:`audit.decision.Requirement`);
    without one, ``Requirement(bar=accuracy_bar, metric="accuracy", on=bar_on)`` (``bar_on``:
    ``auto``, ``oof`` or ``test``). ``learning_curve_dir``: the ``--out`` folder of
    ``audit learning-curve`` (adds "too little data?"). Returns ``out``.
    ``annotations``: the ``decisions.annotations.csv`` of ``audit import-labelstudio`` adds a
    reviewer-agreement section; several files (one per review round, oldest first) add how
    agreement changed between rounds, overall and for each confused pair.
    ``benchmark_dirs``: ``--out`` folders of ``audit benchmark`` add detection on planted noise
    (runs on the same noise side by side, e.g. without and with a model).
    """
    if isinstance(annotations, (str, Path)):
        annotations = [annotations]
    annotations = list(annotations) if annotations else None
    if requirement is None:
        requirement = Requirement(bar=accuracy_bar, metric="accuracy", on=bar_on)
    curve = read_learning_curve(learning_curve_dir) if learning_curve_dir is not None else None
    run = read_run_folder(issues_dir)
    key = f"test_{requirement.metric}"
    if requirement.on == "test" and not any(getattr(b, key, None) is not None
                                            for b in (run.summary.backends if run.summary else [])):
        raise ConfigError(f"--bar-on test: {issues_dir} records no test {requirement.metric} for any backend "
                          "(the dataset has no test split, or the run did not score it); use --bar-on oof")
    retrain = read_retrain(retrain_dir) if retrain_dir is not None else None
    benchmarks = [read_benchmark(d) for d in benchmark_dirs]
    out = Path(out)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give the markdown file to write (e.g. {out / 'report.md'})")
    check_not_source(out, [issues_dir, *benchmark_dirs] + ([retrain_dir] if retrain_dir is not None else []))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.stem}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise ConfigError(f"--out {out} cannot be written: {exc.strerror or exc}") from None
    try:
        _render(run, retrain, staging / out.name, requirement=requirement, curve=curve,
                top_issues=top_issues, top_pairs=top_pairs, heatmap_classes=heatmap_classes, html=html,
                annotations=annotations, benchmarks=benchmarks)
        stale = {out.parent / f"{out.stem}-{name}.png" for name in FIGURES}
        stale = {f for f in stale if f.exists()}  # only this report's own figures, never a neighbour's
        for item in sorted(staging.iterdir()):
            os.replace(item, out.parent / item.name)
            stale.discard(out.parent / item.name)
        for item in stale:
            item.unlink()
        if not html:
            out.with_suffix(".html").unlink(missing_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _render(run: IssuesRun, retrain: dict | None, out: Path, *, requirement: Requirement, curve,
            top_issues: int, top_pairs: int, heatmap_classes: int, html: bool,
            annotations: list[str | Path] | None = None, benchmarks: Sequence[dict] = ()) -> None:
    def figure(name: str) -> Path:
        assert name in FIGURES, name  # every figure is listed, so a rerun can remove stale ones
        return out.parent / f"{out.stem}-{name}.png"

    votes = by_round = None
    if annotations is not None:  # each file read once, for the guidelines and the agreement section
        from audit.agreement import agreement_by_round, read_votes

        votes = [read_votes(p) for p in annotations]
        by_round = agreement_by_round(votes, labels=_issue_labels(run))
    sections = [
        _title(run),
        _health(run),
        _buckets(run),
        _top_issues(run, top_issues),
        _pairs(run, top_pairs),
        _guidelines(run, votes, by_round),
        _heatmap(run, heatmap_classes, figure("confusion")),
        _class_quality(run, figure("class-quality")),
        _models(run, requirement.bar, figure("models")),
        *_decision(run, requirement, curve, figure("learning-curve")),
    ]
    if retrain is not None:
        sections.append(_before_after(retrain, figure("before-after")))
    if by_round is not None:
        sections.append(_agreement(by_round))
    sections.append(planted_noise_section(list(benchmarks)))
    text = "\n\n".join(s.strip() for s in sections if s) + "\n"
    out.write_text(text, encoding="utf-8")
    if html:
        out.with_suffix(".html").write_text(report_html(text), encoding="utf-8")


def _link(path: Path, alt: str) -> str:
    return f"![{escape(alt)}]({path.name})"


def _title(run: IssuesRun) -> str:
    s = run.summary
    bits = [f"Data: {escape(s.data, max_chars=200)}" if s and s.data else None,
            f"split {escape(s.split)}" if s and s.split else None,
            f"fingerprint {escape(s.data_fingerprint)}" if s and s.data_fingerprint else None,
            f"{len(run.classes)} classes" if run.classes else None,
            f"{s.folds}-fold out-of-fold predictions" if s and s.folds else None]
    line = "; ".join(b for b in bits if b)
    return f"# Data-quality report\n\n{line}." if line else "# Data-quality report"


def _health(run: IssuesRun) -> str:
    probs = run.ensemble_pred_probs()
    numbers = health_numbers(run.oof["labels"] if run.oof else None, probs, run.issues)
    if "n_flagged" not in numbers and run.summary and run.summary.n_label_issues is not None:
        numbers["n_flagged"] = run.summary.n_label_issues
    if "ensemble_accuracy" not in numbers and run.summary and run.summary.ensemble_accuracy is not None:
        numbers["ensemble_accuracy"] = run.summary.ensemble_accuracy
    rows = [
        ("examples audited", numbers.get("n_examples")),
        ("flagged as label issues", numbers.get("n_flagged")),
        ("share flagged", numbers.get("flagged_share")),
        ("label health (1 − share flagged)", numbers.get("health_score")),
        ("cleanlab overall_label_health_score (ensemble OOF)", numbers.get("cleanlab_health_score")),
        ("every model disagrees with the given label", numbers.get("n_flagged_by_all")),
        ("mean label quality", numbers.get("mean_label_quality")),
        ("ensemble out-of-fold accuracy", numbers.get("ensemble_accuracy")),
    ]
    rows = [r for r in rows if r[1] is not None]
    if not rows:
        return ""
    return "## Overall health\n\n" + table(["measure", "value"], rows, align="lr") + (
        "\n\nThe two health scores count issues differently: ours uses the aggregated detector's "
        "flags; cleanlab's counts its own estimate of label issues from one set of probabilities."
        if "cleanlab_health_score" in numbers and "health_score" in numbers else ""
    )


def _buckets(run: IssuesRun) -> str:
    from audit.buckets import BUCKET_TITLES, bucket_counts

    if run.issues is None or "bucket" not in run.issues:
        return ""
    counts = bucket_counts(run.issues["bucket"])
    total = sum(counts.values())
    rows = [[BUCKET_TITLES[b], n, f"{n / total:.1%}" if total else "–"] for b, n in counts.items()]
    return ("## Flagged rows by bucket\n\nEach flagged row is in one bucket (the first that applies, in this "
            f"order); {total:,} rows in all. The Label Studio export groups its tasks the same way.\n\n"
            + table(["bucket", "rows", "share"], rows + [["all flagged", total, "100%" if total else "–"]],
                    align="lrr"))


def _top_issues(run: IssuesRun, top: int) -> str:
    issues = run.issues
    if issues is None or issues.empty or top <= 0:
        return ""
    frame = issues.copy()
    if "label_quality" in frame:
        frame = frame.sort_values("label_quality", kind="stable")
    if "is_label_issue" in frame:
        flagged = frame["is_label_issue"].astype(bool)
        frame = frame[flagged] if flagged.any() else frame
    shown = frame.head(top)
    cols = [("row", "row"), ("example_id", "id"), ("text", "text"), ("given_label", "given"),
            ("suggested_label", "suggested"), ("label_quality", "quality")]
    cols = [(c, h) for c, h in cols if c in shown]
    header = [h for _, h in cols] + (["models disagreeing"] if "n_models_disagree" in shown else [])
    rows = []
    for rec in shown.to_dict("records"):
        cells = [escape(rec[c], max_chars=120) if c == "text" else
                 (rec[c] if c in ("row", "label_quality") else escape(rec[c])) for c, _ in cols]
        if "n_models_disagree" in shown:
            cells.append(f"{fmt(rec['n_models_disagree'])}/{fmt(rec.get('n_models'))}")
        rows.append([_plain(c) for c in cells])
    align = "".join("r" if c in ("row", "label_quality") else "l" for c, _ in cols) + "c" * ("n_models_disagree" in shown)
    return (f"## Top issues\n\nThe {len(shown)} examples with the lowest label quality, of {len(frame)} "
            f"{'flagged' if len(frame) < len(issues) else 'audited'}. Texts are shown as written "
            "(markdown and HTML in them are escaped).\n\n" + table(header, rows, align=align))


def _pairs(run: IssuesRun, top: int) -> str:
    return pairs_section(run.pairs, top=top)


def _heatmap(run: IssuesRun, top: int, path: Path) -> str:
    probs = run.ensemble_pred_probs()
    if probs is None:
        return ""
    confusion = get_confusion_counts(run.oof["labels"], probs)
    pick = most_confused_classes(confusion, top=top)
    names = [run.classes[i] for i in pick]
    figures.confusion_heatmap(confusion[np.ix_(pick, pick)], names, path,
                              title=f"The {len(pick)} most confused classes")
    return (f"## Most confused classes\n\n{_link(path, 'confusion heatmap')}\n\n"
            "Rows are given labels, columns the out-of-fold ensemble's prediction; each cell is the "
            "share of the row's examples. Off-diagonal mass is where labels and models disagree.")


def _class_quality(run: IssuesRun, path: Path, *, rows: int = 15) -> str:
    probs = run.ensemble_pred_probs()
    if probs is None:
        return ""
    ranked = class_label_quality(run.oof["labels"], probs, run.classes)
    worst = ranked.head(rows)
    figures.class_quality_bars(list(worst["Class Name"]), list(worst["Label Quality Score"]), path,
                               title=f"Per-class label quality (worst {len(worst)})")
    body = table(
        ["class", "label issues", "inverse label issues", "label noise", "label quality"],
        ([escape(r["Class Name"]), int(r["Label Issues"]), int(r["Inverse Label Issues"]),
          float(r["Label Noise"]), float(r["Label Quality Score"])] for r in worst.to_dict("records")),
        align="lrrrr",
    )
    return (f"## Per-class label quality\n\n{_link(path, 'per-class label quality')}\n\n{body}\n\n"
            "From cleanlab's `rank_classes_by_label_quality` on the ensemble's out-of-fold "
            "probabilities: `label issues` are examples given this label that look like another "
            "class; `inverse` ones are given another label but look like this one.")


def _models(run: IssuesRun, bar: float, path: Path) -> str:
    rows = model_rows(run.summary)
    if not rows:
        return ""
    figures.model_scales(rows, path, bar=bar)
    body = table(
        ["backend", "parameters", "OOF accuracy", "test accuracy", "training time (s)"],
        ([escape(r["name"]), human_count(as_number(r["n_parameters"])), as_number(r["oof_accuracy"]),
          as_number(r["test_accuracy"]), _seconds(r["seconds"])] for r in rows),
        align="lrrrr",
    )
    return (f"## Models across scales\n\n{_link(path, 'models across scales')}\n\n{body}\n\n"
            "Training time is the out-of-fold runs' (all folds; 0 for folds read from the cache). Test "
            "accuracy: each backend trained once on the whole split, scored on the test split. For "
            "predictions made elsewhere (`precomputed`), both are as measured where they were made "
            "(`seconds=`, `test=`).")


def _decision(run: IssuesRun, requirement: Requirement, curve, figure_path: Path) -> list[str]:
    import dataclasses

    backends = [dataclasses.asdict(b) for b in (run.summary.backends if run.summary else [])]
    if not backends:
        return []
    decision = decide(backends, requirement, pairs=run.pairs, curve=curve)
    sections = [costs_markdown(decision), decision_markdown(decision)]
    if curve is not None and not curve.empty:
        figures.learning_curve_figure(curve, figure_path, bar=requirement.bar)
        sections.append(f"{_link(figure_path, 'learning curves')}\n\nLearning curves: test accuracy against "
                        "training rows (nested stratified shares of the train split, one seed), 95% Wilson intervals shaded.")
    return sections


def _before_after(result: dict, path: Path) -> str:
    from audit.retrain import retrain_markdown

    figures.before_after_intervals(result, path)
    return (f"## Before and after the fix\n\n{_link(path, 'before/after intervals')}\n\n"
            + retrain_markdown(result)
            + "\nA verdict of *gain* or *loss* means the interval excludes 0; *within noise* means "
            "this test set cannot tell the two apart.")


def _guidelines(run: IssuesRun, votes: list | None, by_round: dict | None, *, top: int = 5) -> str:
    """``votes``: each review round's votes (``read_votes``), oldest first; ``by_round``: their
    :func:`audit.agreement.agreement_by_round`."""
    from audit.guidelines import draft_guideline, is_data_problem

    if run.pairs is None or run.issues is None or "diagnosis" not in run.pairs:
        return ""
    pairs = run.pairs[run.pairs["diagnosis"].map(is_data_problem)].head(top)
    if pairs.empty:
        return ""
    reviewed = _reviewed_labels(votes) if votes is not None else None
    change = {}
    if by_round is not None and len(by_round["rounds"]) > 1:
        change = {frozenset((p["label_a"], p["label_b"])): p for p in by_round["per_pair"]}
    texts, labels = run.issues["text"].astype(str).tolist(), run.issues["given_label"].astype(str)
    ids = run.issues["example_id"].astype(str).tolist()
    parts = ["## Guidelines for confused pairs",
             f"Drafted from the data for the {len(pairs)} most confused pairs diagnosed as a data problem: the "
             "words and phrases a TF-IDF logistic regression finds most telling for each label, the closest "
             "examples across the pair, and" + (" the rule the reviewers' decisions imply." if reviewed else
                                                 " (with --annotations) the rule the reviewers' decisions imply.")]
    for rec in pairs.to_dict("records"):
        g = draft_guideline(texts, labels, label_a=rec["label_a"], label_b=rec["label_b"], reviewed=reviewed,
                            example_ids=ids)
        parts.append(f"### {escape(g['label_a'])} vs {escape(g['label_b'])}")
        parts.append(table(["label", "examples", "discriminative words"],
                           [[escape(g["label_a"]), g["n_a"], escape(", ".join(g["terms_a"]))],
                            [escape(g["label_b"]), g["n_b"], escape(", ".join(g["terms_b"]))]], align="lrl"))
        if g["contrasts"]:
            parts.append(table([f"text ({escape(g['label_a'])})", f"text ({escape(g['label_b'])})", "similarity"],
                               [[escape(c["text_a"], max_chars=160), escape(c["text_b"], max_chars=160),
                                 c["similarity"]] for c in g["contrasts"]], align="llr"))
        r = g["rule"]
        if r:
            moved = lambda n, terms: f"{n}" + (f" (they mention {escape(', '.join(terms))})" if terms else "")  # noqa: E731
            parts.append(f"Reviewers decided {r['n_reviewed']} examples of the pair: "
                         f"{moved(r['moved_a_to_b'], r['terms_a_to_b'])} moved to {escape(g['label_b'])}, "
                         f"{moved(r['moved_b_to_a'], r['terms_b_to_a'])} moved to {escape(g['label_a'])}, "
                         f"{r['kept']} kept.")
        moved_on = change.get(frozenset((g["label_a"], g["label_b"])))
        if moved_on is not None:
            steps = " -> ".join(f"{o:.2f} ({k} tasks)" if o is not None else "–"
                                for o, k in zip(moved_on["observed_agreement"], moved_on["n_tasks"]))
            parts.append(f"Reviewer agreement on this pair by round: {steps}; "
                         + (f"it {moved_on['verdict']} ({moved_on['change']:+.2f})." if moved_on["change"] is not None
                            else "only one round has enough tasks with two votes to tell."))
    return "\n\n".join(parts)


def _reviewed_labels(votes: list) -> dict[str, str]:
    """example_id -> the label the strict majority of valid votes gave it (relabel or keep); an
    example reviewed in several rounds keeps the latest round's decision."""
    out = {}
    for round_votes in votes:
        out.update(_majority_labels(round_votes))
    return out


def _majority_labels(votes) -> dict[str, str]:
    from collections import Counter

    out = {}
    for example, group in votes.groupby("example_id"):
        ranked = Counter(group["vote"]).most_common()
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            continue
        decision, _, label = ranked[0][0].partition("->")
        if decision in ("relabel", "keep") and label:
            out[str(example)] = label
    return out


def _agreement(by_round: dict) -> str:
    from audit.agreement import agreement_markdown, rounds_markdown

    n = len(by_round["rounds"])
    text = "## Reviewer agreement\n\n"
    if n > 1:
        text += (f"### Across {n} review rounds\n\n" + rounds_markdown(by_round)
                 + f"\n\n### Round {n} (the latest)\n\n")
    return text + agreement_markdown(by_round["rounds"][-1])


def _issue_labels(run: IssuesRun) -> dict[str, tuple[str, str]] | None:
    from audit.agreement import labels_from_issues

    return labels_from_issues(run.issues) if run.issues is not None else None




def _seconds(value) -> str:
    x = as_number(value)
    return "–" if x is None else f"{x:,.1f}"


def _plain(value):
    """Numbers stay numbers (formatted by the table); NaN becomes missing."""
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    return value if isinstance(value, str) or value is None else str(value)


#: Columns (by header text) that hold prose: they get the room; label columns break at "_".
WIDE_COLUMNS = {"text", "evidence", "why", "reason", "note", "guideline",  # a pair's recommendation is one word
                "rows to review (row ids)"}
LABEL_COLUMNS = {"given", "suggested", "label a", "label b", "class", "label", "backend", "bucket", "id",
                 "annotator", "discriminative words"}
NUMBER_COLUMNS = {"row", "n a as b", "n b as a", "confusion rate", "quality", "rows", "share", "votes", "tasks"}
REPORT_CSS = """
body{font-family:system-ui,sans-serif;max-width:1280px;margin:2em auto;padding:0 1.5em;line-height:1.45;color:#222}
.table-wrap{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:1em 0;font-size:0.88em}
td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f3f3f3}
td.num,th.num{text-align:right}
td.num{white-space:nowrap}
td.num.interval{white-space:normal;min-width:6em}
td.wide{min-width:18em;overflow-wrap:anywhere}
td.label{min-width:9em;overflow-wrap:anywhere}
img{max-width:100%;height:auto}
code{background:#f6f6f6;overflow-wrap:anywhere}
"""


def report_html(markdown_text: str, *, title: str = "Data-quality report") -> str:
    """Render the report markdown to a standalone HTML page (markdown-it, a rich dependency).

    Tables are laid out for a browser: prose columns (text, evidence, ...) get a minimum width
    and take the room, label columns may break after an underscore (``<wbr>``), numbers never
    wrap (a number with its interval may break before the interval; headers always may), and
    every table sits in a horizontally scrollable box so that the page itself never runs off
    the right edge. User text stays escaped (raw HTML is not parsed).
    """
    from html import escape as html_escape

    from markdown_it import MarkdownIt
    from markdown_it.token import Token

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(markdown_text)
    kinds: list[str] = []
    column = 0
    for i, tok in enumerate(tokens):
        if tok.type == "tr_open":
            column = 0
        elif tok.type in ("th_open", "td_open"):
            if tok.type == "th_open":
                header = tokens[i + 1].content.strip().lower() if tokens[i + 1].type == "inline" else ""
                kind = ("wide" if header in WIDE_COLUMNS else "label" if header in LABEL_COLUMNS
                        else "num" if header in NUMBER_COLUMNS or (tok.attrGet("style") or "").endswith("right")
                        else "")
                if column == 0:
                    kinds = []
                kinds.append(kind)
            kind = kinds[column] if column < len(kinds) else ""
            if kind == "num" and tok.type == "td_open" and "[" in tokens[i + 1].content:
                kind = "num interval"  # "22% [5%, 42%]": right-aligned, may break before the interval only
                for child in tokens[i + 1].children or []:
                    if child.type == "text":
                        child.content = child.content.replace(", ", ",\u00a0")
            if kind:
                tok.attrSet("class", kind)
            if kind == "label" and tok.type == "td_open" and tokens[i + 1].type == "inline":
                children = []
                for child in tokens[i + 1].children or []:
                    if child.type != "text" or "_" not in child.content:
                        children.append(child)
                        continue
                    # a break opportunity after each underscore: card_<wbr>delivery_<wbr>estimate
                    html = "_<wbr>".join(html_escape(part, quote=False) for part in child.content.split("_"))
                    raw = Token("html_inline", "", 0)
                    raw.content = html
                    children.append(raw)
                tokens[i + 1].children = children
            column += 1
    body = md.renderer.render(tokens, md.options, {})
    body = body.replace("<table>", '<div class="table-wrap"><table>').replace("</table>", "</table></div>")
    return (f"<!doctype html><html><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html_escape(title)}</title><style>{REPORT_CSS}</style></head><body>{body}</body></html>")
