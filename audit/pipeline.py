"""``find_issues``: out-of-fold predictions of every backend -> cleanlab -> label issues and
confused pairs. The one library function behind ``audit find-issues``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from labelcore.data.schema import TextDataset
from labelcore.errors import ConfigError
from audit.detectors import (DEFAULT_DETECTORS, DetectorContext, DetectorResult, applicable_detectors, detector_needs,
                             run_detectors)
from audit.buckets import buckets_of_issues
from audit.detectors.label_issues import explain_disagreement
from audit.formats.summary import BackendSummary, RunSummary
from audit.settings import AuditSettings
from labelcore.data.validate import check_auditable
from audit.aggregation import find_label_issues_ensemble, import_cleanlab
from audit.model_scales import model_scale_fields
from audit.pairs import find_confused_pairs
from finetune.backends.base import BackendConfig
from finetune.embeddings import OFFLINE_MINILM, EmbeddingStore
from finetune.executors import Executor
from finetune.memory import release_freed_memory
from finetune.oof import OOFResult, Progress, cross_val_predict_proba_many


@dataclass
class FindIssuesResult:
    """Everything ``audit find-issues`` writes.

    issues : one row per example, worst label quality first (see docs/formats.md).
    pairs : confused pairs, most confused first.
    pred_probs : backend name -> (N, K) out-of-fold probabilities (canonical class order).
    ensemble_pred_probs : (N, K).
    summary : run metadata (``summary.json``).
    detectors : detector name -> its :class:`DetectorResult` (rows in ``dataset`` order).
    first_round_pred_probs : backend name -> (N, K) trained on every row (= ``pred_probs``
        when ``rounds=1``).
    """

    dataset: TextDataset
    issues: pd.DataFrame
    pairs: pd.DataFrame
    pred_probs: dict[str, np.ndarray]
    ensemble_pred_probs: np.ndarray
    summary: RunSummary | None = None
    detectors: dict[str, DetectorResult] = field(default_factory=dict)
    first_round_pred_probs: dict[str, np.ndarray] = field(default_factory=dict)


def backend_names(configs: Sequence[BackendConfig]) -> list[str]:
    """Column-safe, unique names: the backend's display name (the backend name, or a
    precomputed backend's ``name``), with -2, -3... for repeats."""
    names, seen = [], {}
    for c in configs:
        name = c.display_name
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return names


