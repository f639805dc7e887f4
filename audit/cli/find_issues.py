"""``audit find-issues``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional

import typer

from audit.cli.options import (
    DEFAULT_BACKENDS, Backends, CacheDir, Data, Executor, Folds, RayAddress, Seed, command_group,
)
from labelcore.cli import console, fold_progress, guarded

commands = command_group()


@commands.command("find-issues")
@guarded
def find_issues_command(
    data: Data,
    out: Path = typer.Option(..., "--out", "-o", help="Output folder, written whole: a failed run leaves an earlier one as it was."),
    backend: Backends = DEFAULT_BACKENDS,
    text_column: Optional[str] = typer.Option(None, help="Text column (default: the definition's, else 'text')."),
    label_column: Optional[str] = typer.Option(None, help="Label column (default: the definition's, else 'label')."),
    id_column: Optional[str] = typer.Option(None, help="Column of unique example ids (default: derived from the text)."),
    split: str = typer.Option("train", help="Which split to audit."),
    folds: Folds = 5,
    seed: Seed = 0,
    filter_by: str = typer.Option("rank", help="How to flag: 'rank' (cleanlab estimates how many, our score picks which) or a cleanlab filter_by (prune_by_noise_rate, both, ...)."),
    weights: str = typer.Option("equal", help="Ensemble weights: 'equal' or 'log_loss' (fitted on out-of-fold log loss)."),
    rounds: int = typer.Option(2, min=1, max=2, help="2 = retrain every backend without the first round's flags, then score again (better ranking, twice the time); 1 = one pass."),
    noise_aware: bool = typer.Option(True, "--noise-aware/--plain", help="Score with the noise-aware posterior (see docs/method.md) or the plain ensemble."),
    jobs: int = typer.Option(min(2, os.cpu_count() or 1), min=1, help="Folds trained in parallel by the local executor."),
    executor: Executor = "local",
    ray_address: RayAddress = None,
    cache_dir: CacheDir = None,
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the cache."),
    detector: List[str] = typer.Option([], "--detector", help="Detector to run; repeat for several. Default: all that apply (label_issues, duplicates, outliers, class_quality; leakage when the dataset has a test split). `audit detectors` lists them."),
) -> None:
    """Find likely label errors and confused label pairs.

    Trains each backend out-of-fold, combines the models' probabilities and runs cleanlab's
    confident learning. Then runs the detectors (duplicates, train/test leakage, outliers in
    MiniLM embedding space, per-class label quality). Writes issues.csv, pairs.csv, oof.npz,
    summary.json, classes.csv and report.md.

    Examples:

      audit find-issues --data demo --out runs/demo

      audit find-issues --data banking77 -b tfidf-lr -b minilm-lr --out runs/b77

      audit find-issues --data my.csv --text-column utterance --label-column intent -o runs/mine

      audit find-issues --data demo --detector label_issues --detector leakage -o runs/quick

      audit find-issues --data banking77 -b tfidf-lr --executor ray -o runs/b77-ray

      audit find-issues --data banking77 -b tfidf-lr -b precomputed:path=gemma_oof.parquet,params=268000000,name=gemma -o runs/b77
    """
    from labelcore.data import load_data
    from labelcore.errors import DataError
    from audit.pipeline import find_issues
    from audit.formats.run_folder import FILES, write_run_folder
    from audit.formats.summary import FILE as SUMMARY_FILE
    from audit.settings import AuditSettings
    from finetune.executors import make_executor
    from labelcore.io import check_output_folder
    from finetune.backends import parse_backend_spec
    from finetune.cache import default_cache_dir
    from rich.markup import escape

    settings = AuditSettings(
        n_folds=folds, seed=seed, filter_by=filter_by, weights=weights, noise_aware=noise_aware, rounds=rounds,
        n_jobs=jobs, cache_dir=None if no_cache else str(cache_dir or default_cache_dir()),
        detectors=tuple(detector) or None,
    )
    configs = [parse_backend_spec(b, seed=seed) for b in backend]
    bundle = load_data(data, text_column=text_column, label_column=label_column, id_column=id_column)
    check_output_folder(out, marker=SUMMARY_FILE, inputs=bundle.source_paths)
    if split not in bundle.splits:
        raise DataError(f"no split {split!r}; splits are {sorted(bundle.splits)}", path=data)
    dataset = bundle.splits[split]
    test = bundle.test if split != "test" else None
    console.print(f"[bold]{escape(bundle.name)}[/] / {escape(split)}: {len(dataset):,} examples, {len(dataset.classes)} classes")
    with make_executor(executor, n_jobs=jobs, address=ray_address) as runner, fold_progress() as on_progress:
        result = find_issues(dataset, configs, settings, progress=on_progress, data_spec=data, test=test,
                             executor=runner)
    write_run_folder(result, out, inputs=bundle.source_paths)
    s = result.summary
    for b in s.backends:
        console.print(f"  {escape(b.name):<12} out-of-fold accuracy {b.oof_accuracy:.3f}  weight {b.ensemble_weight:.2f}")
    console.print(f"  {'ensemble':<12} out-of-fold accuracy {s.ensemble_accuracy:.3f}")
    console.print(f"[bold]{s.n_label_issues:,}[/] likely label errors; top pairs:")
    for r in result.pairs.head(5).to_dict("records"):
        console.print(f"  {escape(r['label_a'])} / {escape(r['label_b'])}: {r['confusion_rate']:.1%} ({escape(r['diagnosis'])})")
    for name, r in result.detectors.items():
        console.print(f"  detector {name:<14} {r.n_issues:>6,} rows flagged  summary score {r.summary_score:.3f}")
    written = [f for f in FILES if (out / f).exists()]
    console.print(f"Wrote {', '.join(written)} to {escape(str(out))} in {s.wall_seconds:.0f} s")


@commands.command("backends")
def backends_command() -> None:
    """List the registered backends and their options."""
    from rich.table import Table

    from finetune.backends.registry import available_backends

    t = Table("backend", "what", "options")
    for name, entry in sorted(available_backends().items()):
        opts = ", ".join(f"{k}" for k in entry.config_class().help())
        t.add_row(name, entry.summary, opts)
    console.print(t)


@commands.command("detectors")
def detectors_command() -> None:
    """List the registered detectors and the inputs each needs."""
    from rich.table import Table

    from audit.detectors import available_detectors, detector_needs

    t = Table("detector", "what", "needs")
    for name, summary in available_detectors().items():
        t.add_row(name, summary, ", ".join(detector_needs(name)))
    console.print(t)
