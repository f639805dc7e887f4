"""``audit benchmark --loop``: find -> a SIMULATED reviewer (the oracle restores the planted
label of every flagged row) -> apply -> retrain -> report. Measures how much of the test
accuracy lost to noise the cleanup wins back, beside plain cleanlab's flags dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from labelcore.data import load_data
from labelcore.data.schema import DatasetBundle
from audit.formats.benchmark_result import FILE as BENCHMARK_FILE, benchmark_document
from audit.formats.run_folder import write_run_folder
from labelcore.io import write_csv, write_json
from finetune.backends.base import BackendConfig
from finetune.executors import Executor
from finetune.oof import Progress


def _test_accuracy(spec: str, texts, names, test, *, seed: int) -> float:
    from finetune.backends import make_backend, parse_backend_spec

    model = make_backend(parse_backend_spec(spec, seed=seed)).fit(texts, np.asarray(names, dtype=object))
    return float(np.mean(model.predict(test.texts) == test.label_names))


def run_loop(
    bundle: DatasetBundle,
    backends: Sequence[BackendConfig],
    out_dir: str | Path,
    *,
    kind: str = "near",
    rate: float = 0.05,
    seed: int = 42,
    retrain_backends: Sequence[str] = ("tfidf-lr",),
    iterations: int = 2,
    n_folds: int = 5,
    cache_dir: str | None = None,
    n_jobs: int = 1,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> dict:
    """Run the whole loop into ``out_dir``: find/, then per pass decisions-<i>.csv and v<i>/
    (pass i > 1 audits pass i-1's version again: find-<i>/), retrain/ (the noisy version vs
    the last one), benchmark.json and report.md."""
    from cleanlab.filter import find_label_issues

    from audit.benchmark import run_benchmark
    from audit.pipeline import find_issues
    from audit.oracle import oracle_decisions
    from audit.report.build import write_report
    from audit.retrain import retrain_compare, write_retrain
    from audit.versions import apply_decisions
    from audit.versions.write import write_version

    out = Path(out_dir)
    summary, noisy, result = run_benchmark(
        bundle, backends, kind=kind, rate=rate, seed=seed, n_folds=n_folds, cache_dir=cache_dir,
        n_jobs=n_jobs, progress=progress, executor=executor,
    )
    write_run_folder(result, out / "find")
    plain_probs = result.first_round_pred_probs  # plain cleanlab's baseline: the noisy data's first round
    train = noisy.bundle.train
    truth_by_id = dict(zip(train.example_ids, np.asarray(bundle.classes, dtype=object)[noisy.true_labels]))
    current, passes = noisy.bundle, []
    for i in range(1, iterations + 1):
        if i > 1:  # audit the cleaned version again, as a user would after a fix
            result = find_issues(current.train, backends, n_folds=n_folds, seed=seed, cache_dir=cache_dir,
                                 n_jobs=n_jobs, progress=progress, data_spec=str(current.spec),
                                 executor=executor)
            write_run_folder(result, out / f"find-{i}")
        flagged = result.issues.loc[result.issues["is_label_issue"], "example_id"].tolist()
        decisions = oracle_decisions(current.train, flagged,
                                     true_labels=[truth_by_id[e] for e in current.train.example_ids])
        write_csv(decisions, out / f"decisions-{i}.csv")
        version = write_version(apply_decisions(current, decisions), out / f"v{i}", parent=current, overwrite=True)
        current = load_data(version)
        remaining = int(sum(truth_by_id[e] != n for e, n in zip(current.train.example_ids, current.train.label_names)))
        passes.append({"pass": i, "n_reviewed": len(flagged),
                       "n_relabelled": int((decisions["decision"] == "relabel").sum()),
                       "n_flips_remaining": remaining})
    retrain = retrain_compare(noisy.bundle, current, backends=list(retrain_backends), seeds=[seed],
                              executor=executor)
    write_retrain(retrain, out / "retrain")

    # references: the clean labels, and plain cleanlab's flags (one model) dropped
    first = next(iter(plain_probs))
    plain = find_label_issues(train.labels, plain_probs[first], verbose=False, n_jobs=1)
    keep = ~plain
    names_true = np.asarray(bundle.classes, dtype=object)[noisy.true_labels]
    recovery = {}
    for spec in retrain_backends:
        r = next(x for x in retrain["results"] if x["backend"] == spec and x["evaluation"] == "original")
        acc = r["metrics"]["accuracy"]
        acc_noisy, acc_fixed = acc["before"], acc["after"]
        acc_clean = _test_accuracy(spec, train.texts, names_true, bundle.test, seed=seed)
        acc_drop = _test_accuracy(spec, [t for t, k in zip(train.texts, keep) if k],
                                  train.label_names[keep], bundle.test, seed=seed)
        gap = acc_clean - acc_noisy
        recovery[spec] = {
            "test_accuracy": {"clean": acc_clean, "noisy": acc_noisy, "ours_reviewed": acc_fixed,
                              "plain_cleanlab_dropped": acc_drop},
            "gap_recovered": {"ours_reviewed": (acc_fixed - acc_noisy) / gap if gap > 0 else None,
                              "plain_cleanlab_dropped": (acc_drop - acc_noisy) / gap if gap > 0 else None},
            "ours_ci": [acc["ci_low"], acc["ci_high"]],
            "n_plain_flags": int(plain.sum()),
        }
    summary["loop"] = {
        "reviewer": "oracle (simulation): restores the planted label of each flagged row",
        "passes": passes,
        "retrain": recovery,
    }
    write_json(benchmark_document(summary), out / BENCHMARK_FILE)
    write_report(out / "find", out / "report.md", retrain_dir=out / "retrain")
    return summary
