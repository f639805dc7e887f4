"""Rows per second of classifier-head inference with the real Gemma 3 270M on CPU
(``predict_proba``: batches of similar-length texts) vs the same rows batched in input order.

    python benchmarks/classifier_inference.py --rows 320 --threads 2
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def input_order_proba(est, texts):
    """The same forward passes as ``predict_proba``, but batched in input order (the baseline)."""
    import numpy as np
    import torch

    from finetune.backends.lm.training import RightPadCollator

    ids, collate, out = est._encode_texts(texts), RightPadCollator(est.tokenizer_.pad_token_id), []
    with torch.no_grad():
        for s in range(0, len(ids), est.config.eval_batch_size):
            batch = collate([{"input_ids": i, "labels": 0} for i in ids[s : s + est.config.eval_batch_size]])
            out.append(torch.softmax(est.model_(**{k: batch[k] for k in ("input_ids", "attention_mask")}).logits.double(), -1))
    return torch.cat(out).numpy() if out else np.zeros((0, len(est.classes_)))


def main() -> None:
    from _lm_common import banking77, benchmark_parser, quiet_real_gemma

    parser = benchmark_parser(__doc__)
    parser.add_argument("--rows", type=int, default=320)
    args = parser.parse_args()

    import numpy as np

    from finetune.backends.lm.loading import ModelSource
    from finetune.backends.registry import make_backend

    model_dir = quiet_real_gemma(args.threads)
    texts, _, names = banking77(args.rows)
    est = make_backend(f"full:{model_dir},head=classifier,eval_batch_size={args.batch_size}")
    est.classes_ = np.asarray(sorted(names))
    est._setup(ModelSource(model_dir))
    est.model_ = est._build_model(est.source_).eval()
    est.predict_proba(texts[: args.batch_size])  # warm-up
    timings = {}
    for name, fn in (("input order", lambda: input_order_proba(est, texts)), ("length-sorted (ours)", lambda: est.predict_proba(texts))):
        started = time.perf_counter()
        timings[name] = (fn(), time.perf_counter() - started)
    (base, t_base), (ours, t_ours) = timings.values()
    print(f"Gemma 3 270M classifier head, {args.rows} BANKING77 test rows, batch {args.batch_size}, threads={args.threads}")
    print("| batching | rows/s |\n|---|---|")
    print(f"| input order | {args.rows / t_base:.1f} |\n| length-sorted (ours) | {args.rows / t_ours:.1f} |")
    print(f"speed-up {t_base / t_ours:.2f}x; max |difference| in probability {np.abs(base - ours).max():.1e}")


if __name__ == "__main__":
    main()
