"""Confused label pairs, per model and pooled, each with its cause and the evidence for it.

For a pair (a, b) and a model: ``n_a_as_b`` counts rows labelled a whose out-of-fold argmax
is b; ``rate`` = (n_a_as_b + n_b_as_a) / (n_a + n_b). A pair is *confused* when its count
(the mean over the models) is significantly above what the models' error rates predict for
it (:func:`audit.pair_stats.get_expected_confusion`, a Poisson test, Benjamini-Hochberg over
all pairs). Its cause - label noise, genuine overlap, model capacity - comes from the first
round (models trained on every row), the rows the first round flagged, and the second round
(models trained without them): :mod:`audit.pair_diagnosis`, docs/method.md section 6.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from audit.pair_diagnosis import DiagnosisRule, PairEvidence, diagnose_pair, get_pair_evidence
from audit.pair_stats import get_expected_confusion, get_poisson_p_values, get_q_values
from labelcore.errors import DataError


def get_confusion_counts(labels: np.ndarray, pred_probs: np.ndarray) -> np.ndarray:
    """(K, K) counts: rows = given label, columns = out-of-fold argmax."""
    k = pred_probs.shape[1]
    return np.bincount(labels * k + pred_probs.argmax(1), minlength=k * k).reshape(k, k)


def get_pair_confusion(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Over the pairs a < b (``np.triu_indices`` order): ``(a (P,), b (P,), counts[a, b] + counts[b, a] (P,))``."""
    a, b = np.triu_indices(counts.shape[0], 1)
    return a, b, counts[a, b] + counts[b, a]


def get_merge_gains(labels: np.ndarray, pred_probs: np.ndarray, pairs: Sequence[tuple[int, int]]) -> pd.DataFrame:
    """Accuracy and macro-F1 of the argmax before and after merging each pair (b into a).

    All from one confusion matrix (:func:`get_confusion_counts`): merging b into a adds b's row
    and column to a's. Macro-F1 is scikit-learn's ``f1_score(average="macro")``: the mean of
    ``2 TP / (2 TP + FP + FN)`` over the classes in the labels or the predictions (the tests
    compare the two); 20 pairs on BANKING77 take 2 ms instead of 0.2 s of ``f1_score`` calls."""
    counts = get_confusion_counts(np.asarray(labels), pred_probs)
    base_acc, base_f1 = _accuracy_and_macro_f1(counts)
    rows = []
    for a, b in pairs:
        merged = counts.copy()
        merged[a] += merged[b]
        merged[:, a] += merged[:, b]
        merged[b], merged[:, b] = 0, 0
        accuracy, macro_f1 = _accuracy_and_macro_f1(merged)
        rows.append({"merged_accuracy": accuracy, "merged_macro_f1": macro_f1,
                     "accuracy_gain": accuracy - base_acc, "macro_f1_gain": macro_f1 - base_f1})
    return pd.DataFrame(rows)


def _accuracy_and_macro_f1(counts: np.ndarray) -> tuple[float, float]:
    """Accuracy and macro-F1 of a (K, K) confusion matrix (classes with no row and no
    prediction left out, as scikit-learn leaves out labels that occur nowhere)."""
    hits = np.diag(counts).astype(float)
    occurrences = counts.sum(1) + counts.sum(0)  # 2 TP + FP + FN per class
    present = occurrences > 0
    return float(hits.sum() / counts.sum()), float(np.mean(2 * hits[present] / occurrences[present]))


