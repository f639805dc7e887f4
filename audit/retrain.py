"""Retrain after cleanup: the same backends and seeds on two dataset versions, compared on
the same test examples with paired bootstrap confidence intervals.

Two yardsticks:

- ``original``: the test set of the *before* version, its labels untouched. The *after* model
  predicts in its own label space; a class merged away can no longer be predicted, which is
  the honest price of a merge on the original task.
- ``changed``: the test set of the *after* version (merges applied, any test decisions applied).
  The *before* model's predictions are mapped into the merged label space
  (:func:`audit.versions.diff.class_mapping`) so both models are scored on the same labels.

Differences are ``after - before``; the interval resamples test examples with replacement,
using the same resample for both models (paired), and averages over seeds within a resample.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from labelcore.data.schema import DatasetBundle
from labelcore.errors import ConfigError, DataError
from audit.report.markdown import escape, table
from audit.pair_stats import get_bootstrap_weights

if TYPE_CHECKING:
    from finetune.executors import Executor

METRICS = ("accuracy", "macro_f1")
EVALUATIONS = {
    "original": "original test set (labels as they were)",
    "changed": "test set as the decisions changed it (merges), before-model predictions mapped",
}


def weighted_scores(y: np.ndarray, pred: np.ndarray, weights: np.ndarray, *, n_classes: int) -> dict[str, np.ndarray]:
    """Accuracy, macro-F1 and per-class F1 under example weights.

    y, pred : (n,) int codes (``pred`` may be -1: a label outside the space, always wrong).
    weights : (B, n). Returns ``accuracy (B,)``, ``macro_f1 (B,)`` (mean over the classes
    present in the weighted ``y``, as ``sklearn.metrics.f1_score(labels=present)``), and
    ``f1 (B, K)`` and ``recall (B, K)`` (NaN for a class absent from the weighted ``y``).
    """
    eye = np.eye(n_classes)
    truth = eye[y]
    guess = np.where((pred >= 0)[:, None], eye[np.clip(pred, 0, None)], 0.0)
    hit = truth * (y == pred)[:, None]
    support, predicted, tp = weights @ truth, weights @ guess, weights @ hit
    present = support > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(present, 2 * tp / (support + predicted), np.nan)
        recall = np.where(present, tp / support, np.nan)
    return {
        "accuracy": tp.sum(axis=1) / weights.sum(axis=1),
        "macro_f1": np.nanmean(f1, axis=1),
        "f1": f1,
        "recall": recall,
    }


def compare_predictions(
    y: np.ndarray,
    before: Sequence[np.ndarray],
    after: Sequence[np.ndarray],
    *,
    classes: Sequence[str],
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    after_labels: np.ndarray | None = None,
    after_classes: Sequence[str] | None = None,
) -> dict:
    """Paired bootstrap comparison of two sets of predictions on the same test examples.

    y : (n,) int codes; before, after : one (n,) prediction array per training seed.
    after_labels, after_classes : when the after-model answers another task on the same
        examples (a merge or split of classes, ``audit what-if``): its (n,) true codes and its
        classes. Both are scored on the same resamples; ``per_class`` is then left empty.
    Returns ``metrics`` (per metric: before/after means over seeds, per-seed values, diff and
    its interval) and ``per_class`` (F1 per class with the same).
    """
    if len(before) != len(after) or not before:
        raise ValueError("before and after need the same number (>= 1) of seed predictions")
    k = len(classes)
    y_after = y if after_labels is None else np.asarray(after_labels)
    k_after = k if after_classes is None else len(after_classes)
    same_task = after_labels is None and after_classes is None
    point = np.ones((1, len(y)))
    weights = get_bootstrap_weights(len(y), n_bootstrap=n_resamples, seed=seed)
    lo_q, hi_q = 50 * (1 - confidence), 50 * (1 + confidence)

    def run(preds, w, truth=y, n_classes=k):
        per_seed = [weighted_scores(truth, p, w, n_classes=n_classes) for p in preds]
        return {m: np.stack([s[m] for s in per_seed]) for m in ("accuracy", "macro_f1", "f1")}

    pb, pa = run(before, point), run(after, point, y_after, k_after)
    bb, ba = run(before, weights), run(after, weights, y_after, k_after)
    metrics = {}
    for m in METRICS:
        delta = ba[m].mean(axis=0) - bb[m].mean(axis=0)  # (B,) seed-averaged, same resample
        b, a = float(pb[m].mean()), float(pa[m].mean())
        metrics[m] = _interval(b, a, delta, lo_q, hi_q) | {
            "before_per_seed": pb[m][:, 0].tolist(), "after_per_seed": pa[m][:, 0].tolist(),
        }
    if not same_task:
        return {"n_test": int(len(y)), "metrics": metrics, "per_class": []}
    support = np.bincount(y, minlength=k)
    with np.errstate(invalid="ignore"):
        delta_f1 = np.nanmean(ba["f1"], axis=0) - np.nanmean(bb["f1"], axis=0)  # (B, K)
    per_class = []
    for j, name in enumerate(classes):
        if support[j] == 0:
            continue
        b, a = float(np.mean(pb["f1"][:, 0, j])), float(np.mean(pa["f1"][:, 0, j]))
        per_class.append({"class": name, "support": int(support[j]), **_interval(b, a, delta_f1[:, j], lo_q, hi_q)})
    return {"n_test": int(len(y)), "metrics": metrics, "per_class": per_class}


def _interval(before: float, after: float, delta: np.ndarray, lo_q: float, hi_q: float) -> dict:
    lo, hi = np.nanpercentile(delta, [lo_q, hi_q])
    verdict = "gain" if lo > 0 else "loss" if hi < 0 else "within noise"
    return {"before": before, "after": after, "diff": after - before,
            "ci_low": float(lo), "ci_high": float(hi), "verdict": verdict}


def retrain_compare(
    before: DatasetBundle,
    after: DatasetBundle,
    *,
    backends: Sequence[str],
    seeds: int | Sequence[int] = 1,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    bootstrap_seed: int = 0,
    executor: "Executor | None" = None,
) -> dict:
    """Train every backend spec on ``before.train`` and ``after.train`` with the same seeds and
    compare them on both yardsticks (see the module docstring). Returns the ``retrain.json`` dict.

    ``executor`` runs the (backend, seed, version) trainings (:mod:`finetune.executors`, e.g.
    Ray: one task each); default: one after another in this process.
    """
    from finetune.backends import make_backend, parse_backend_spec

    from audit.versions.diff import class_mapping

    seed_list = check_comparison_options(backends, seeds, confidence)
    for spec in backends:  # every spec is checked before any training
        parse_backend_spec(spec)
    from labelcore.data.validate import check_trainable

    for bundle in (before, after):
        check_trainable(bundle.train)
    for name, bundle in (("before", before), ("after", after)):
        if bundle.test is None:
            raise DataError(f"the {name} dataset has no test split to evaluate on", path=bundle.spec)
    mapping = class_mapping(before, after)
    tests = {"original": (before.test, before.classes), "changed": (after.test, after.classes)}

    def encode(names, classes, translate=None):
        index = {c: i for i, c in enumerate(classes)}
        return np.array([index.get(translate.get(n) if translate else n, -1) for n in names], dtype=np.int64)

    from finetune.executors import LocalExecutor, Task

    configs = {(spec, seed): parse_backend_spec(spec, seed=seed) for spec in backends for seed in seed_list}
    estimators = {spec: type(make_backend(configs[(spec, seed_list[0])])) for spec in backends}
    own = executor is None
    executor = executor or LocalExecutor(1)
    try:
        shared = executor.share(f"retrain/{before.fingerprint}/{after.fingerprint}", {
            "train": {v: (list(b.train.texts), np.asarray(b.train.label_names)) for v, b in (("before", before), ("after", after))},
            "test": {e: list(t.texts) for e, (t, _) in tests.items()},
        })
        jobs = [(spec, seed, version) for spec in backends for seed in seed_list for version in ("before", "after")]
        tasks = [Task((shared, estimators[spec], configs[(spec, seed)], version),
                      resources=configs[(spec, seed)].task_resources()) for spec, seed, version in jobs]
        done = dict(executor.map_unordered(_fit_predict, tasks))
    finally:
        if own:
            executor.close()

    results = []
    for spec in backends:
        preds = {(v, e): [] for v in ("before", "after") for e in tests}
        seconds = {"before": [], "after": []}
        for i, (s_, seed, version) in enumerate(jobs):  # in seed order, whatever order they finished in
            if s_ != spec:
                continue
            predicted, secs = done[i]
            seconds[version].append(secs)
            for e, (test, classes) in tests.items():
                translate = mapping if (version, e) == ("before", "changed") else None
                preds[(version, e)].append(encode(predicted[e], classes, translate))
        for e, (test, classes) in tests.items():
            comparison = compare_predictions(
                test.labels, preds[("before", e)], preds[("after", e)], classes=classes,
                n_resamples=n_resamples, confidence=confidence, seed=bootstrap_seed,
            )
            results.append({"backend": spec, "evaluation": e, "train_seconds": seconds, **comparison})
    return {
        "before": _describe(before),
        "after": _describe(after),
        "class_mapping": {k: v for k, v in mapping.items() if k != v},
        "seeds": seed_list,
        "n_resamples": n_resamples,
        "confidence": confidence,
        "evaluations": {e: {"description": EVALUATIONS[e], "n_test": len(tests[e][0]),
                            "fingerprint": tests[e][0].fingerprint} for e in tests},
        "results": results,
    }


def _fit_predict(shared: dict, estimator: type, config, version: str) -> tuple[dict[str, np.ndarray], float]:
    """One training (wherever the executor runs it): fit on ``version``'s train split, predict
    label names on every test set. Returns ({test set: names}, training seconds)."""
    texts, names = shared["train"][version]
    start = time.perf_counter()
    model = estimator(config).fit(texts, names)
    seconds = time.perf_counter() - start
    return {e: np.asarray(model.predict(t)) for e, t in shared["test"].items()}, seconds


def _describe(bundle: DatasetBundle) -> dict:
    return {"spec": bundle.spec, "name": bundle.name, "fingerprint": bundle.fingerprint,
            "n_train": len(bundle.train), "n_classes": len(bundle.classes)}


def distinct_results(result: dict) -> list[dict]:
    """The results worth showing: the ``changed`` yardstick is left out when the decisions left
    the test set as it was (it would repeat ``original``)."""
    evaluations = result["evaluations"]
    same = evaluations["original"]["fingerprint"] == evaluations.get("changed", {}).get("fingerprint")
    return [r for r in result["results"] if not (same and r["evaluation"] == "changed")]


def retrain_markdown(result: dict, *, per_class_rows: int = 10) -> str:
    """The comparison as markdown: one row per backend, yardstick and metric; then the classes
    whose F1 moved most."""
    pct = int(round(100 * result["confidence"]))
    shown = distinct_results(result)
    same = len(shown) < len(result["results"])
    lines = [
        f"Before: {escape(result['before']['spec'])} ({result['before']['n_train']} train rows); "
        f"after: {escape(result['after']['spec'])} ({result['after']['n_train']} train rows). "
        f"Seeds {result['seeds']}; paired bootstrap over test examples, {result['n_resamples']} resamples."
        + (" The decisions left the test set as it was, so both test sets are the same." if same else ""),
        "",
    ]
    if result["class_mapping"]:
        merged = ", ".join(f"{escape(a)} → {escape(b)}" for a, b in sorted(result["class_mapping"].items()))
        lines += [f"Merged: {merged}. On the original test set the after-model cannot predict a merged-away "
                  "class, so a loss there is the price of the merge on the original task; the changed test "
                  "set scores both models on the merged labels.", ""]
    lines += [
        table(
            ["backend", "test set", "metric", "before", "after", "Δ", f"{pct}% CI", "verdict"],
            ([escape(r["backend"]), r["evaluation"], m, s["before"], s["after"], f"{s['diff']:+.3f}",
              f"[{s['ci_low']:+.3f}, {s['ci_high']:+.3f}]", s["verdict"]]
             for r in shown for m, s in r["metrics"].items()),
            align="lllrrrcl",
        ),
    ]
    for r in shown:
        moved = sorted(r["per_class"], key=lambda c: -abs(c["diff"]))[:per_class_rows]
        moved = [c for c in moved if c["diff"] != 0]
        if not moved:
            continue
        lines += ["", f"Per-class F1, {escape(r['backend'])}, {r['evaluation']} test set (largest changes):", "",
                  table(["class", "support", "before", "after", "Δ", f"{pct}% CI"],
                        ([escape(c["class"]), c["support"], c["before"], c["after"], f"{c['diff']:+.3f}",
                          f"[{c['ci_low']:+.3f}, {c['ci_high']:+.3f}]"] for c in moved),
                        align="lrrrrc")]
    return "\n".join(lines) + "\n"


def check_comparison_options(backends: Sequence[str], seeds: int | Sequence[int], confidence: float) -> list[int]:
    """The options every retrain-and-compare shares (``retrain``, ``what-if``), checked before
    any training; returns the seeds as a list (``seeds``: a count or the seeds themselves)."""
    if not backends:
        raise ConfigError("give at least one --backend")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise ConfigError("give at least one seed")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must be in (0, 1), got {confidence}")
    return seed_list


def write_retrain(result: dict, out_dir: str | Path, *, inputs: Sequence[str | Path] = ()) -> Path:
    """Write ``retrain.json`` and ``retrain.md`` as the folder ``out_dir``, whole or not at all;
    returns the JSON path. ``inputs``: paths that must not be overwritten."""
    from audit.formats.retrain_result import FILE, retrain_document
    from labelcore.io import write_folder, write_json, write_text

    def write(tmp: Path) -> None:
        write_json(retrain_document(result), tmp / FILE)
        write_text("# Retrain after cleanup\n\n" + retrain_markdown(result), tmp / "retrain.md")

    out = write_folder(out_dir, write, owns=lambda name: name in (FILE, "retrain.md"), marker=FILE, inputs=inputs)
    return out / FILE
