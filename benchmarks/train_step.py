"""Seconds per training step of the real Gemma 3 270M on CPU, for each backend x head
(batch 16, BANKING77 rows), plus the generative head with the model's own full-vocabulary
loss as a side-by-side baseline for our label-token loss. ``--width 28`` gives every row
28 tokens (the shape of the notes' figures); without it, real rows padded per batch.

    python benchmarks/train_step.py --steps 5 --width 28 --threads 2
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

VARIANTS = [  # (backend, head, full_vocab_loss)
    ("full", "classifier", False),
    ("lora", "classifier", False),
    ("qlora", "classifier", False),
    ("full", "generative", True),
    ("full", "generative", False),
    ("lora", "generative", False),
    ("qlora", "generative", False),
]


def fixed_width(examples: list[dict], width: int) -> list[dict]:
    """Every example made exactly ``width`` tokens (its prompt/text cycled or cut, the label
    tokens kept at the end), so each batch has the same shape and no padding."""
    out = []
    for e in examples:
        ids, labels = e["input_ids"], e["labels"]
        if isinstance(labels, list):  # generative: keep the label tokens (labels != -100) last
            n_label = sum(1 for t in labels if t != -100)
            prompt, label = ids[: len(ids) - n_label], ids[len(ids) - n_label :]
            body = (prompt * width)[: width - n_label]
            out.append({"input_ids": body + label, "labels": [-100] * len(body) + label})
        else:
            out.append({"input_ids": (ids * width)[:width], "labels": labels})
    return out


def measure_steps(
    model_dir: str, backend: str, head: str, full_vocab: bool, texts, labels, steps: int, batch: int,
    extra: str = "", width: int = 0,
) -> dict:
    """Median seconds of ``steps`` optimiser steps after one warm-up step (device: auto), the
    tokens per second, the model's memory footprint and the peak memory (GPU, else process RSS).
    ``steps=0``: one whole epoch over the rows. ``width``: every row exactly that many tokens
    (0 = the rows as they are, padded per batch)."""
    import resource
    import statistics
    import tempfile

    import numpy as np
    import torch
    from transformers import TrainerCallback, set_seed

    from finetune.backends.lm.lm_head import unwrap

    from finetune.backends.lm.training import classifier_examples, generative_examples, make_trainer
    from finetune.backends.lm.loading import ModelSource
    from finetune.backends.registry import make_backend

    length = f"max_steps={steps + 1}" if steps else "epochs=1"
    spec = f"{backend}:{model_dir},head={head},batch_size={batch},{length},progress=false,lr=1e-5{extra}"
    est = make_backend(spec)
    est.classes_ = np.unique(labels)
    est._setup(ModelSource(model_dir))
    set_seed(0)
    model = est._build_model(est.source_)
    codes = np.searchsorted(est.classes_, labels)
    if head == "generative":
        examples = generative_examples(est._prompts(texts), [est.label_ids_[c] for c in codes])
    else:
        examples = classifier_examples(est._encode_texts(texts), codes)
    if width:
        examples = fixed_width(examples, width)

    times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_begin(self, *a, **k):
            self.t = time.perf_counter()

        def on_step_end(self, *a, **k):
            times.append(time.perf_counter() - self.t)

    cuda = est.device_ == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory() as out:
        trainer = make_trainer(
            model, examples, cfg=est.config, pad_id=est.tokenizer_.pad_token_id, precision=est.precision_,
            device=est.device_, output_dir=out, full_vocab_loss=full_vocab,
        )
        trainer.add_callback(Clock())
        collate = trainer.data_collator
        widths: list[int] = []

        def recording_collate(rows):
            padded = collate(rows)
            widths.append(padded["input_ids"].shape[1])
            return padded

        trainer.data_collator = recording_collate
        started = time.perf_counter()
        trainer.train()
        wall = time.perf_counter() - started
    seconds = statistics.median(times[1:])
    tokens = np.mean([len(e["input_ids"]) for e in examples]) * batch
    peak = torch.cuda.max_memory_allocated() if cuda else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "s_per_step": seconds, "tokens_per_s": tokens / seconds, "train_s": wall, "steps": len(times),
        "mean_padded_width": float(np.mean(widths)), "device": est.device_,
        "precision": est.precision_, "footprint_gb": unwrap(model).get_memory_footprint() / 2**30,
        "peak_gb": peak / 2**30, "peak_kind": "GPU allocated" if cuda else "process RSS",
    }


def main() -> None:
    from _lm_common import banking77, benchmark_parser, quiet_real_gemma

    parser = benchmark_parser(__doc__)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--width", type=int, default=0, help="every row exactly N tokens (0 = real rows, padded per batch)")
    parser.add_argument("--extra", default="", help="more backend options for every variant, e.g. lora_dropout=0.05")
    parser.add_argument("--only", default="", help="comma-separated backend-head filters, e.g. lora-generative")
    args = parser.parse_args()

    model_dir = quiet_real_gemma(args.threads)
    texts, labels, _ = banking77(args.batch_size * (args.steps + 1), split="train")
    print(f"Gemma 3 270M, CPU, threads={args.threads}, batch {args.batch_size}, median of {args.steps} steps after 1 warm-up")
    print("| backend | head | loss | s/step |")
    print("|---|---|---|---|")
    for backend, head, full_vocab in VARIANTS:
        if args.only and f"{backend}-{head}" not in args.only.split(","):
            continue
        seconds = measure_steps(
            model_dir, backend, head, full_vocab, texts, labels, args.steps, args.batch_size,
            extra=f",{args.extra}" if args.extra else "", width=args.width,
        )["s_per_step"]
        loss = "-" if head == "classifier" else ("full-vocabulary logits (HF default)" if full_vocab else "label tokens only (ours)")
        print(f"| {backend} | {head} | {loss} | {seconds:.2f} |", flush=True)


if __name__ == "__main__":
    main()
