"""Retrain after cleanup, measured: plant label noise, let the oracle restore it, retrain.

Also times the paired bootstrap two ways side by side on the same test set: our vectorised
``compare_predictions`` against a plain loop calling scikit-learn per resample.

    python benchmarks/retrain_loop.py --data banking77 --noise 0.05 --backend tfidf-lr
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def naive_bootstrap(y, before, after, *, n_resamples: int, seed: int) -> np.ndarray:
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_resamples):
        idx = rng.integers(0, len(y), len(y))
        labels = np.unique(y[idx])
        out.append(f1_score(y[idx], after[idx], labels=labels, average="macro")
                   - f1_score(y[idx], before[idx], labels=labels, average="macro"))
    return np.asarray(out)


def main() -> None:
    from labelcore.data import load_data
    from audit.noise import plant_noise
    from audit.oracle import oracle_decisions
    from audit.retrain import compare_predictions, retrain_compare
    from audit.versions import apply_decisions
    from audit.versions.write import write_version

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="banking77")
    ap.add_argument("--noise", type=float, default=0.05)
    ap.add_argument("--backend", default="tfidf-lr")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--bootstrap", type=int, default=1000)
    args = ap.parse_args()

    clean = load_data(args.data)
    tmp = Path(tempfile.mkdtemp())
    noisy_codes, _ = plant_noise(clean.train.labels, kind="uniform", rate=args.noise, seed=42,
                                 n_classes=len(clean.classes))
    names = np.asarray(clean.classes, dtype=object)
    pd.DataFrame({"text": clean.train.texts, "label": names[noisy_codes], "true_label": clean.train.label_names}).to_csv(
        tmp / "train.csv", index=False)
    pd.DataFrame({"text": clean.test.texts, "label": clean.test.label_names}).to_csv(tmp / "test.csv", index=False)
    noisy = load_data(tmp / "train.csv", test=tmp / "test.csv")
    tr = noisy.train
    truth = tr.extra["true_label"].to_numpy()
    flipped = [tr.example_ids[i] for i in np.flatnonzero(tr.label_names != truth)]
    start = time.perf_counter()
    log = oracle_decisions(tr, flipped, true_labels=truth)
    write_version(apply_decisions(noisy, log), tmp / "v1", parent=noisy)
    apply_seconds = time.perf_counter() - start

    start = time.perf_counter()
    result = retrain_compare(noisy, load_data(tmp / "v1"), backends=[args.backend], seeds=args.seeds,
                             n_resamples=args.bootstrap)
    retrain_seconds = time.perf_counter() - start
    original = next(r for r in result["results"] if r["evaluation"] == "original")

    # the bootstrap alone, two implementations on the same predictions
    rng = np.random.default_rng(0)
    y = noisy.test.labels
    before = np.where(rng.random(len(y)) < 0.9, y, rng.integers(0, len(noisy.classes), len(y)))
    after = np.where(rng.random(len(y)) < 0.5, y, before)
    start = time.perf_counter()
    ours = compare_predictions(y, [before], [after], classes=list(noisy.classes), n_resamples=args.bootstrap)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    naive = naive_bootstrap(y, before, after, n_resamples=args.bootstrap, seed=0)
    naive_s = time.perf_counter() - start
    naive_ci = np.percentile(naive, [2.5, 97.5])

    print(json.dumps({
        "data": args.data, "n_train": len(tr), "n_test": len(y), "noise": args.noise, "n_flipped": len(flipped),
        "backend": args.backend, "seeds": args.seeds, "apply_seconds": round(apply_seconds, 2),
        "retrain_seconds": round(retrain_seconds, 1),
        "train_seconds": original["train_seconds"],
        "accuracy": {k: original["metrics"]["accuracy"][k] for k in ("before", "after", "diff", "ci_low", "ci_high", "verdict")},
        "macro_f1": {k: original["metrics"]["macro_f1"][k] for k in ("before", "after", "diff", "ci_low", "ci_high", "verdict")},
        "bootstrap_seconds": {"vectorised": round(ours_s, 3), "sklearn_loop": round(naive_s, 3),
                              "speedup": round(naive_s / ours_s, 1)},
        "bootstrap_macro_f1_ci": {"vectorised": [ours["metrics"]["macro_f1"]["ci_low"], ours["metrics"]["macro_f1"]["ci_high"]],
                                  "sklearn_loop": naive_ci.tolist()},
    }, indent=1))


if __name__ == "__main__":
    main()
