"""``audit what-if``: merge two classes, or split one in two, retrain, and measure the change
on the test split with paired bootstrap intervals (the bootstrap of :mod:`audit.retrain`).

Two yardsticks, both on the same test examples and the same resamples:

- ``task``: the before-model on the original test labels against the after-model on the
  changed test labels: what a user of the classifier would see before and after the change.
- ``shared``: both scored in the coarser label space (a merge: the merged labels, the
  before-model's predictions of the merged-away class mapped to the target; a split: the
  original labels, the after-model's sub-classes mapped back). It isolates what retraining on
  the changed labels does beyond renaming.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from labelcore.data.schema import DatasetBundle
from labelcore.errors import ConfigError, DataError

YARDSTICKS = {
    "task": "before-model on the original test labels vs after-model on the changed test labels",
    "shared": "both scored in the coarser label space (merged labels, or the split class mapped back)",
}


def merged_labels(names: np.ndarray, *, source: str, target: str) -> np.ndarray:
    """(N,) label names with every ``source`` replaced by ``target``."""
    names = np.asarray(names, dtype=object).copy()
    names[names == source] = target
    return names


def propose_split(
    train_texts: Sequence[str],
    test_texts: Sequence[str],
    *,
    n_clusters: int = 2,
    seed: int = 0,
    n_terms: int = 5,
) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    """Cluster one class's examples in two (KMeans on TF-IDF word and bigram features).

    Returns ``train_clusters (n_train,)``, ``test_clusters (n_test,)`` (the nearest centre)
    and, per cluster, its ``n_terms`` highest-weighted terms (to name the sub-classes).
    """
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(train_texts) < 2 * n_clusters:
        raise DataError(f"a split needs at least {2 * n_clusters} training examples of the class, "
                        f"got {len(train_texts)}")
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, stop_words="english")
    x = vectorizer.fit_transform(train_texts)
    km = KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit(x)
    terms = np.asarray(vectorizer.get_feature_names_out())
    top = [list(terms[np.argsort(-centre)[:n_terms]]) for centre in km.cluster_centers_]
    test = km.predict(vectorizer.transform(test_texts)) if len(test_texts) else np.zeros(0, dtype=int)
    return km.labels_, test, top


def what_if(
    bundle: DatasetBundle,
    *,
    merge: tuple[str, str] | None = None,
    split: str | None = None,
    backends: Sequence[str] = ("tfidf-lr",),
    seeds: int | Sequence[int] = 1,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    bootstrap_seed: int = 0,
) -> dict:
    """Retrain every backend spec on the changed labels and compare on the test split.

    merge : (A, B): B's examples take label A, in train and test.
    split : A: A's examples are clustered in two (:func:`propose_split`); they become
        ``A/1`` and ``A/2`` in train and test.

    Returns a JSON-serialisable dict: ``change`` (what was changed; a split also lists each
    sub-class's size and top terms), ``seeds``, ``n_resamples``, ``confidence``, ``n_test``,
    and ``results`` (one per backend and yardstick: ``backend``, ``yardstick``,
    ``train_seconds``, ``metrics {accuracy, macro_f1}`` each with ``before, after, diff,
    ci_low, ci_high, verdict``).
    """
    from audit.retrain import check_comparison_options, compare_predictions
    from finetune.backends import make_backend, parse_backend_spec

    if (merge is None) == (split is None):
        raise ConfigError("say what to change: --merge A B or --split A (one of them)")
    seed_list = check_comparison_options(backends, seeds, confidence)
    train, test = bundle.train, bundle.test
    if test is None:
        raise DataError("has no test split to measure the change on", path=bundle.spec)
    classes = list(bundle.classes)
    for name in (merge or ()) + ((split,) if split else ()):
        if name not in classes:
            raise ConfigError(f"{name!r} is not a class of {bundle.name} (see its {len(classes)} classes)")
    train_before, test_before = train.label_names, test.label_names

    if merge is not None:
        target, source = merge
        if target == source:
            raise ConfigError("--merge needs two different classes")
        train_after = merged_labels(train_before, source=source, target=target)
        test_after = merged_labels(test_before, source=source, target=target)
        after_classes = [c for c in classes if c != source]
        to_shared_before = {source: target}   # before-space -> shared (merged) space
        to_shared_after: dict[str, str] = {}
        shared_classes = after_classes
        change = {"kind": "merge", "source": source, "target": target,
                  "n_train_moved": int((train_before == source).sum()),
                  "n_test_moved": int((test_before == source).sum())}
    else:
        in_train, in_test = train_before == split, test_before == split
        tr_clusters, te_clusters, top = propose_split(
            [t for t, m in zip(train.texts, in_train) if m], [t for t, m in zip(test.texts, in_test) if m],
            seed=seed_list[0])
        subs = [f"{split}/1", f"{split}/2"]
        train_after = np.asarray(train_before, dtype=object).copy()
        test_after = np.asarray(test_before, dtype=object).copy()
        train_after[in_train] = np.asarray(subs, dtype=object)[tr_clusters]
        test_after[in_test] = np.asarray(subs, dtype=object)[te_clusters]
        at = classes.index(split)
        after_classes = classes[:at] + subs + classes[at + 1:]
        to_shared_before = {}
        to_shared_after = {s: split for s in subs}
        shared_classes = classes
        change = {"kind": "split", "source": split, "method": "KMeans (k=2) on TF-IDF word and bigram features",
                  "subclasses": [{"label": s, "n_train": int((tr_clusters == i).sum()),
                                  "n_test": int((te_clusters == i).sum()), "top_terms": top[i]}
                                 for i, s in enumerate(subs)]}

    def encode(names, space, translate=None):
        index = {c: i for i, c in enumerate(space)}
        return np.array([index.get(translate.get(n, n) if translate else n, -1) for n in names], dtype=np.int64)

    y = {"before": encode(test_before, classes), "after": encode(test_after, after_classes),
         "shared": encode(test_before, shared_classes, to_shared_before)}
    results = []
    for spec in backends:
        preds = {k: [] for k in ("before", "after", "before_shared", "after_shared")}
        seconds = {"before": [], "after": []}
        for seed in seed_list:
            for version, labels in (("before", train_before), ("after", train_after)):
                model = make_backend(parse_backend_spec(spec, seed=seed))
                start = time.perf_counter()
                model.fit(train.texts, np.asarray(labels, dtype=object))
                seconds[version].append(time.perf_counter() - start)
                names = model.predict(test.texts)
                space, translate = (classes, to_shared_before) if version == "before" else (after_classes, to_shared_after)
                preds[version].append(encode(names, space))
                preds[f"{version}_shared"].append(encode(names, shared_classes, translate))
        common = dict(n_resamples=n_resamples, confidence=confidence, seed=bootstrap_seed)
        task = compare_predictions(y["before"], preds["before"], preds["after"], classes=classes,
                                   after_labels=y["after"], after_classes=after_classes, **common)
        shared = compare_predictions(y["shared"], preds["before_shared"], preds["after_shared"],
                                     classes=shared_classes, **common)
        for yardstick, comparison in (("task", task), ("shared", shared)):
            results.append({"backend": spec, "yardstick": yardstick, "train_seconds": seconds,
                            "n_test": comparison["n_test"], "metrics": comparison["metrics"]})
    return {
        "data": {"spec": bundle.spec, "name": bundle.name, "fingerprint": bundle.fingerprint,
                 "n_train": len(train), "n_test": len(test), "n_classes": len(classes)},
        "change": change,
        "classes_after": len(after_classes),
        "seeds": seed_list,
        "n_resamples": n_resamples,
        "confidence": confidence,
        "yardsticks": YARDSTICKS,
        "results": results,
    }


def what_if_markdown(result: dict) -> str:
    """The what-if result as markdown."""
    from audit.report.markdown import escape, table

    c = result["change"]
    pct = int(round(100 * result["confidence"]))
    if c["kind"] == "merge":
        head = (f"What if **{escape(c['source'])}** were merged into **{escape(c['target'])}**? "
                f"({c['n_train_moved']} train and {c['n_test_moved']} test examples change label.)")
    else:
        subs = "; ".join(f"{escape(s['label'])}: {s['n_train']} train / {s['n_test']} test, top terms "
                         f"{escape(', '.join(s['top_terms']))}" for s in c["subclasses"])
        head = f"What if **{escape(c['source'])}** were split in two ({escape(c['method'])})? {subs}."
    d = result["data"]
    lines = [
        head, "",
        f"Data: {escape(d['spec'])} ({d['n_train']} train, {d['n_test']} test rows). Seeds {result['seeds']}; "
        f"paired bootstrap over test examples, {result['n_resamples']} resamples.", "",
        table(["backend", "yardstick", "metric", "before", "after", "Δ", f"{pct}% CI", "verdict"],
              ([escape(r["backend"]), r["yardstick"], m, s["before"], s["after"], f"{s['diff']:+.3f}",
                f"[{s['ci_low']:+.3f}, {s['ci_high']:+.3f}]", s["verdict"]]
               for r in result["results"] for m, s in r["metrics"].items()), align="lllrrrcl"),
        "",
        *(f"- `{k}`: {v}." for k, v in result["yardsticks"].items()),
    ]
    return "\n".join(lines) + "\n"
