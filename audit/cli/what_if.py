"""``audit what-if``: merge or split classes, retrain, and measure."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

import typer

from audit.cli.options import command_group
from audit.cli.tables import comparison_table
from labelcore.cli import console, guarded


commands = command_group()


@commands.command("what-if")
@guarded
def what_if_command(
    data: str = typer.Option(..., "--data", "-d", help="Dataset with a test split (see find-issues --data)."),
    merge: Optional[Tuple[str, str]] = typer.Option(None, "--merge", metavar="TARGET SOURCE",
                                                    help="Merge SOURCE into TARGET (in train and test)."),
    split: Optional[str] = typer.Option(None, "--split", metavar="LABEL",
                                        help="Split LABEL in two sub-classes proposed by clustering its examples "
                                        "(KMeans on TF-IDF)."),
    backend: List[str] = typer.Option(["tfidf-lr"], "--backend", "-b", help="Backend spec to retrain (repeatable)."),
    seeds: int = typer.Option(1, "--seeds", min=1, help="Train with seeds 0..N-1 before and after."),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=100, help="Paired bootstrap resamples of the test set."),
    confidence: float = typer.Option(0.95, "--confidence", help="Interval level."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for what_if.json and what_if.md."),
) -> None:
    """Measure a merge or a split of classes by retraining, not only by the out-of-fold estimate of pairs.csv.

    The backend is trained on the labels as they are and on the changed labels (same seeds) and both are scored on the same test examples: accuracy and macro-F1, each difference with a paired bootstrap interval (the one of `audit retrain`). Two yardsticks: 'task' (the original task vs the changed task, as a user of the classifier sees it) and 'shared' (both in the coarser label space: what retraining adds beyond renaming).

    Examples:

      audit what-if --data banking77 --merge card_arrival card_delivery_estimate

      audit what-if --data banking77 --split card_payment_fee_charged -b tfidf-lr --seeds 3 --out runs/what-if
    """

    from audit.what_if import what_if, what_if_markdown
    from labelcore.data import load_data
    from labelcore.io import write_json, write_text

    result = what_if(load_data(data), merge=tuple(merge) if merge and all(merge) else None, split=split,
                     backends=backend, seeds=seeds, n_resamples=bootstrap, confidence=confidence)
    change = result["change"]
    if change["kind"] == "merge":
        console.print(f"merge {change['source']} into {change['target']}: {change['n_train_moved']} train and "
                      f"{change['n_test_moved']} test examples change label")
    else:
        for s in change["subclasses"]:
            console.print(f"{s['label']}: {s['n_train']} train / {s['n_test']} test; top terms: "
                          f"{', '.join(s['top_terms'])}")
    view = comparison_table(result, confidence=confidence, group="yardstick", group_key="yardstick",
                            title=f"after - before ({len(result['seeds'])} seed(s), paired bootstrap, "
                                  f"{result['data']['n_test']} test examples)")
    console.print(view)
    console.print("task: the original task vs the changed one; shared: both in the coarser label space.")
    if out is not None:
        write_json(result, out / "what_if.json")
        write_text("# What if\n\n" + what_if_markdown(result), out / "what_if.md")
        console.print(f"Wrote {out / 'what_if.json'} and {out / 'what_if.md'}")
