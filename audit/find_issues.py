"""``find_issues``: out-of-fold predictions of every backend -> cleanlab -> label issues and
confused pairs. The one library function behind ``audit find-issues``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from audit.data.schema import TextDataset
from audit.label_issues import find_label_issues_ensemble
from audit.pairs import find_confused_pairs
from finetune.backends.base import BackendConfig
from finetune.oof import OOFResult, Progress, cross_val_predict_proba


@dataclass
class FindIssuesResult:
    """Everything ``audit find-issues`` writes.

    issues : one row per example, worst label quality first (see docs/formats.md).
    pairs : confused pairs, most confused first.
    pred_probs : backend name -> (N, K) out-of-fold probabilities (canonical class order).
    ensemble_pred_probs : (N, K).
    summary : run metadata (JSON-serialisable).
    """

    dataset: TextDataset
    issues: pd.DataFrame
    pairs: pd.DataFrame
    pred_probs: dict[str, np.ndarray]
    ensemble_pred_probs: np.ndarray
    summary: dict = field(default_factory=dict)


def backend_names(configs: Sequence[BackendConfig]) -> list[str]:
    """Column-safe, unique names: the backend name, with -2, -3... for repeats."""
    names, seen = [], {}
    for c in configs:
        seen[c.backend] = seen.get(c.backend, 0) + 1
        names.append(c.backend if seen[c.backend] == 1 else f"{c.backend}-{seen[c.backend]}")
    return names


def find_issues(
    dataset: TextDataset,
    backends: Sequence[BackendConfig],
    *,
    n_folds: int = 5,
    seed: int = 0,
    cache_dir: str | None = None,
    n_jobs: int = 1,
    filter_by: str = "rank",
    weights: str = "equal",
    noise_aware: bool = True,
    progress: Progress | None = None,
    data_spec: str = "",
) -> FindIssuesResult:
    """Run every backend out-of-fold on ``dataset`` and aggregate with cleanlab."""
    start = time.perf_counter()
    names = backend_names(backends)
    results: dict[str, OOFResult] = {}
    for name, config in zip(names, backends):
        results[name] = cross_val_predict_proba(
            config, dataset, n_folds=n_folds, seed=seed, cache_dir=cache_dir, n_jobs=n_jobs,
            progress=progress,
        )
    labels = dataset.labels
    probs = {n: r.pred_probs for n, r in results.items()}
    table, ens, weights = find_label_issues_ensemble(
        labels, list(probs.values()), model_names=names, filter_by=filter_by, weights=weights,
        noise_aware=noise_aware,
    )
    sizes = [results[n].n_parameters or 0 for n in names]
    pairs = find_confused_pairs(
        labels, list(probs.values()), class_names=dataset.classes, model_names=names,
        model_sizes=sizes if any(sizes) else None, ensemble_pred_probs=ens,
    )
    issues = _issues_frame(dataset, table, names)
    accuracy = {n: float(np.mean(p.argmax(1) == labels)) for n, p in probs.items()}
    log_loss = {n: float(-np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, 1)).mean()) for n, p in probs.items()}
    summary = {
        "data": data_spec,
        "split": dataset.split,
        "source": dataset.source,
        "data_fingerprint": dataset.fingerprint,
        "n_examples": len(dataset),
        "n_classes": len(dataset.classes),
        "classes": list(dataset.classes),
        "backends": [
            {
                "name": n,
                "spec": results[n].config.to_dict(),
                "fingerprint": results[n].config.fingerprint(),
                "oof_accuracy": accuracy[n],
                "oof_log_loss": log_loss[n],
                "ensemble_weight": float(w),
                "n_parameters": results[n].n_parameters,
                "seconds": float(results[n].fit_seconds.sum()),
                "folds_cached": int(results[n].cached.sum()),
            }
            for n, w in zip(names, weights)
        ],
        "ensemble_accuracy": float(np.mean(ens.argmax(1) == labels)),
        "n_label_issues": int(table["is_label_issue"].sum()),
        "filter_by": filter_by,
        "weights": weights,
        "noise_aware": noise_aware,
        "folds": n_folds,
        "seed": seed,
        "wall_seconds": time.perf_counter() - start,
    }
    return FindIssuesResult(dataset, issues, pairs, probs, ens, summary)


def _issues_frame(dataset: TextDataset, table: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    classes = np.asarray(dataset.classes, dtype=object)
    out = pd.DataFrame(
        {
            "row": dataset.rows,
            "example_id": dataset.example_ids,
            "split": dataset.split,
            "text": dataset.texts,
            "given_label": classes[dataset.labels],
            "suggested_label": classes[table["suggested"].to_numpy()],
            "label_quality": table["label_quality"].round(6),
            "is_label_issue": table["is_label_issue"].astype(bool),
            "n_models_disagree": table["n_models_disagree"],
            "n_models": table["n_models"],
        }
    )
    for n in names:
        out[f"pred__{n}"] = classes[table[f"pred__{n}"].to_numpy()]
        out[f"quality__{n}"] = table[f"quality__{n}"].round(6)
        out[f"flag__{n}"] = table[f"flag__{n}"].astype(bool)
    out["reason"] = [_explain(row, names) for row in out.to_dict("records")]
    return out.sort_values("label_quality", kind="stable").reset_index(drop=True)


def _explain(d: dict, names: Sequence[str]) -> str:
    votes = [f"{n}: {d[f'pred__{n}']}" for n in names if d[f"pred__{n}"] != d["given_label"]]
    if not votes:
        return f"all {d['n_models']} models agree with the given label"
    return (
        f"{d['n_models_disagree']} of {d['n_models']} models disagree with "
        f"'{d['given_label']}' ({'; '.join(votes)})"
    )
