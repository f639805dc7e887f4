"""``audit benchmark``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Literal, Optional

import typer

from audit.cli.options import (
    DEFAULT_BACKENDS, Backends, CacheDir, Executor, Folds, RayAddress, Seed, command_group,
)
from audit.formats.benchmark_result import FILE as BENCHMARK_FILE
from audit.options import NOISE_KINDS
from labelcore.cli import console, fold_progress, guarded

commands = command_group()


@commands.command("benchmark")
@guarded
def benchmark_command(
    data: str = typer.Option("demo", "--data", "-d", help="Clean dataset to plant noise in (see find-issues --data)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory: benchmark.json (+ the loop's files)."),
    noise: Literal[NOISE_KINDS] = typer.Option("near", help="uniform (any other class), near (the class's most confused other class) or pairs (a share of class A labelled B)."),
    rate: float = typer.Option(0.05, min=0.0, max=0.9, help="Share of rows flipped (uniform, near) or of each pair's class A (pairs)."),
    pair: List[str] = typer.Option([], help="A planted pair A:B for --noise pairs (repeat); default: 3 random pairs."),
    backend: Backends = DEFAULT_BACKENDS,
    seed: Seed = 42,
    folds: Folds = 5,
    jobs: int = typer.Option(min(2, os.cpu_count() or 1), help="Folds in parallel (local executor)."),
    executor: Executor = "local",
    ray_address: RayAddress = None,
    rounds: int = typer.Option(2, min=1, max=2, help="Rounds of the audit, as in find-issues: 2 retrains every backend without the first round's flags; 1 = one pass (given predictions, precomputed, are the same in both)."),
    loop: bool = typer.Option(False, "--loop", help="Also: simulated reviewer (oracle) -> apply -> retrain -> report."),
    retrain_backend: List[str] = typer.Option(["tfidf-lr"], help="Backends retrained in --loop."),
    iterations: int = typer.Option(2, min=1, help="--loop: review passes (each audits the previous pass's version again)."),
    cache_dir: CacheDir = None,
    rerank: Optional[int] = typer.Option(None, "--rerank", min=1, metavar="N",
                                         help="With --loop: review in batches of N instead, re-scoring the rest after each "
                                         "batch (the first backend retrained out-of-fold on the corrected labels), and "
                                         "count the reviews needed to find 90% of the planted errors, static vs re-ranked. "
                                         "CPU-heavy: use -b tfidf-lr."),
    learn: bool = typer.Option(True, "--learn/--no-learn",
                               help="--rerank: rank the rest by the error probability learnt from the decisions so far "
                               "(default), or only by label quality after retraining."),
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
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from audit.benchmark import run_benchmark
    from audit.formats.benchmark_result import benchmark_document
    from audit.noise import parse_pairs
    from audit.benchmark_loop import run_loop
    from labelcore.data import load_data
    from labelcore.io import check_output_folder, write_folder, write_json
    from finetune.backends import parse_backend_spec
    from finetune.cache import default_cache_dir
    from finetune.executors import make_executor
    from labelcore.errors import ConfigError

    if rounds != 2 and loop:
        raise ConfigError("--rounds sets the audit of a plain benchmark; --loop audits with two rounds")
    pairs = parse_pairs(pair)
    configs = [parse_backend_spec(b, seed=seed) for b in backend]
    for spec in retrain_backend if loop else []:
        parse_backend_spec(spec)  # an unknown backend fails now, not after the audit
    bundle = load_data(data)
    cache = str(cache_dir or default_cache_dir())
    if rerank is not None:
        if not loop:
            raise ConfigError("--rerank N measures the review loop: give --loop too")
        from audit.rerank import RERANK_FILE, run_rerank_benchmark

        check_output_folder(out, marker=RERANK_FILE, inputs=bundle.source_paths)
        found: dict = {}

        def run_rerank(folder: Path) -> None:
            with fold_progress() as on_progress:
                found["result"] = run_rerank_benchmark(
                    bundle, configs[0], batch_size=rerank, kind=noise, rate=rate, seed=seed, n_folds=folds,
                    cache_dir=cache, n_jobs=jobs, progress=on_progress, learn=learn)
            write_json(found["result"], folder / RERANK_FILE)

        write_folder(out, run_rerank, owns=lambda name: name == RERANK_FILE, marker=RERANK_FILE,
                     inputs=bundle.source_paths)
        result = found["result"]
        static, ranked = result["static_reviews"], result["reranked_reviews"]
        console.print(f"{data}: {result['n_flipped']} planted {noise} flips ({rate:.0%}), seed {seed}, backend "
                      f"{backend[0]}; reviews to find {result['n_to_find']} of them ({result['share']:.0%}):")
        console.print(f"  static ranking: {static}")
        console.print(f"  re-ranked in batches of {rerank} (by {result['ranking']}): "
                      + (f"{ranked} ({result['reduction']:.1%} fewer)" if ranked else
                         f"not reached within the static count ({static})"))
        console.print(f"Wrote {escape(str(out / RERANK_FILE))}")
        return
    check_output_folder(out, marker=BENCHMARK_FILE, inputs=bundle.source_paths)
    results: dict = {}

    def run(folder: Path) -> None:
        with make_executor(executor, n_jobs=jobs, address=ray_address) as runner, fold_progress() as on_progress:
            if loop:
                results["summary"] = run_loop(
                    bundle, configs, folder, kind=noise, rate=rate, seed=seed, n_folds=folds,
                    retrain_backends=retrain_backend, iterations=iterations, cache_dir=cache, n_jobs=jobs,
                    progress=on_progress, executor=runner)
            else:
                results["summary"], _, _ = run_benchmark(
                    bundle, configs, kind=noise, rate=rate, seed=seed, pairs=pairs, n_folds=folds,
                    cache_dir=cache, n_jobs=jobs, progress=on_progress, executor=runner, rounds=rounds)
                write_json(benchmark_document(results["summary"]), folder / BENCHMARK_FILE)

    write_folder(out, run, owns=lambda name: True, marker=BENCHMARK_FILE, inputs=bundle.source_paths)
    summary = results["summary"]
    t = Table(title=escape(f"{data}: {summary['n_flipped']} planted {noise} flips ({rate:.0%}), seed {seed}"))
    for col in ("method", "flagged", "precision", "recall", "F1", "AUPRC"):
        t.add_column(col)
    for name, m in summary["methods"].items():
        t.add_row(Text(name), str(m["n_flagged"]), f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", f"{m['auprc']:.3f}")
    console.print(t)
    for name, rank in summary["planted_pairs"].items():
        console.print(f"planted pair {name}: rank {rank if rank else 'not reported'}", markup=False)
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
    console.print(f"Wrote {escape(str(out))}")
