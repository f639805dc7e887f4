"""Aggregation at scale: ensemble weights + label-quality scores + flags + confused pairs over
N rows x K classes x M models, chunked (``audit.aggregation_chunked``) versus in memory.

Each measurement runs in its own subprocess so that its peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, which counts mapped file pages the process
touched) is its own. Synthetic out-of-fold probabilities are written as float32 ``.npy`` files
chunk by chunk first (that step is not timed).

    python benchmarks/aggregate_scale.py                       # 100k and 1M, in-memory at 100k
    python benchmarks/aggregate_scale.py --rows 20000 --naive-rows 20000   # a quick check
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def generate(root: Path, n: int, k: int, m: int, *, chunk_rows: int, noise: float = 0.05, seed: int = 0) -> None:
    """labels.npy (N,) and m{j}.npy (N, K) float32: models of rising sharpness, each leaning
    towards a confusable neighbour class; ``noise`` of the labels flipped to the neighbour."""
    from audit.aggregation_chunked import NpyWriter

    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    labels = np.empty(n, dtype=np.int64)
    writers = [NpyWriter(root / f"m{j}.npy", (n, k)) for j in range(m)]
    for start in range(0, n, chunk_rows):
        b = min(chunk_rows, n - start)
        true = rng.integers(0, k, b)
        flip = rng.random(b) < noise
        labels[start:start + b] = np.where(flip, (true + 1) % k, true)
        for j, w in enumerate(writers):
            logits = rng.standard_normal((b, k), dtype=np.float32)
            logits[np.arange(b), true] += 3.0 + 0.5 * j
            logits[np.arange(b), (true + 1) % k] += 1.5
            p = np.exp(logits - logits.max(1, keepdims=True))
            w.write(p / p.sum(1, keepdims=True))
    for w in writers:
        w.close()
    np.save(root / "labels.npy", labels)


def _child(mode: str, root: Path, m: int, chunk_rows: int) -> dict:
    import cleanlab.filter  # noqa: F401  (imports counted in the baseline, not the work)
    import pandas  # noqa: F401
    import scipy.optimize  # noqa: F401

    from audit.aggregation import find_label_issues_ensemble
    from audit.pairs import find_confused_pairs

    baseline = _rss_mb()
    labels = np.load(root / "labels.npy")
    paths = [root / f"m{j}.npy" for j in range(m)]
    k = np.load(paths[0], mmap_mode="r").shape[1]
    classes, names = [f"class_{i}" for i in range(k)], [f"m{j}" for j in range(m)]
    start = time.perf_counter()
    if mode == "batched":  # the engine's chunked path, over memory maps
        probs = [np.load(p, mmap_mode="r") for p in paths]
        table, ens, weights = find_label_issues_ensemble(labels, probs, model_names=names, chunk_rows=chunk_rows)
    else:
        probs = [np.load(p) for p in paths]
        table, ens, weights = find_label_issues_ensemble(labels, probs, model_names=names)
    pairs = find_confused_pairs(labels, probs, class_names=classes, model_names=names, ensemble_pred_probs=ens)
    flags, top = table["is_label_issue"].to_numpy(), pairs.iloc[0]
    return {
        "mode": mode, "rows": len(labels), "classes": k, "models": m, "chunk_rows": chunk_rows,
        "seconds": time.perf_counter() - start, "peak_rss_mb": _rss_mb(), "baseline_rss_mb": baseline,
        "n_flags": int(flags.sum()), "weights": [round(float(w), 4) for w in weights],
        "top_pair": f"{top['label_a']}/{top['label_b']} {top['confusion_rate']:.3f}",
    }


def measure(mode: str, root: Path, m: int, chunk_rows: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--work-dir", str(root), "--models", str(m),
         "--chunk-rows", str(chunk_rows)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--naive-rows", type=int, nargs="*", default=[100_000], help="sizes also run in memory")
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--models", type=int, default=3)
    ap.add_argument("--chunk-rows", type=int, default=32768)
    ap.add_argument("--work-dir", type=Path, default=Path("/tmp/aggregate_scale"))
    ap.add_argument("--child", choices=["batched", "naive"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.work_dir, args.models, args.chunk_rows)))
        return
    results = []
    for n in args.rows:
        root = args.work_dir / f"n{n}_k{args.classes}_m{args.models}"
        if not (root / "labels.npy").exists():
            t = time.perf_counter()
            generate(root, n, args.classes, args.models, chunk_rows=args.chunk_rows)
            print(f"generated {n:,} x {args.classes} x {args.models} in {time.perf_counter() - t:.0f} s", flush=True)
        for mode in ["batched"] + (["naive"] if n in args.naive_rows else []):
            r = measure(mode, root, args.models, args.chunk_rows)
            results.append(r)
            print(json.dumps(r), flush=True)
    print("\n| rows | mode | seconds | peak RSS (MiB) | of which baseline | flags | weights | top pair |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['rows']:,} | {r['mode']} | {r['seconds']:.1f} | {r['peak_rss_mb']:.0f} | {r['baseline_rss_mb']:.0f} "
              f"| {r['n_flags']:,} | {r['weights']} | {r['top_pair']} |")


if __name__ == "__main__":
    main()