def find_confused_pairs(
    labels: np.ndarray,
    pred_probs_list: Sequence[np.ndarray],
    *,
    class_names: Sequence[str],
    model_names: Sequence[str],
    model_sizes: Sequence[float] | None = None,
    ensemble_pred_probs: np.ndarray | None = None,
    is_label_issue: np.ndarray | None = None,
    second_round_pred_probs_list: Sequence[np.ndarray] | None = None,
    row_ids: Sequence | None = None,
    alpha: float = 0.05,
    min_noise_share: float = 0.5,
    min_ambiguity: float = 0.4,
    separable_auc: float = 0.75,
    min_merge_ambiguity: float = 0.5,
    min_one_way_share: float = 0.3,
    n_bootstrap: int = 1000,
    seed: int = 0,
    max_pairs: int = 100,
) -> pd.DataFrame:
    """Every pair confused above chance (then the most confused others, up to ``max_pairs``
    rows in all), each with its cause, recommendation and evidence.

    Parameters
    ----------
    labels : (N,) given labels.
    pred_probs_list : M arrays (N, K), out-of-fold, trained on every row (the first round).
    model_sizes : (M,) a measure of scale (e.g. parameter count); the largest is the strongest
        model of the capacity and overlap tests. Default: the given order, smallest first.
    ensemble_pred_probs : (N, K) for the merge-gain columns (default: plain average).
    is_label_issue : (N,) bool, the first round's flags (default: none flagged).
    second_round_pred_probs_list : M arrays (N, K), out-of-fold, trained without the flagged
        rows (default: the first round again, and no drop is measured).
    row_ids : (N,) the ids listed in the row columns (default: 0..N-1).
    alpha, min_noise_share, min_ambiguity, separable_auc, min_merge_ambiguity, min_one_way_share, n_bootstrap,
    seed : the rule, see
        :class:`audit.pair_diagnosis.DiagnosisRule`.

    Returns one row per pair: ``label_a``, ``label_b``, ``diagnosis`` (the cause),
    ``recommendation``, pooled ``n_a_as_b``, ``n_b_as_a``, ``confusion_rate``, ``expected``,
    ``q_value``, the shares with 95% intervals (``noise_share``, ``relabel_share``, ``drop``,
    ``ambiguity``, ``separation_auc``, ``pair_ambiguity`` (all the pair's rows, first round),
    each with ``_low`` / ``_high``), ``n_models_confusing``,
    ``n_models_residual``, ``rows_a_to_b`` / ``rows_b_to_a`` (rows to relabel, space-separated
    ids), ``rows_ambiguous``, ``evidence`` (one sentence), merge gains, and per model
    ``rate__m``, ``n_a_as_b__m``, ``n_b_as_a__m``, ``residual__m``, ``auc__m``.
    Confused pairs first, then by pooled rate.
    """
    labels = np.asarray(labels)
    first = [np.asarray(p) for p in pred_probs_list]
    m = len(first)
    if m == 0 or len(model_names) != m:
        raise DataError(f"need one name per model: {m} pred_probs, {len(model_names)} names")
    has_second = second_round_pred_probs_list is not None
    second = [np.asarray(p) for p in second_round_pred_probs_list] if has_second else first
    if len(second) != m or any(p.shape != first[0].shape for p in first + second):
        raise DataError("every pred_probs (both rounds) must have the same shape (N, K), one per model")
    flagged = np.zeros(len(labels), bool) if is_label_issue is None else np.asarray(is_label_issue, bool)
    ids = np.arange(len(labels)) if row_ids is None else np.asarray(row_ids)
    sizes = np.arange(m, dtype=float) if model_sizes is None else np.asarray(model_sizes, float)
    largest = int(np.argmax(sizes))
    rule = DiagnosisRule(alpha=alpha, min_noise_share=min_noise_share, min_ambiguity=min_ambiguity,
                         separable_auc=separable_auc, min_merge_ambiguity=min_merge_ambiguity,
                         min_one_way_share=min_one_way_share, n_bootstrap=n_bootstrap, seed=seed)

    counts = [get_confusion_counts(labels, p) for p in first]
    a, b, _ = get_pair_confusion(counts[0])
    observed = np.stack([get_pair_confusion(c)[2] for c in counts], 1).astype(float)  # (P, M)
    expected = np.stack([get_pair_confusion(get_expected_confusion(c))[2] for c in counts], 1)
    pooled_q = get_q_values(get_poisson_p_values(observed.mean(1), expected.mean(1)))
    model_q = np.stack([get_q_values(get_poisson_p_values(observed[:, j], expected[:, j])) for j in range(m)], 1)
    clean = ~flagged
    residual_counts = [get_confusion_counts(labels[clean], p[clean]) for p in second]
    residual = np.stack([get_pair_confusion(c)[2] for c in residual_counts], 1).astype(float)
    residual_expected = np.stack([get_pair_confusion(get_expected_confusion(c))[2] for c in residual_counts], 1)
    residual_p = get_poisson_p_values(residual, residual_expected)

    n_class = np.bincount(labels, minlength=first[0].shape[1])
    rates = observed / np.maximum(n_class[a] + n_class[b], 1)[:, None]
    pooled = rates.mean(1)
    significant = pooled_q <= alpha
    order = np.lexsort((-pooled, ~significant))
    confused = [p for p in order if significant[p]]
    others = [p for p in order if not significant[p] and observed[p].max() > 0]
    keep = confused + others[: max(max_pairs - len(confused), 0)]

    rows = []
    for p in keep:
        ia, ib = int(a[p]), int(b[p])
        ev = get_pair_evidence(
            ia, ib, labels, first, second, flagged, significant=bool(significant[p]),
            models_significant=model_q[p] <= alpha, models_residual=residual_p[p] < alpha,
            has_second_round=has_second, rule=rule,
        ) if significant[p] else None
        cause, recommendation = diagnose_pair(ev, largest=largest, rule=rule) if ev else ("chance", "none")
        dirs = np.array([[c[ia, ib], c[ib, ia]] for c in counts])  # (M, 2)
        row = {
            "label_a": class_names[ia],
            "label_b": class_names[ib],
            "diagnosis": cause,
            "recommendation": recommendation,
            "n_a_as_b": float(dirs[:, 0].mean()),
            "n_b_as_a": float(dirs[:, 1].mean()),
            "confusion_rate": float(pooled[p]),
            "expected": float(expected[p].mean()),
            "q_value": float(pooled_q[p]),
            **_interval_columns(ev),
            "n_models_confusing": int((model_q[p] <= alpha).sum()),
            "n_models_residual": int((residual_p[p] < alpha).sum()) if ev else 0,
            "n_models": m,
            "rows_a_to_b": " ".join(map(str, ids[ev.rows_a_to_b])) if ev else "",
            "rows_b_to_a": " ".join(map(str, ids[ev.rows_b_to_a])) if ev else "",
            "rows_ambiguous": " ".join(map(str, ids[ev.rows_ambiguous])) if ev else "",
            "evidence": describe_evidence(ev, observed[p].mean(), expected[p].mean(), pooled_q[p],
                                          class_names[ia], class_names[ib], model_names, largest),
        }
        for j, name in enumerate(model_names):
            row[f"rate__{name}"] = float(rates[p, j])
            row[f"n_a_as_b__{name}"] = int(dirs[j, 0])
            row[f"n_b_as_a__{name}"] = int(dirs[j, 1])
            row[f"residual__{name}"] = int(residual[p, j])
            row[f"auc__{name}"] = ev.auc[j][0] if ev else float("nan")
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        ens = ensemble_pred_probs if ensemble_pred_probs is not None else np.mean(first, 0)
        gains = get_merge_gains(labels, ens, [(int(a[p]), int(b[p])) for p in keep])
        table = pd.concat([table, gains], axis=1)
    return table


