"""Why is a label pair confused? The per-pair evidence and the rule that turns it into a cause.

Causes, checked in this order (see docs/method.md, section 6):
- ``chance``: not confused more than the models' error rates predict -> ``none``.
- ``capacity``: some models confuse it above chance, the largest does not -> ``bigger model``.
- ``overlap`` -> ``merge``: no model separates the two labels (every model's AUC interval,
  first round, all the pair's rows, below ``separable_auc``) *and* the models split their
  probability between the two labels on the pair's rows as a whole (first-round ambiguity of
  all its rows >= ``min_merge_ambiguity``): one intent under two names. Label noise - one-way
  (30% of a's rows labelled b) or both ways - also lowers the AUC, but there the models are
  sure of each row, only not of the given label: most rows sit near 0 or 1, not near 1/2.
- ``noise`` -> ``relabel``, one way: the rows to relabel go one way far more often than a
  fair coin would send them (binomial test at ``alpha``) and carry at least
  ``min_one_way_share`` of the confusion. Models trained on one-way noise (30% of a's rows
  labelled b) learn part of the wrong mapping, so the confusion shows in both directions and
  the rows left unflagged look ambiguous; which way the mislabelled rows go does not: genuine
  overlap sends rows both ways.
- ``overlap`` -> ``guideline``: among rows not flagged as label issues, every model still
  confuses the pair above chance in the second round, with its probability split between the
  two labels on the confused rows (ambiguity >= ``min_ambiguity``).
- ``noise`` -> ``relabel``: the rows the evidence says are mislabelled (flagged, or put on
  the other label by every model in the second round) carry most of the confusion.
- ``unclear``: confused above chance, none of the above -> ``inspect``.

Separability is measured on *all* the pair's rows in the first round, not on unflagged rows
in the second: flagging keeps the rows that agree with the models, and a class split at
random in two then looks separable on what is left (BANKING77, docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from audit.pair_stats import get_auc_interval, get_bootstrap_weights, get_ratio_interval

CAUSES = ("noise", "overlap", "capacity", "unclear", "chance")
RECOMMENDATIONS = {"noise": "relabel", "capacity": "bigger model", "unclear": "inspect", "chance": "none"}


@dataclass(frozen=True)
class DiagnosisRule:
    """Thresholds of the diagnosis (keyword options of ``find_confused_pairs``)."""

    alpha: float = field(default=0.05, metadata={"help": "Significance level of every test (FDR for the pair test)."})
    min_noise_share: float = field(default=0.5, metadata={"help": "Share of the confusion on rows to relabel that makes it label noise."})
    min_ambiguity: float = field(default=0.4, metadata={"help": "Mean probability split (0 sure .. 1 fifty-fifty) that makes it overlap."})
    separable_auc: float = field(default=0.75, metadata={"help": "A model whose AUC interval reaches this separates the two labels."})
    min_merge_ambiguity: float = field(default=0.5, metadata={"help": "First-round probability split over all the pair's rows that a merge needs."})
    min_one_way_share: float = field(default=0.3, metadata={"help": "Share of the confusion on rows to relabel that, when those rows go one way (binomial test), makes it one-way label noise."})
    n_bootstrap: int = field(default=1000, metadata={"help": "Bootstrap resamples of the pair's rows for the share intervals."})
    seed: int = 0


@dataclass
class PairEvidence:
    """Everything the rule looks at for one pair; intervals are ``(estimate, low, high)``."""

    significant: bool                 # pooled confusion above chance (FDR-controlled)
    models_significant: np.ndarray    # (M,) bool: each model's own first-round test
    models_residual: np.ndarray       # (M,) bool: each model's second-round test on unflagged rows
    noise_share: tuple[float, float, float]    # of the confusion, on flagged rows
    relabel_share: tuple[float, float, float]  # of the confusion, on the rows listed to relabel
    drop: tuple[float, float, float]  # relative drop of unflagged confusion, round 1 -> 2
    ambiguity: tuple[float, float, float]
    auc: list[tuple[float, float, float]]  # per model, all the pair's rows, first round
    pair_ambiguity: tuple[float, float, float]  # all the pair's rows, first round, mean over models
    rows_a_to_b: np.ndarray           # indices: labelled a, evidence says b
    rows_b_to_a: np.ndarray
    rows_ambiguous: np.ndarray        # unflagged, most split first

    @cached_property
    def one_way_p(self) -> float:
        """Two-sided binomial p-value of the rows to relabel splitting as they do between the
        two directions if each went either way with probability 1/2 (1.0 when there are none)."""
        from scipy.stats import binomtest

        n_ab, n_ba = len(self.rows_a_to_b), len(self.rows_b_to_a)
        return float(binomtest(max(n_ab, n_ba), n_ab + n_ba, 0.5).pvalue) if n_ab + n_ba else 1.0


def get_pair_evidence(
    a: int,
    b: int,
    labels: np.ndarray,
    first_round: list[np.ndarray],
    second_round: list[np.ndarray],
    is_flagged: np.ndarray,
    *,
    significant: bool,
    models_significant: np.ndarray,
    models_residual: np.ndarray,
    has_second_round: bool,
    rule: DiagnosisRule,
    max_ambiguous: int = 10,
) -> PairEvidence:
    """The row-level evidence for pair ``(a, b)``.

    ``first_round`` / ``second_round``: per model ``(N, K)`` out-of-fold probabilities (the
    second trained without the flagged rows); ``is_flagged (N,)``: the first round's flags."""
    rows = np.flatnonzero((labels == a) | (labels == b))
    given = labels[rows]
    other = np.where(given == a, b, a)
    flag = is_flagged[rows].astype(float)
    w1 = np.mean([p[rows].argmax(1) == other for p in first_round], 0)
    w2 = np.mean([p[rows].argmax(1) == other for p in second_round], 0)
    boot = {"weights": get_bootstrap_weights(len(rows), n_bootstrap=rule.n_bootstrap, seed=rule.seed)}
    noise = get_ratio_interval(w1 * flag, w1, **boot)
    if has_second_round:
        kept, low, high = get_ratio_interval(w2 * (1 - flag), w1 * (1 - flag), **boot)
        drop = (1 - kept, 1 - high, 1 - low)
    else:
        drop = (float("nan"),) * 3
    # q: share of the pair's probability on the other label, per model (M, R)
    q = np.stack([p[rows, other] / np.maximum(p[rows, a] + p[rows, b], 1e-12) for p in second_round])
    split = np.mean(2 * np.minimum(q, 1 - q), 0)
    ambiguity = get_ratio_interval(w2 * split, w2, **boot)
    auc = [get_auc_interval(given == b, p[rows, b] / np.maximum(p[rows, a] + p[rows, b], 1e-12)) for p in first_round]
    q1 = np.stack([p[rows, other] / np.maximum(p[rows, a] + p[rows, b], 1e-12) for p in first_round])
    pair_ambiguity = get_ratio_interval(np.mean(2 * np.minimum(q1, 1 - q1), 0), np.ones(len(rows)), **boot)
    clean = flag == 0
    ens_q = q.mean(0)
    # to relabel: flagged rows the second round puts on the other label, and unflagged rows
    # every model sure of it (>= 0.8 of the pair's probability) - not the fifty-fifty ones
    wrong = (ens_q > 0.5) & ((flag == 1) | ((w2 == 1) & (ens_q >= 0.8)))
    relabel = get_ratio_interval(w1 * wrong, w1, **boot)
    order = np.argsort(-ens_q, kind="stable")
    to_b = [rows[i] for i in order if wrong[i] and given[i] == a]
    to_a = [rows[i] for i in order if wrong[i] and given[i] == b]
    amb_order = np.argsort(-split, kind="stable")
    ambiguous = [rows[i] for i in amb_order if clean[i] and w2[i] > 0][:max_ambiguous]
    return PairEvidence(
        significant, np.asarray(models_significant, bool), np.asarray(models_residual, bool),
        noise, relabel, drop, ambiguity, auc, pair_ambiguity, np.asarray(to_b, int), np.asarray(to_a, int), np.asarray(ambiguous, int),
    )


