"""Pair recommendations before and after issue #15, on the same out-of-fold predictions.

"Before" is the rule that shipped until #15 (a model confuses a pair when it is in its top 20
by rate and the rate is >= 2%; every model confusing it = "data", then merge / relabel /
guideline by the symmetry of the two directions). "After" is ``audit.pairs.find_confused_pairs``.
Both read the same first-round predictions; "after" also reads the first round's flags and
the second round.

    # clean data: counts of each recommendation among the top pairs, and examples
    python benchmarks/pair_diagnosis.py --data banking77 -b tfidf-lr -b minilm-lr -b minilm-knn
    # planted structure: one-way noise pairs, classes split in two, a few flips (known answers)
    python benchmarks/pair_diagnosis.py --data banking77 -b minilm-lr -b minilm-knn --plant-seed 1

Out-of-fold predictions come from the cache (~/.cache/label-audit) when a find-issues run with
the same backends has filled it. Prints a markdown summary (docs/benchmarks.md records it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import pandas as pd


def legacy_recommendations(labels, pred_probs_list, sizes, *, top_k=20, min_rate=0.02, symmetry=0.4):
    """The pre-#15 rule, verbatim in effect: {(a, b): recommendation} for a < b, and the pooled rate."""
    from audit.pairs import get_confusion_counts

    k = pred_probs_list[0].shape[1]
    a, b = np.triu_indices(k, 1)
    n = np.bincount(labels, minlength=k)
    rates, dirs = [], []
    for p in pred_probs_list:
        c = get_confusion_counts(labels, p)
        dirs.append(np.stack([c[a, b], c[b, a]], 1))
        rates.append((c[a, b] + c[b, a]) / np.maximum(n[a] + n[b], 1))
    rates, dirs = np.stack(rates, 1), np.stack(dirs, 1)
    ranks = np.empty_like(rates, dtype=int)
    for j in range(rates.shape[1]):
        ranks[np.argsort(-rates[:, j], kind="stable"), j] = np.arange(1, len(a) + 1)
    confused = (ranks <= top_k) & (rates >= min_rate)
    largest = int(np.argmax(sizes))
    out = {}
    for p in np.flatnonzero(rates.max(1) > 0):
        n_ab, n_ba = dirs[p].mean(0)
        if confused[p].all():
            major, minor = max(n_ab, n_ba), min(n_ab, n_ba)
            rec = "merge" if minor >= symmetry * major else ("relabel" if minor == 0 or minor < 0.25 * major else "guideline")
        elif confused[p].any() and not confused[p, largest]:
            rec = "bigger model"
        elif confused[p].any():
            rec = "inspect"
        else:
            rec = "none"
        out[(int(a[p]), int(b[p]))] = (rec, float(rates[p].mean()))
    return out


def plant(train, *, seed: int, n_each: int = 3, rate: float = 0.3, n_flips: int = 4):
    """One-way pairs (``rate`` of A labelled B), split classes, few-flip pairs, on disjoint classes."""
    from audit.noise import plant_noise, split_classes

    k = len(train.classes)
    rng = np.random.default_rng(seed)
    chosen = [int(c) for c in rng.choice(k, size=5 * n_each, replace=False)]
    one_way = [(chosen[2 * i], chosen[2 * i + 1]) for i in range(n_each)]
    split = chosen[2 * n_each: 3 * n_each]
    flips = [(chosen[3 * n_each + 2 * i], chosen[3 * n_each + 2 * i + 1]) for i in range(n_each)]
    labels, _ = plant_noise(train.labels, kind="pairs", rate=rate, seed=seed, pairs=one_way)
    for a, b in flips:
        rows = rng.choice(np.flatnonzero(labels == a), size=n_flips, replace=False)
        labels[rows] = b
    labels, _ = split_classes(labels, classes=split, n_classes=k, seed=seed)
    classes = tuple(train.classes) + tuple(f"{train.classes[c]}__twin" for c in split)
    data = dataclasses.replace(train, labels=labels, classes=classes)
    truth = {"one_way": one_way, "split": [(c, k + i) for i, c in enumerate(split)], "flips": flips}
    return data, truth


