"""``audit learning-curve``."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from audit.cli.options import command_group
from labelcore.cli import console, fold_progress, guarded

commands = command_group()


@commands.command("learning-curve")
@guarded
def learning_curve_command(
    data: str = typer.Option(..., "--data", "-d", help="Dataset with a train and a test split (definition name, .toml, file, folder or hf:ID)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder: learning_curve.csv and learning_curve.png."),
    backend: List[str] = typer.Option(["tfidf-lr", "minilm-lr", "minilm-knn"], "--backend", "-b", help="Backend spec NAME[:key=value,...]; repeat for several. See `audit backends`."),
    fractions: str = typer.Option("0.1,0.25,0.5,1", "--fractions", help="Shares of the train split, comma-separated, each in (0, 1]."),
    seed: int = typer.Option(0, help="Seed of the subsets and the models (the same for every backend and share)."),
    bar: Optional[float] = typer.Option(None, "--bar", help="Draw the requirement as a line on the figure."),
    text_column: Optional[str] = typer.Option(None, help="Text column (default: the definition's, else 'text')."),
    label_column: Optional[str] = typer.Option(None, help="Label column (default: the definition's, else 'label')."),
    cache_dir: Optional[Path] = typer.Option(None, help="Cache of sentence embeddings (default $LABEL_AUDIT_CACHE or ~/.cache/label-audit)."),
) -> None:
    """Train each backend on growing shares of the training data, score it on the test split.

    The shares are nested and stratified (every class keeps its proportion; 25% contains 10%); every backend sees the same rows. Writes learning_curve.csv (backend, fraction, n_train, accuracy and macro-F1 with 95% intervals, ...) and learning_curve.png. Give the folder to `audit report --learning-curve` to answer "too little data?": is a curve still rising at 100%, and does a bigger model reach the bar with less data?

    Examples:

      audit learning-curve --data demo -b tfidf-lr -b minilm-lr --out runs/demo-curve

      audit learning-curve --data banking77 -b tfidf-lr -b minilm-lr -b minilm-knn --fractions 0.1,0.25,0.5,1 --out runs/b77-curve
    """
    from labelcore.data import load_data
    from labelcore.errors import DataError
    from audit.pipeline import backend_names
    from audit.learning_curve import learning_curve, parse_fractions, write_learning_curve
    from finetune.backends import parse_backend_spec
    from finetune.cache import default_cache_dir

    shares = parse_fractions(fractions)
    configs = [parse_backend_spec(b, seed=seed) for b in backend]
    bundle = load_data(data, text_column=text_column, label_column=label_column)
    if bundle.test is None or "train" not in bundle.splits:
        raise DataError("a learning curve needs a train and a test split", path=data)
    with fold_progress() as on_progress:
        curve = learning_curve(bundle.splits["train"], bundle.test, configs, fractions=shares, seed=seed,
                               names=backend_names(configs), cache_dir=str(cache_dir or default_cache_dir()),
                               progress=on_progress)
    paths = write_learning_curve(curve, out, bar=bar)
    for r in curve.to_dict("records"):
        console.print(f"  {r['backend']:<12} {r['fraction']:>5g} ({r['n_train']:>6,} rows)  test accuracy "
                      f"{r['accuracy']:.3f} [{r['accuracy_low']:.3f}, {r['accuracy_high']:.3f}]  macro-F1 {r['macro_f1']:.3f}")
    console.print(f"Wrote {', '.join(p.name for p in paths.values())} to {out}")
