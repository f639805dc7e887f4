"""Fixture find-issues folders in the documented format (docs/formats.md), built from the
demo dataset with simulated out-of-fold probabilities (find-issues itself is not needed)."""

import json
import os

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from labelcore.data import load_data  # noqa: E402

EVIL_TEXT = "| a | b |\n# heading? `code` <script>alert(1)</script> **bold** [link](http://x) &amp; _x_"


def simulated_pred_probs(labels, true_labels, k, *, seed, confusable=(1, 2)):
    """Probabilities that favour the true label, blur the confusable pair, and are noisy."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.0, (len(labels), k))
    logits[np.arange(len(labels)), true_labels] += 4.0
    a, b = confusable
    pair = np.isin(true_labels, confusable) & (rng.random(len(labels)) < 0.3)
    logits[pair, a] += 3.5
    logits[pair, b] += 3.5
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def build_issues_dir(path, *, with_diagnosis=True, backends=None):
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    demo = load_data("demo")
    tr = demo.train
    classes = list(demo.classes)
    k = len(classes)
    texts = list(tr.texts)
    texts[5] = EVIL_TEXT
    labels = tr.labels
    true = np.array([classes.index(t) for t in tr.extra["true_label"]])
    arrival, estimate = classes.index("card_arrival"), classes.index("card_delivery_estimate")
    names = ["tfidf-lr", "minilm-lr"]
    probs = {n: simulated_pred_probs(labels, true, k, seed=s, confusable=(arrival, estimate)) for s, n in enumerate(names)}
    # make the evil row an obvious issue so it lands in the top issues
    labels = labels.copy()
    labels[5] = (true[5] + 3) % k
    ens = np.mean(list(probs.values()), axis=0)
    quality = get_label_quality_scores(labels, ens)
    flags = find_label_issues(labels, ens)
    preds = {n: p.argmax(1) for n, p in probs.items()}
    issues = pd.DataFrame({
        "row": tr.rows, "example_id": tr.example_ids, "split": "train", "text": texts,
        "given_label": np.asarray(classes)[labels], "suggested_label": np.asarray(classes)[ens.argmax(1)],
        "label_quality": quality, "is_label_issue": flags,
        "n_models_disagree": sum((preds[n] != labels).astype(int) for n in names), "n_models": len(names),
        **{f"pred__{n}": np.asarray(classes)[preds[n]] for n in names},
        **{f"quality__{n}": get_label_quality_scores(labels, probs[n]) for n in names},
    }).sort_values("label_quality", kind="stable")
    path.mkdir(parents=True, exist_ok=True)
    issues.to_csv(path / "issues.csv", index=False)
    pred = ens.argmax(1)
    pairs = []
    for i in range(k):
        for j in range(i + 1, k):
            n_ab, n_ba = int(((labels == i) & (pred == j)).sum()), int(((labels == j) & (pred == i)).sum())
            if n_ab + n_ba:
                pairs.append({"label_a": classes[i], "label_b": classes[j], "n_a_as_b": n_ab, "n_b_as_a": n_ba,
                              "confusion_rate": (n_ab + n_ba) / int(((labels == i) | (labels == j)).sum())})
    pairs = pd.DataFrame(pairs).sort_values("confusion_rate", ascending=False)
    if with_diagnosis:
        pairs["diagnosis"] = ["overlapping intents | ambiguous"] + ["label noise"] * (len(pairs) - 1)
        pairs["recommendation"] = ["merge or define the boundary"] + ["review flagged rows"] * (len(pairs) - 1)
        pairs["evidence"] = ["all models confuse `where is my card`"] + [""] * (len(pairs) - 1)
    pairs.to_csv(path / "pairs.csv", index=False)
    np.savez(path / "oof.npz", labels=labels, classes=np.asarray(classes), example_ids=np.asarray(tr.example_ids),
             **{f"pred_probs__{n}": p for n, p in probs.items()})
    summary = {
        "data": "demo", "split": "train", "data_fingerprint": demo.fingerprint, "n_examples": len(tr),
        "classes": classes, "folds": 5, "seed": 0, "n_label_issues": int(flags.sum()),
        "ensemble_accuracy": float((pred == labels).mean()), "wall_seconds": 12.0,
        "backends": backends if backends is not None else [
            {"name": "tfidf-lr", "spec": {"backend": "tfidf-lr"}, "fingerprint": "a", "oof_accuracy": float((preds["tfidf-lr"] == labels).mean()),
             "oof_log_loss": 0.3, "seconds": 3.0, "n_parameters": 120_000, "test_accuracy": 0.95},
            {"name": "minilm-lr", "spec": {"backend": "minilm-lr"}, "fingerprint": "b", "oof_accuracy": float((preds["minilm-lr"] == labels).mean()),
             "oof_log_loss": 0.2, "seconds": 40.0, "n_parameters": 22_700_000},
            {"name": "lora:gemma-3-270m", "spec": {"backend": "lora", "model": "google/gemma-3-270m"}, "fingerprint": "c", "oof_accuracy": 0.99,
             "seconds": 900.0, "n_parameters": 270_000_000, "test_accuracy": 0.985},
        ],
    }
    (path / "summary.json").write_text(json.dumps(summary, indent=2))
    return path


