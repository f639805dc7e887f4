"""``audit benchmark``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional

import typer

from audit.cli.app import app
from labelcore.cli import console, fold_progress, guarded


@app.command("benchmark")
@guarded
def benchmark_command(
    data: str = typer.Option("demo", "--data", "-d", help="Clean dataset to plant noise in (see find-issues --data)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory: benchmark.json (+ the loop's files)."),
    noise: str = typer.Option("near", help="uniform (any other class), near (the class's most confused other class) or pairs (a share of class A labelled B)."),
    rate: float = typer.Option(0.05, min=0.0, max=0.9, help="Share of rows flipped (uniform, near) or of each pair's class A (pairs)."),
    pair: List[str] = typer.Option([], help="A planted pair A:B for --noise pairs (repeat); default: 3 random pairs."),
    backend: List[str] = typer.Option(["tfidf-lr", "minilm-lr", "minilm-knn"], "--backend", "-b", help="Backends (the first one is plain cleanlab's model)."),
    seed: int = typer.Option(42, help="Seed of the noise, the folds and the models."),
    folds: int = typer.Option(5, min=2),
    jobs: int = typer.Option(min(2, os.cpu_count() or 1), help="Folds in parallel (CPU backends)."),
    loop: bool = typer.Option(False, "--loop", help="Also: simulated reviewer (oracle) -> apply -> retrain -> report."),
    retrain_backend: List[str] = typer.Option(["tfidf-lr"], help="Backends retrained in --loop."),
    iterations: int = typer.Option(2, min=1, help="--loop: review passes (each audits the previous pass's version again)."),
    cache_dir: Optional[Path] = typer.Option(None, help="Fold cache (default $LABEL_AUDIT_CACHE or ~/.cache/label-audit)."),
    rerank: Optional[int] = typer.Option(None, "--rerank", min=1, metavar="N",
                                         help="With --loop: review in batches of N instead, re-scoring the rest after each "
                                         "batch (the first backend retrained out-of-fold on the corrected labels), and "
                                         "count the reviews needed to find 90% of the planted errors, static vs re-ranked. "
                                         "CPU-heavy: use -b tfidf-lr."),
) -> None:
    """Measure detection on planted noise, beside plain cleanlab on the same predictions.

    Prints precision, recall, F1 and the area under the precision-recall curve of our flags
    and of plain cleanlab, and the rank of each planted pair among the reported pairs.

    Examples:

      audit benchmark --data banking77 --noise near --rate 0.05 --out runs/bench

      audit benchmark --data banking77 --noise pairs --rate 0.3 --out runs/pairs

      audit benchmark --data banking77 --loop --out runs/loop

      audit benchmark --data banking77 --noise near --rate 0.05 --loop --rerank 100 -b tfidf-lr --out runs/rerank
    """
    from rich.table import Table

    from audit.benchmark import run_benchmark
    from audit.benchmark_loop import run_loop
    from labelcore.data import load_data
    from labelcore.errors import ConfigError
    from labelcore.io import write_json
    from finetune.backends import parse_backend_spec
    from finetune.cache import default_cache_dir

    pairs = []
    for p in pair:
        a, sep, b = p.partition(":")
        if not sep:
            raise ConfigError(f"--pair {p!r}: use LABEL_A:LABEL_B")
        pairs.append((a, b))
    configs = [parse_backend_spec(b, seed=seed) for b in backend]
    bundle = load_data(data)
    cache = str(cache_dir or default_cache_dir())
    if rerank is not None:
        if not loop:
            raise ConfigError("--rerank N measures the review loop: give --loop too")
        from audit.rerank import run_rerank_benchmark

        with fold_progress() as on_progress:
            result = run_rerank_benchmark(bundle, configs[0], batch_size=rerank, kind=noise, rate=rate, seed=seed,
                                          n_folds=folds, cache_dir=cache, n_jobs=jobs, progress=on_progress)
        write_json(result, out / "rerank.json")
        static, ranked = result["static_reviews"], result["reranked_reviews"]
        console.print(f"{data}: {result['n_flipped']} planted {noise} flips ({rate:.0%}), seed {seed}, backend "
                      f"{backend[0]}; reviews to find {result['n_to_find']} of them ({result['share']:.0%}):")
        console.print(f"  static ranking: {static}")
        console.print(f"  re-ranked in batches of {rerank}: "
                      + (f"{ranked} ({result['reduction']:.1%} fewer)" if ranked else
                         f"not reached within the static count ({static})"))
        console.print(f"Wrote {out / 'rerank.json'}")
        return
    with fold_progress() as on_progress:
        if loop:
            summary = run_loop(bundle, configs, out, kind=noise, rate=rate, seed=seed, n_folds=folds,
                               retrain_backends=retrain_backend, iterations=iterations, cache_dir=cache, n_jobs=jobs, progress=on_progress)
        else:
            summary, _, _ = run_benchmark(bundle, configs, kind=noise, rate=rate, seed=seed, pairs=pairs,
                                          n_folds=folds, cache_dir=cache, n_jobs=jobs, progress=on_progress)
            write_json(summary, out / "benchmark.json")
    t = Table(title=f"{data}: {summary['n_flipped']} planted {noise} flips ({rate:.0%}), seed {seed}")
    for col in ("method", "flagged", "precision", "recall", "F1", "AUPRC"):
        t.add_column(col)
    for name, m in summary["methods"].items():
        t.add_row(name, str(m["n_flagged"]), f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", f"{m['auprc']:.3f}")
    console.print(t)
    for name, rank in summary["planted_pairs"].items():
        console.print(f"planted pair {name}: rank {rank if rank else 'not reported'}")
    if loop:
        for p in summary["loop"]["passes"]:
            console.print(f"pass {p['pass']}: {p['n_reviewed']} reviewed by the simulated oracle, "
                          f"{p['n_relabelled']} relabelled, {p['n_flips_remaining']} planted flips remain")
        for spec, r in summary["loop"]["retrain"].items():
            acc, rec = r["test_accuracy"], r["gap_recovered"]
            console.print(
                f"{spec}: test accuracy clean {acc['clean']:.3f}, noisy {acc['noisy']:.3f}, "
                f"after review {acc['ours_reviewed']:.3f} ({rec['ours_reviewed']:.0%} of the gap), "
                f"plain cleanlab flags dropped {acc['plain_cleanlab_dropped']:.3f} ({rec['plain_cleanlab_dropped']:.0%})"
            )
    console.print(f"Wrote {out}")