def main() -> None:
    from labelcore.data import load_data
    from audit.pipeline import find_issues
    from finetune.backends import parse_backend_spec
    from finetune.cache import default_cache_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="banking77")
    ap.add_argument("-b", "--backend", action="append", default=[])
    ap.add_argument("--plant-seed", type=int, default=None)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2, help="1 = no second round (the diagnosis without its drop)")
    ap.add_argument("--examples", type=int, default=3)
    ap.add_argument("--json", default=None, help="also write the numbers here")
    ap.add_argument("--pairs-out", default=None, help="also write the new pairs table (pairs.csv format) here")
    args = ap.parse_args()
    backends = [parse_backend_spec(b, seed=0) for b in (args.backend or ["tfidf-lr", "minilm-lr", "minilm-knn"])]
    train = load_data(args.data).train
    truth = None
    if args.plant_seed is not None:
        train, truth = plant(train, seed=args.plant_seed)
    start = time.perf_counter()
    result = find_issues(train, backends, cache_dir=str(default_cache_dir()), detectors=["label_issues"], n_jobs=1,
                         rounds=args.rounds)
    names = list(result.first_round_pred_probs)
    sizes = [b.n_parameters or 0 for b in result.summary.backends]
    first = list(result.first_round_pred_probs.values())
    legacy = legacy_recommendations(train.labels, first, sizes if any(sizes) else np.arange(len(first)))
    index = {c: i for i, c in enumerate(train.classes)}
    new = result.pairs.copy()
    new["key"] = [tuple(sorted((index[a], index[b]))) for a, b in zip(new["label_a"], new["label_b"])]
    new_by_key = {k: r for k, r in zip(new["key"], new.to_dict("records"))}
    top = sorted(legacy, key=lambda k: -legacy[k][1])[: args.top]
    before = pd.Series([legacy[k][0] for k in top]).value_counts().to_dict()
    after = pd.Series([new_by_key[k]["recommendation"] if k in new_by_key else "none" for k in top]).value_counts().to_dict()
    confused = new[new["diagnosis"] != "chance"]
    out = {
        "data": result.summary.data or args.data, "backends": names, "n_examples": len(train),
        "n_classes": len(train.classes), "seconds": round(time.perf_counter() - start, 1),
        "accuracy": {b.name: round(b.oof_accuracy, 3) for b in result.summary.backends},
        "n_flagged_first_round": result.summary.n_label_issues_first_round,
        f"top{args.top}_before": before, f"top{args.top}_after": after,
        "n_pairs_above_chance": len(confused),
        "after_all_confused": confused["recommendation"].value_counts().to_dict(),
        "legacy_merge_pairs_after": pd.Series([new_by_key[k]["recommendation"] if k in new_by_key else "none"
                                               for k in legacy if legacy[k][0] == "merge"]).value_counts().to_dict(),
    }
    out["rounds"] = args.rounds
    print(f"## {out['data']} ({len(train):,} rows, {len(train.classes)} classes; backends {', '.join(names)}; "
          f"{args.rounds} round(s))\n")
    print(f"OOF accuracy {out['accuracy']}; {out['n_flagged_first_round']} rows flagged in round 1; {out['seconds']} s\n")
    print(f"Top {args.top} pairs by pooled rate - before: {before}; after: {after}")
    print(f"Pairs above chance (after): {out['n_pairs_above_chance']}: {out['after_all_confused']}")
    print(f"Pairs the old rule called merge, now: {out['legacy_merge_pairs_after']}\n")
    print(f"The top-{args.top} pairs the old rule called merge, now:")
    for k in top:
        if legacy[k][0] == "merge":
            r = new_by_key.get(k)
            if r is None:
                print(f"- {train.classes[k[0]]} / {train.classes[k[1]]}: none (no confusion left in the table)")
                continue
            print(f"- {r['label_a']} / {r['label_b']}: {r['recommendation']} ({r['diagnosis']}); "
                  f"{r['n_a_as_b'] + r['n_b_as_a']:.1f} vs {r['expected']:.1f} expected, on flagged rows "
                  f"{r['noise_share']:.0%}, ambiguity {r['ambiguity']:.0%}, separation AUC "
                  f"{r['separation_auc']:.2f} [{r['separation_auc_low']:.2f}, {r['separation_auc_high']:.2f}]")
    print("\nExamples of each recommendation:")
    for rec in ("merge", "guideline", "relabel", "bigger model", "inspect"):
        for r in confused[confused["recommendation"] == rec].head(args.examples).to_dict("records"):
            old = legacy.get(r["key"], ("none",))[0]
            print(f"- {r['label_a']} / {r['label_b']}: **{rec}** (before: {old}) - {r['evidence']}")
    if truth is not None:
        def rec_of(a, b):
            k = tuple(sorted((a, b)))
            return new_by_key[k]["recommendation"] if k in new_by_key else "none", legacy.get(k, ("none",))[0]

        planted = {}
        for kind, pairs in truth.items():
            recs = [rec_of(a, b) for a, b in pairs]
            planted[kind] = {"after": [r[0] for r in recs], "before": [r[1] for r in recs],
                             "pairs": [(train.classes[a], train.classes[b]) for a, b in pairs]}
        out["planted"] = planted
        print("\nPlanted (seed %d):" % args.plant_seed)
        for kind, v in planted.items():
            print(f"- {kind}: after {v['after']}; before {v['before']}; pairs {v['pairs']}")
    if args.pairs_out:
        result.pairs.to_csv(args.pairs_out, index=False)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=str)


if __name__ == "__main__":
    main()
