"""``audit retrain``: did the cleanup make the models better, and by how much?"""

from __future__ import annotations

from pathlib import Path

import typer

from audit.cli.options import Backends, Executor, RayAddress, command_group
from audit.cli.tables import comparison_table
from labelcore.cli import console, guarded

commands = command_group()


@commands.command("retrain")
@guarded
def retrain_command(
    before: str = typer.Option(..., "--before", help="Dataset before the cleanup (spec or version folder)."),
    after: str = typer.Option(..., "--after", help="Dataset after the cleanup (a version folder from `audit apply`)."),
    backend: Backends = ["tfidf-lr"],
    seeds: int = typer.Option(3, "--seeds", min=1, help="Train with seeds 0..N-1 on both versions."),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=100, help="Paired bootstrap resamples of the test set."),
    confidence: float = typer.Option(0.95, "--confidence", help="Interval level."),
    out: Path = typer.Option(..., "--out", help="Folder for retrain.json and retrain.md."),
    executor: Executor = "local",
    ray_address: RayAddress = None,
) -> None:
    """Measure the cleanup: retrain on both versions and compare, with confidence intervals.

    The same backends with the same seeds are trained on both versions and scored on the same test examples: accuracy, macro-F1 and per-class F1, each difference with a paired bootstrap interval (a gain whose interval excludes 0 is not noise).

    Two test sets: the original one (labels untouched) and the one the decisions changed (merges applied; the before-model's predictions are mapped into the merged labels).

    Examples:

      audit retrain --before demo --after runs/demo-v1 --backend tfidf-lr --out runs/retrain

      audit retrain --before banking77 --after runs/b77-v1 --backend tfidf-lr --backend minilm-lr --seeds 5 --out runs/retrain

      audit retrain --before demo --after runs/demo-v1 --backend tfidf-lr --seeds 5 --executor ray --out runs/retrain
    """
    from rich.markup import escape

    from audit.formats.retrain_result import FILE
    from audit.retrain import retrain_compare, write_retrain
    from finetune.executors import make_executor
    from labelcore.data import load_data
    from labelcore.io import check_output_folder

    before_data, after_data = load_data(before), load_data(after)
    inputs = before_data.source_paths + after_data.source_paths
    check_output_folder(out, marker=FILE, inputs=inputs)
    with make_executor(executor, address=ray_address) as runner:
        result = retrain_compare(before_data, after_data, backends=backend, seeds=seeds,
                                 n_resamples=bootstrap, confidence=confidence, executor=runner)
    path = write_retrain(result, out, inputs=inputs)
    view = comparison_table(result, confidence=confidence, group="test set", group_key="evaluation",
                            title=f"after - before ({len(result['seeds'])} seed(s), paired bootstrap)")
    console.print(view)
    console.print(f"Wrote {escape(str(path))} and {escape(str(path.with_suffix('.md')))}")
