"""One training epoch of the real Gemma 3 270M on CPU over real BANKING77 rows, with uniformly
shuffled batches vs length-grouped batches (``group_by_length``, the default), side by side;
plus the exact padded-token count of a whole 10,003-row BANKING77 epoch under both samplers.

    python benchmarks/epoch_time.py --rows 800 --threads 2 --only lora-classifier,full-generative
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _lm_common import banking77, benchmark_parser, quiet_real_gemma  # noqa: E402


def epoch_batches(lengths: list[int], batch: int, *, grouped: bool, seed: int = 0) -> list[list[int]]:
    """One epoch's batches of row indices, from the Trainer's samplers (grouped or shuffled)."""
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    generator = torch.Generator().manual_seed(seed)
    if grouped:
        order = list(LengthGroupedSampler(batch, lengths=lengths, generator=generator))
    else:
        order = torch.randperm(len(lengths), generator=generator).tolist()
    return [order[s : s + batch] for s in range(0, len(order), batch)]


def padded_tokens(lengths: list[int], batches: list[list[int]]) -> int:
    """Tokens the model runs over (every batch padded to its longest row)."""
    return sum(max(lengths[i] for i in b) * len(b) for b in batches)


def epoch_token_table(model_dir: str, batch: int) -> list[str]:
    import numpy as np
    from transformers import AutoTokenizer

    from finetune.backends.lm.prompts import encode_labels, encode_prompts

    texts, labels, names = banking77(10**6, split="train")
    tok = AutoTokenizer.from_pretrained(model_dir)
    label_len = {n: len(ids) for n, ids in zip(names, encode_labels(tok, names, prefix=" ", eos=True))}
    heads = {
        "classifier": [len(ids) for ids in tok(texts, truncation=True, max_length=128)["input_ids"]],
        "generative": [
            len(p) + label_len[y]
            for p, y in zip(encode_prompts(tok, texts, template="Text: {text}\nLabel:", max_length=128), labels)
        ],
    }
    rows = [f"Whole BANKING77 train epoch ({len(texts)} rows, batch {batch}): tokens run through the model,",
            "and distinct labels per batch (mean)", "",
            "| head | real tokens | shuffled batches | length-grouped | ratio | labels/batch shuffled | grouped |",
            "|---|---|---|---|---|---|---|"]
    for head, lengths in heads.items():
        shuffled = epoch_batches(lengths, batch, grouped=False)
        grouped = epoch_batches(lengths, batch, grouped=True)
        t_shuffled, t_grouped = padded_tokens(lengths, shuffled), padded_tokens(lengths, grouped)
        distinct = [np.mean([len({labels[i] for i in b}) for b in batches]) for batches in (shuffled, grouped)]
        rows.append(f"| {head} | {int(np.sum(lengths))} | {t_shuffled} | {t_grouped} | {t_shuffled / t_grouped:.2f}x | "
                    f"{distinct[0]:.1f} | {distinct[1]:.1f} |")
    return rows


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--rows", type=int, default=800, help="training rows of the timed epoch")
    parser.add_argument("--only", default="lora-classifier,full-generative", help="backend-head pairs to time ('' = none)")
    args = parser.parse_args()

    from train_step import measure_steps

    model_dir = quiet_real_gemma(args.threads)
    print("\n".join(epoch_token_table(model_dir, args.batch_size)), flush=True)

    texts, labels, _ = banking77(args.rows, split="train")
    print(f"\nOne epoch of {args.rows} BANKING77 train rows, batch {args.batch_size}, threads={args.threads}\n")
    print("| backend | head | batches | mean padded width | epoch s | s/step |")
    print("|---|---|---|---|---|---|")
    for pair in filter(None, args.only.split(",")):
        backend, head = pair.split("-")
        for grouped in (False, True):
            r = measure_steps(
                model_dir, backend, head, False, texts, labels, 0, args.batch_size,
                extra=f",group_by_length={str(grouped).lower()}",
            )
            kind = "length-grouped" if grouped else "shuffled"
            print(f"| {backend} | {head} | {kind} | {r['mean_padded_width']:.1f} | {r['train_s']:.0f} | "
                  f"{r['train_s'] / r['steps']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