def find_issues(
    dataset: TextDataset,
    backends: Sequence[BackendConfig],
    settings: AuditSettings | None = None,
    *,
    progress: Progress | None = None,
    data_spec: str = "",
    test: TextDataset | None = None,
    executor: Executor | None = None,
    **options,
) -> FindIssuesResult:
    """Run every backend out-of-fold on ``dataset``, aggregate with cleanlab, run the detectors.

    ``settings`` (:class:`~audit.settings.AuditSettings`), or its fields as keyword
    ``options`` (``n_folds=3, rounds=1``...), are checked before any model trains.
    ``settings.detectors``: names from :mod:`audit.detectors`; default all that apply
    (label_issues, duplicates, outliers, class_quality, and leakage when ``test`` is given).
    Embeddings (MiniLM, cached under ``cache_dir``) are computed only when a detector needs them.

    ``rounds=2`` (default) retrains every backend out-of-fold without the rows the first
    round flagged (they are still predicted), then scores again: mislabelled rows no longer
    pull the models towards their wrong labels. Confused pairs are counted in the first round -
    the models as trained on the given labels - and diagnosed with the first round's flags
    and the second round (see :func:`audit.pairs.find_confused_pairs`). Given predictions (``precomputed``) cannot be
    retrained: round 2 keeps them as they are.

    ``executor`` runs the folds (:mod:`finetune.executors`, e.g. Ray); default: local,
    ``n_jobs`` processes. Every (backend, fold) of a round is submitted at once.

    ``fit_final``: also train each backend once on every row of ``dataset`` - scored on
    ``test`` when given, and measured for inference latency and memory on ``cost_rows``
    texts (see :func:`audit.model_scales.model_scale_fields`). Off by default: it is one
    more training per backend.
    """
    if settings is None:
        settings = AuditSettings.from_options(**options)
    elif options:
        settings = settings.replace(**options)
    check_auditable(dataset, n_folds=settings.n_folds)
    if not backends:
        raise ConfigError("give at least one backend")
    n_folds, seed, cache_dir, n_jobs = settings.n_folds, settings.seed, settings.cache_dir, settings.n_jobs
    filter_by, weights, noise_aware, rounds = settings.filter_by, settings.weights, settings.noise_aware, settings.rounds
    start = time.perf_counter()
    names = backend_names(backends)
    labels = dataset.labels

    def run_round(train_mask: np.ndarray | None, label: str, earlier: dict[str, OOFResult] | None = None,
                  fit_final: bool = False, keep_states: bool = False,
                  while_waiting: Callable[[], object] | None = None) -> dict[str, OOFResult]:
        def report(done: int, total: int, message: str) -> None:
            if progress:
                progress(done, total, f"{label}{message}")

        # a second round reuses the first's label-free features, and its folds start from the
        # first round's solutions (Backend.starts_from_earlier_round)
        results = cross_val_predict_proba_many(
            backends, dataset, n_folds=n_folds, seed=seed, cache_dir=cache_dir, n_jobs=n_jobs,
            train_mask=train_mask, progress=report, executor=executor, names=names,
            prepared=[earlier[n].prepared for n in names] if earlier else None, fit_final=fit_final,
            keep_states=keep_states, warm_from=[earlier[n] for n in names] if earlier else None,
            while_waiting=while_waiting, final_texts=test.texts if fit_final and test is not None else None,
        )
        return dict(zip(names, results))

    def aggregate(results: dict[str, OOFResult]):
        return find_label_issues_ensemble(
            labels, [r.pred_probs for r in results.values()], model_names=names, filter_by=filter_by,
            weights=weights, noise_aware=noise_aware,
        )

    # final models train beside the folds; a second round starts from the folds' solutions; cleanlab
    # is imported while the last folds train
    first = run_round(None, "", fit_final=settings.fit_final, keep_states=rounds == 2, while_waiting=import_cleanlab)
    # the driver's peak is in what follows: give back the heap the round freed (the encoder's
    # temporaries, the tasks' payloads; ~0.16 GB on BANKING77's default run)
    release_freed_memory()
    table, ens, fitted_weights = aggregate(first)
    first_ens = ens
    flagged = table["is_label_issue"].to_numpy(bool)
    results = first
    if rounds == 2:
        results = run_round(~flagged, "round 2 ", first)
        release_freed_memory()
        table, ens, fitted_weights = aggregate(results)
    sizes = [first[n].n_parameters or 0 for n in names]
    pairs = find_confused_pairs(
        labels, [r.pred_probs for r in first.values()], class_names=dataset.classes, model_names=names,
        model_sizes=sizes if any(sizes) else None, ensemble_pred_probs=first_ens, is_label_issue=flagged,
        second_round_pred_probs_list=[r.pred_probs for r in results.values()] if rounds == 2 else None,
        row_ids=dataset.rows, seed=seed,
    )
    n_first = int(flagged.sum())
    probs = {n: r.pred_probs for n, r in results.items()}
    embeddings = _shared_embeddings(backends, results)
    # embeddings cost nothing extra when a backend embeds anyway; else only named detectors embed
    free = settings.detectors is not None or any(getattr(c, "model", None) == OFFLINE_MINILM for c in backends)
    precision = next((c.precision for c in backends if getattr(c, "model", None) == OFFLINE_MINILM), "auto")
    context = DetectorContext(
        dataset, labels=labels, pred_probs_list=list(probs.values()), model_names=names,
        ensemble_pred_probs=ens, ensemble_weights=fitted_weights, test=test, embeddings=embeddings,
        embed=(lambda texts: EmbeddingStore(OFFLINE_MINILM, root=cache_dir, precision=precision).embed(texts)) if free else None,
        label_issue_table=table,
    )
    detectors = settings.detectors or applicable_detectors(context, DEFAULT_DETECTORS)
    skipped = {n: "needs sentence embeddings, and no backend of this run computes them (add -b minilm-lr, "
                  f"or name it: --detector {n})"
               for n in DEFAULT_DETECTORS if n not in detectors and detector_needs(n) == ("embeddings",)}
    detector_options = dict(settings.detector_options)
    if "label_issues" in detectors:  # recorded in the detector's info; the table is reused
        detector_options["label_issues"] = {"filter_by": filter_by, "noise_aware": noise_aware}
    found = run_detectors(detectors, context, options=detector_options)
    release_freed_memory()
    issues = _issues_frame(dataset, table, names, found)
    accuracy = {n: float(np.mean(p.argmax(1) == labels)) for n, p in probs.items()}
    log_loss = {n: float(-np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, 1)).mean()) for n, p in probs.items()}
    scale = model_scale_fields(
        dataset, backends, names, probs, test=test, fit_final=settings.fit_final, cost_rows=settings.cost_rows,
        seed=seed, cache_dir=cache_dir, given=[n for n in names if results[n].given],
        prepared={n: first[n].prepared for n in names}, init={n: (first[n].states or (None,))[0] for n in names},
        fitted={n: (first[n].final, first[n].final_seconds, first[n].final_pred_probs) for n in names
                if first[n].final is not None},
        progress=(lambda d, t, m: progress(d, t, f"final {m}")) if progress else None,
    )
    summary = RunSummary(
        data=data_spec,
        split=dataset.split,
        source=dataset.source,
        data_fingerprint=dataset.fingerprint,
        n_examples=len(dataset),
        n_classes=len(dataset.classes),
        classes=list(dataset.classes),
        backends=[
            BackendSummary(
                name=n,
                spec=results[n].config.to_dict(),
                fingerprint=results[n].config.fingerprint(),
                oof_accuracy=accuracy[n],
                oof_log_loss=log_loss[n],
                ensemble_weight=float(w),
                n_parameters=results[n].n_parameters,
                seconds=float(results[n].fit_seconds.sum()),
                folds_cached=int(results[n].cached.sum()),
                given=results[n].given,
                **scale[n],
            )
            for n, w in zip(names, fitted_weights)
        ],
        ensemble_accuracy=float(np.mean(ens.argmax(1) == labels)),
        n_label_issues=int(table["is_label_issue"].sum()),
        filter_by=filter_by,
        weights=weights,
        noise_aware=noise_aware,
        rounds=rounds,
        n_label_issues_first_round=n_first,
        folds=n_folds,
        seed=seed,
        detectors={
            n: {"n_issues": r.n_issues, "summary_score": r.summary_score, "info": r.info} for n, r in found.items()
        },
        detectors_skipped=skipped,
        wall_seconds=time.perf_counter() - start,
    )
    return FindIssuesResult(dataset, issues, pairs, probs, ens, summary, found,
                            {n: r.pred_probs for n, r in first.items()})


def _shared_embeddings(backends: Sequence[BackendConfig], results: dict[str, OOFResult]) -> np.ndarray | None:
    """(N, D) the detectors' MiniLM embeddings when a backend of the run already computed them
    (its shared features), else None: the detectors then embed only when named."""
    for config, result in zip(backends, results.values()):
        prepared = result.prepared
        if getattr(config, "model", None) == OFFLINE_MINILM and prepared is not None and prepared.transformer is None \
                and getattr(config, "normalize", False):
            return np.asarray(prepared.matrix, dtype=np.float32)
    return None


def _issues_frame(
    dataset: TextDataset, table: pd.DataFrame, names: Sequence[str], found: dict[str, DetectorResult]
) -> pd.DataFrame:
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
    out["reason"] = [explain_disagreement(row, names) for row in out.to_dict("records")]
    for n, r in found.items():
        if n == "label_issues":  # its flag, score and reason are the columns above
            continue
        out[f"is_{n}"] = r.is_issue
        out[f"{n}_score"] = r.score.round(6)
        out[f"{n}_reason"] = r.reason
    out["bucket"] = buckets_of_issues(out)  # one bucket per flagged row (audit/buckets.py)
    return out.sort_values("label_quality", kind="stable").reset_index(drop=True)