def _interval_columns(ev: PairEvidence | None) -> dict[str, float]:
    nan = (float("nan"),) * 3
    best = max(ev.auc, key=lambda t: -np.inf if np.isnan(t[0]) else t[0]) if ev else nan
    out = {}
    for name, value in (("noise_share", ev.noise_share if ev else nan), ("relabel_share", ev.relabel_share if ev else nan),
                        ("drop", ev.drop if ev else nan),
                        ("ambiguity", ev.ambiguity if ev else nan), ("separation_auc", best),
                        ("pair_ambiguity", ev.pair_ambiguity if ev else nan)):
        out[name], out[f"{name}_low"], out[f"{name}_high"] = (float(v) for v in value)
    return out


def _fmt(t: tuple[float, float, float]) -> str:
    return "n/a" if not np.isfinite(t[0]) else f"{t[0]:.0%} [{t[1]:.0%}, {t[2]:.0%}]"


def describe_evidence(ev: PairEvidence | None, observed: float, expected: float, q_value: float,
                      label_a: str, label_b: str, model_names: Sequence[str], largest: int) -> str:
    """One sentence with the numbers behind the diagnosis (shares with 95% intervals)."""
    head = f"confused {observed:.1f}x per model vs {expected:.1f} expected from the error rates (q={q_value:.2g})"
    if ev is None:
        return head + ": not above chance"
    m = len(model_names)
    best = int(np.nanargmax([t[0] for t in ev.auc])) if np.isfinite([t[0] for t in ev.auc]).any() else None
    parts = [
        head,
        f"{int(ev.models_significant.sum())}/{m} models above chance"
        + ("" if ev.models_significant[largest] else f", not the largest ({model_names[largest]})"),
        f"on flagged rows: {_fmt(ev.noise_share)}",
        f"on the rows to relabel: {_fmt(ev.relabel_share)}",
        f"drop among unflagged rows in round 2: {_fmt(ev.drop)}" if np.isfinite(ev.drop[0]) else "one round",
        f"{int(ev.models_residual.sum())}/{m} models still above chance on unflagged rows"
        + (" in round 2" if np.isfinite(ev.drop[0]) else ""),
        f"ambiguity {_fmt(ev.ambiguity)} on confused unflagged rows, {_fmt(ev.pair_ambiguity)} on all the pair's rows",
        "separation AUC n/a" if best is None else
        f"best separation AUC {ev.auc[best][0]:.2f} [{ev.auc[best][1]:.2f}, {ev.auc[best][2]:.2f}] ({model_names[best]}, all rows)",
        f"to relabel: {len(ev.rows_a_to_b)} {label_a}->{label_b}, {len(ev.rows_b_to_a)} {label_b}->{label_a}"
        + (f" (one-way test p={ev.one_way_p:.2g})" if len(ev.rows_a_to_b) + len(ev.rows_b_to_a) else ""),
    ]
    return "; ".join(parts)
