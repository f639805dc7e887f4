"""``finetune``: train a backend on a CSV, predict label probabilities, build tiny test models.

A thin shell: each command parses options, calls one library function, renders with rich.
Heavy imports (torch, transformers) happen inside the commands so ``--help`` is instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from labelcore.cli import OptionErrorGroup, console, guarded
from labelcore.errors import DataError

app = typer.Typer(
    name="finetune",
    help=(
        "Fine-tune text classifiers (causal LMs: full / lora / qlora) and score labels.\n\n"
        "Backend specs: [bold]NAME:MODEL,key=value,...[/] e.g. "
        "'full:path/to/model,head=classifier,epochs=1' or 'qlora:preset=qwen2.5-7b-qlora'."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=OptionErrorGroup,
)


def read_training_data(data: str, *, text_column: str | None, label_column: str | None):
    """Texts ``(N,)`` and label names ``(N,)`` of the train split of ``data``, read by the
    team's loader (a file, a dataset definition such as ``banking77``, a dataset directory)."""
    import numpy as np

    from labelcore.data import load_data
    from labelcore.data.validate import check_trainable

    split = load_data(data, text_column=text_column, label_column=label_column).train
    check_trainable(split)
    return list(split.texts), np.asarray(split.classes)[split.labels]


def read_texts(path: Path, *, text_column: str) -> list[str]:
    """The ``text_column`` of a table file (CSV/TSV/JSONL/JSON/Parquet); no labels needed."""
    from labelcore.data.readers import read_table
    from labelcore.data.validate import check_text_value

    frame = read_table(path)
    if text_column not in frame.columns:
        raise DataError(f"no such column; columns: {', '.join(map(str, frame.columns))}", path=path, column=text_column)
    texts = []
    for row, value in enumerate(frame[text_column].tolist()):
        if value is None or (isinstance(value, float) and value != value):
            value = ""
        texts.append(check_text_value(value, path=str(path), row=row, column=text_column))
    return texts


def _quiet_transformers() -> None:
    try:
        import transformers
    except ImportError:  # the CPU backends do not need it
        return
    transformers.logging.set_verbosity_error()


@app.command()
@guarded
def train(
    data: str = typer.Option(..., "--data", help="Labelled data: a CSV/TSV/JSONL/Parquet file or a dataset definition (banking77)."),
    backend: str = typer.Option(..., "--backend", help="Backend spec, e.g. 'lora:path/to/model,head=classifier'."),
    out: Path = typer.Option(..., "--out", help="Directory for the trained model (and checkpoints/)."),
    text_column: Optional[str] = typer.Option(None, "--text-column", help="Column with the texts (default: the definition's, else 'text')."),
    label_column: Optional[str] = typer.Option(None, "--label-column", help="Column with the label names (default: the definition's, else 'label')."),
) -> None:
    """Train a backend on labelled data (a file or a dataset definition) and save it to OUT.

    Checkpoints go to OUT/checkpoints (unless the spec sets output_dir); rerunning the same
    command after an interruption resumes from the last one.

    Examples:

      finetune tiny-model models/tiny --arch gemma3

      finetune train --data train.csv --backend full:models/tiny,epochs=1 --out runs/tiny

      finetune train --data train.csv --backend full:preset=gemma3-270m-full --out runs/gemma
    """
    import time

    from labelcore.io import check_output_dir
    from finetune.backends.registry import fit_and_save, parse_backend_spec

    check_output_dir(out)
    config = parse_backend_spec(backend)
    if "output_dir" in config.help() and not getattr(config, "output_dir"):
        config = parse_backend_spec(backend, output_dir=str(out / "checkpoints"))
    texts, labels = read_training_data(data, text_column=text_column, label_column=label_column)
    _quiet_transformers()
    started = time.perf_counter()
    model = fit_and_save(config, texts, labels, out)
    losses = [r["loss"] for r in getattr(model, "train_log_", []) if "loss" in r]
    loss = f", last logged loss {losses[-1]:.4f}" if losses else ""
    console.print(
        f"Trained [bold]{config.backend}[/] on {len(texts)} rows, {len(model.classes_)} labels "
        f"in {time.perf_counter() - started:.1f} s{loss}; saved to {out}"
    )


@app.command()
@guarded
def predict(
    model: Path = typer.Option(..., "--model", help="Directory written by 'finetune train'."),
    data: Path = typer.Option(..., "--data", help="A CSV/TSV/JSONL/Parquet file with a text column."),
    out: Path = typer.Option(..., "--out", help="Output CSV: predicted_label + one proba__<label> column per label."),
    text_column: str = typer.Option("text", "--text-column", help="Column with the texts."),
) -> None:
    """Write label probabilities for every row of a CSV.

    Example:

      finetune predict --model runs/tiny --data test.csv --out probs.csv
    """
    import pandas as pd

    from labelcore.io import check_output_file, write_csv
    from finetune.backends.registry import load_backend

    check_output_file(out)
    texts = read_texts(data, text_column=text_column)
    _quiet_transformers()
    backend = load_backend(model)
    probs = backend.predict_proba(texts)  # NaN / inf raise ModelError (exit 70): nothing written
    frame = pd.DataFrame(probs, columns=[f"proba__{c}" for c in backend.classes_])
    frame.insert(0, "predicted_label", backend.classes_[probs.argmax(axis=1)] if len(texts) else [])
    frame.insert(0, "row", range(len(frame)))
    write_csv(frame, out)
    console.print(f"Wrote {len(frame)} rows x {len(backend.classes_)} labels to {out}")


@app.command("tiny-model")
@guarded
def tiny_model(
    out: Path = typer.Argument(..., help="Directory to write the model and tokenizer to."),
    arch: str = typer.Option("gemma3", "--arch", help="gemma3, qwen2 or llama."),
    hidden: int = typer.Option(64, "--hidden", help="Hidden size."),
    layers: int = typer.Option(2, "--layers", help="Number of layers."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the weights."),
) -> None:
    """Build a tiny random model of a real architecture, with a locally trained tokenizer.

    For pipeline smoke tests without downloads; loads with from_pretrained(OUT).

    Example:

      finetune tiny-model models/tiny-qwen2 --arch qwen2
    """
    from finetune.backends.lm.tiny import build_tiny_model

    _quiet_transformers()
    path = build_tiny_model(out, arch=arch, hidden=hidden, layers=layers, seed=seed)
    console.print(f"Wrote a tiny {arch} model ({hidden} hidden, {layers} layers) to {path}")


@app.command()
def presets() -> None:
    """List the shipped presets (finetune/presets/*.json)."""
    from finetune.backends.lm.presets import available_presets

    for name, path in available_presets().items():
        console.print(f"[bold]{name}[/]  {path.read_text().strip()}", highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