def diagnose_pair(evidence: PairEvidence, *, largest: int, rule: DiagnosisRule) -> tuple[str, str]:
    """``(cause, recommendation)`` from the evidence; ``largest`` = index of the strongest model."""
    e = evidence
    if not e.significant:
        return "chance", RECOMMENDATIONS["chance"]
    if not e.models_significant[largest] and e.models_significant.any():
        return "capacity", RECOMMENDATIONS["capacity"]
    if all(np.isfinite(high) and high < rule.separable_auc for _, _, high in e.auc) \
            and e.pair_ambiguity[0] >= rule.min_merge_ambiguity:
        return "overlap", "merge"
    if np.isfinite(e.relabel_share[0]) and e.relabel_share[0] >= rule.min_one_way_share \
            and e.one_way_p < rule.alpha:
        return "noise", RECOMMENDATIONS["noise"]
    ambiguity = e.ambiguity[0]
    if e.models_residual.all() and np.isfinite(ambiguity) and ambiguity >= rule.min_ambiguity:
        return "overlap", "guideline"
    if np.isfinite(e.relabel_share[0]) and e.relabel_share[0] >= rule.min_noise_share:
        return "noise", RECOMMENDATIONS["noise"]
    return "unclear", RECOMMENDATIONS["unclear"]
