"""``audit rerank``: after a batch of decisions, re-score what is left and flag the new top."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional

import typer

from audit.cli.options import command_group
from labelcore.cli import console, fold_progress, guarded


commands = command_group()


@commands.command("rerank")
@guarded
def rerank_command(
    data: str = typer.Option(..., "--data", "-d", help="The dataset the decisions are about (see find-issues --data)."),
    decisions: Path = typer.Option(..., "--decisions", exists=True, dir_okay=False,
                                   help="The decision log so far (audit import-labelstudio --out)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the re-scored find-issues output."),
    backend: List[str] = typer.Option(["tfidf-lr"], "--backend", "-b", help="Fast tier to retrain out-of-fold."),
    folds: int = typer.Option(5, min=2),
    seed: int = typer.Option(0),
    jobs: int = typer.Option(min(2, os.cpu_count() or 1), help="Folds in parallel."),
    cache_dir: Optional[Path] = typer.Option(None, help="Fold cache (default $LABEL_AUDIT_CACHE or ~/.cache/label-audit)."),
    learn: bool = typer.Option(True, "--learn/--no-learn",
                               help="Learn from the decisions which flags are real errors (issues.csv gets "
                               "review_error_probability; the export orders each bucket by it). Needs 50 decisions, "
                               "5 of each outcome."),
) -> None:
    """Re-rank the remaining flags with the labels as the reviewers left them (active re-ranking).

    The backends are retrained out-of-fold on the corrected labels (relabels applied; folds come from the cache when nothing changed) and every row not reviewed yet is scored again; reviewed rows are never flagged again. A small model learns from the decisions (relabel = an error, keep = not) which evidence marks a real error on this dataset, and the next export puts the rows it finds most likely wrong first. OUT is a find-issues folder: export it to the same Label Studio project and only the new top is added.

    Example (one batch of 100 at a time):

      audit export-labelstudio --issues runs/b77 --max-items 100 --project-title b77

      audit import-labelstudio --issues runs/b77 --out runs/b77/decisions.csv

      audit rerank --data banking77 --decisions runs/b77/decisions.csv -b tfidf-lr --out runs/b77-r1

      audit export-labelstudio --issues runs/b77-r1 --max-items 100 --project-title b77
    """
    from rich.markup import escape

    from audit.formats.decision_log import read_decisions
    from audit.formats.run_folder import write_run_folder
    from audit.rerank import rerank_after_review
    from finetune.backends import parse_backend_spec
    from finetune.cache import default_cache_dir
    from labelcore.data import load_data

    log = read_decisions(decisions)
    configs = [parse_backend_spec(b, seed=seed) for b in backend]
    bundle = load_data(data)
    with fold_progress() as on_progress:
        result, n_reviewed = rerank_after_review(bundle.train, log, configs, n_folds=folds, seed=seed,
                                     cache_dir=str(cache_dir or default_cache_dir()), n_jobs=jobs,
                                     progress=on_progress, data_spec=data, learn=learn)
    write_run_folder(result, out, inputs=bundle.source_paths)
    console.print(f"{n_reviewed} rows reviewed so far; {result.summary.n_label_issues} not yet reviewed are "
                  f"flagged. Wrote {escape(str(out))}")
    if "review_error_probability" in result.issues:
        console.print("The export puts first the rows the decisions so far mark as most likely wrong "
                      "(review_error_probability).")
    elif learn:
        console.print("Nothing learnt from the decisions yet (50 needed, 5 relabelled and 5 kept): "
                      "the export orders by label quality.")
