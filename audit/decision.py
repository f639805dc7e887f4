"""Which model to ship: the user's requirement checked against every backend's measured
score (with its interval), what each model costs a month, and - when none clears the bar -
which branch of the flowchart the evidence points to.

Inputs are tables, not files: the ``backends`` entries of a find-issues ``summary.json``
(see :mod:`audit.model_scales`), ``pairs.csv`` as a DataFrame, and ``learning_curve.csv``
(:mod:`audit.learning_curve`) as a DataFrame.

The flowchart:

1. Some model clears the bar -> ship the smallest that does (bigger is wasted cost, latency
   and complexity). When the bar lies inside the intervals of the smallest clearing model and
   of a smaller one below it, the test set cannot tell them apart at the bar: refuse to pick.
2. None does -> why not?
   - *labels*: pairs every scale confuses (diagnosis ``data`` in pairs.csv); fixing them is
     worth about the sum of their merge gains.
   - *capacity*: pairs only the smaller models confuse, and the larger model scores higher.
   - *data quantity*: the learning curves still rise at 100% of the training data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pandas as pd

from labelcore.errors import ConfigError
from audit.intervals import METRICS
from audit.options import BAR_ON as SPLITS


@dataclass(frozen=True)
class Requirement:
    """What the user needs, and what errors and serving cost them.

    bar : the score a model must reach, in (0, 1]. metric : one of :data:`METRICS`
    (``worst_class_recall`` = a floor every class's recall must clear). on : ``test``,
    ``oof`` (out-of-fold) or ``auto`` (test when every backend has a test score).
    cost_per_error : money per misrouted query. queries_per_month : traffic.
    serving_cost_per_1k : money per 1,000 queries, one number for every backend or
    ``{backend name: cost}``. compute_cost_per_hour : price of the measured device per hour;
    a backend without a serving cost then gets ``batched median latency x 1,000 / 3,600 x price``.
    """

    bar: float
    metric: str = "accuracy"
    on: str = "auto"
    cost_per_error: float | None = None
    queries_per_month: float | None = None
    serving_cost_per_1k: float | Mapping[str, float] | None = None
    compute_cost_per_hour: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.bar, (int, float)) or not 0 < self.bar <= 1:
            raise ConfigError(f"the bar must be in (0, 1], got {self.bar!r}")
        if self.metric not in METRICS:
            raise ConfigError(f"unknown metric {self.metric!r}; choose one of {', '.join(METRICS)}")
        if self.on not in SPLITS:
            raise ConfigError(f"the bar applies to one of {', '.join(SPLITS)}, got {self.on!r}")
        for name in ("cost_per_error", "queries_per_month", "compute_cost_per_hour"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ConfigError(f"{name.replace('_', '-')} must be >= 0, got {value!r}")
        serving = self.serving_cost_per_1k
        values = serving.values() if isinstance(serving, Mapping) else [] if serving is None else [serving]
        if any(not v >= 0 for v in values):
            raise ConfigError(f"serving costs must be >= 0, got {serving!r}")

    @property
    def has_costs(self) -> bool:
        return self.queries_per_month is not None and self.cost_per_error is not None


def as_number(value: Any) -> float | None:
    """``value`` as a float; None when it is missing, not a number or NaN."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def resolve_split(backends: Sequence[dict], requirement: Requirement) -> str:
    """``test`` or ``oof``: ``auto`` is test when every backend has a test score for the metric."""
    if requirement.on != "auto":
        return requirement.on
    has_test = backends and all(as_number(b.get(f"test_{requirement.metric}")) is not None for b in backends)
    return "test" if has_test else "oof"


def model_candidates(backends: Sequence[dict], requirement: Requirement) -> list[dict]:
    """One row per backend, smallest first (parameters, then training time; unknown sizes last):
    ``name``, ``n_parameters``, ``value`` and ``ci`` of the metric on the resolved split,
    ``accuracy`` and ``accuracy_ci`` (for error costs), ``costs`` (or None), ``clears``
    (value >= bar), ``bar_in_interval``."""
    split = resolve_split(backends, requirement)
    rows = []
    for b in backends:
        value = as_number(b.get(f"{split}_{requirement.metric}"))
        ci = b.get(f"{split}_{requirement.metric}_ci") or [None, None]
        acc_ci = b.get(f"{split}_accuracy_ci") or [None, None]
        lo, hi = as_number(ci[0]), as_number(ci[1])
        rows.append({
            "name": b.get("name") or b.get("backend") or "?",
            "n_parameters": as_number(b.get("n_parameters")),
            "seconds": as_number(b.get("seconds")),
            "split": split,
            "value": value,
            "ci": [lo, hi],
            "accuracy": as_number(b.get(f"{split}_accuracy")),
            "accuracy_ci": [as_number(acc_ci[0]), as_number(acc_ci[1])],
            "worst_class": b.get(f"{split}_worst_class"),
            "costs": b.get("costs"),
            "clears": value is not None and value >= requirement.bar,
            "bar_in_interval": lo is not None and hi is not None and lo <= requirement.bar <= hi,
        })
    return sorted(rows, key=lambda r: (r["n_parameters"] is None, r["n_parameters"] or 0.0,
                                       r["seconds"] is None, r["seconds"] or 0.0))


def pick_smallest(candidates: Sequence[dict], *, bar: float) -> dict:
    """The smallest candidate that clears ``bar``, or a refusal.

    Returns ``{"choice": name | None, "refused": None | {"models": [smaller, chosen]},
    "marginal": bool, "might_also_clear": [names]}``. Refused when the bar lies inside both the
    chosen model's interval and that of a smaller model below the bar: the measurement cannot
    say which of the two is on which side. ``marginal``: the chosen model's interval holds the
    bar (nothing smaller is that close). ``might_also_clear``: smaller models below the bar
    whose interval reaches it while the chosen model's does not.
    """
    clearing = [c for c in candidates if c["clears"]]
    if not clearing:
        return {"choice": None, "refused": None, "marginal": False, "might_also_clear": []}
    chosen = clearing[0]
    smaller = candidates[: candidates.index(chosen)]
    close = [c for c in smaller if not c["clears"] and c["bar_in_interval"]]
    if chosen["bar_in_interval"] and close:
        return {"choice": None, "refused": {"models": [close[-1]["name"], chosen["name"]]},
                "marginal": True, "might_also_clear": []}
    return {"choice": chosen["name"], "refused": None, "marginal": chosen["bar_in_interval"],
            "might_also_clear": [c["name"] for c in close]}


def serving_cost_per_1k(candidate: dict, requirement: Requirement) -> tuple[float | None, str]:
    """(money per 1,000 queries, where it came from: 'given', 'from latency' or '')."""
    serving = requirement.serving_cost_per_1k
    if isinstance(serving, Mapping):
        if candidate["name"] in serving:
            return float(serving[candidate["name"]]), "given"
    elif serving is not None:
        return float(serving), "given"
    costs = candidate.get("costs") or {}
    ms = as_number((costs.get("batched_ms_per_example") or {}).get("median"))
    if requirement.compute_cost_per_hour is not None and ms is not None:
        return ms * 1000 / 1000 / 3600 * requirement.compute_cost_per_hour, "from latency"
    return None, ""


def cost_table(candidates: Sequence[dict], requirement: Requirement) -> list[dict]:
    """Expected monthly cost per candidate (requires ``cost_per_error`` and ``queries_per_month``).

    errors_per_month = queries x (1 - accuracy); error_cost = errors x cost_per_error, with
    the range from the accuracy interval; serving = queries / 1,000 x serving cost per 1k;
    total = error_cost + serving (None when the serving cost is unknown). ``cheapest`` marks
    the lowest total.
    """
    if not requirement.has_costs:
        return []
    q, per_error = requirement.queries_per_month, requirement.cost_per_error
    rows = []
    for c in candidates:
        acc, (lo, hi) = c["accuracy"], c["accuracy_ci"]
        per_1k, source = serving_cost_per_1k(c, requirement)
        errors = None if acc is None else q * (1 - acc)
        error_cost = None if errors is None else errors * per_error
        serving = None if per_1k is None else q / 1000 * per_1k
        rows.append({
            "name": c["name"],
            "accuracy": acc,
            "errors_per_month": errors,
            "error_cost": error_cost,
            "error_cost_range": [None if hi is None else q * (1 - hi) * per_error,
                                 None if lo is None else q * (1 - lo) * per_error],
            "serving_cost_per_1k": per_1k,
            "serving_source": source,
            "serving_cost": serving,
            "total": None if error_cost is None or serving is None else error_cost + serving,
            "clears": c["clears"],
            "cheapest": False,
        })
    known = [r for r in rows if r["total"] is not None]
    if known:
        min(known, key=lambda r: r["total"])["cheapest"] = True
    return rows


def data_quantity(curve: pd.DataFrame | None, *, bar: float, metric: str = "accuracy",
                  rising_per_doubling: float = 0.01) -> list[dict]:
    """Per backend of a learning curve: is it still rising at 100%, and at what share of the
    training data does it first reach ``bar``?

    Returns rows ``backend``, ``metric`` (the curve's: ``metric`` when the curve has it, else
    accuracy), ``value_full`` (at the largest fraction), ``gain_per_doubling`` (from the
    previous fraction to the largest, divided by the number of doublings between them),
    ``still_rising`` (gain per doubling >= ``rising_per_doubling``), ``first_fraction_at_bar``
    and ``first_n_train_at_bar`` (None when it never reaches it), ``n_parameters``.
    """
    if curve is None or curve.empty:
        return []
    column = metric if metric in curve else "accuracy"
    out = []
    for backend, group in curve.groupby("backend", sort=False):
        g = group.sort_values("fraction")
        full = g.iloc[-1]
        gain = None
        if len(g) > 1:
            prev = g.iloc[-2]
            gain = float(full[column] - prev[column]) / math.log2(float(full["n_train"]) / float(prev["n_train"]))
        reached = g[g[column] >= bar]
        out.append({
            "backend": backend,
            "metric": column,
            "value_full": float(full[column]),
            "fraction_full": float(full["fraction"]),
            "gain_per_doubling": gain,
            "still_rising": gain is not None and gain >= rising_per_doubling,
            "first_fraction_at_bar": None if reached.empty else float(reached.iloc[0]["fraction"]),
            "first_n_train_at_bar": None if reached.empty else int(reached.iloc[0]["n_train"]),
            "n_parameters": as_number(full.get("n_parameters")),
        })
    return sorted(out, key=lambda r: (r["n_parameters"] is None, r["n_parameters"] or 0.0))


def flowchart_verdict(candidates: Sequence[dict], pick: dict, *, bar: float,
                      pairs: pd.DataFrame | None = None, curves: Sequence[dict] = ()) -> dict:
    """The flowchart's branch with the numbers behind it.

    Returns ``{"branch": "ship" | "within noise" | "labels" | "capacity" | "data quantity" |
    "unknown", "evidence": {branch: {...numbers...}}, "gap": bar - best value}``. When no model
    clears, each branch gets an estimated gain (labels: sum of the ``accuracy_gain`` of the
    pairs every model confuses; capacity: the largest model's value minus the next smaller
    one's, counted only when some pair is diagnosed ``capacity``; data quantity: the best
    still-rising curve's gain per doubling) and the branch with the largest gain is named.
    """
    if pick["choice"] is not None:
        return {"branch": "ship", "evidence": {}, "gap": 0.0}
    if pick["refused"] is not None:
        return {"branch": "within noise", "evidence": {}, "gap": 0.0}
    scored = [c for c in candidates if c["value"] is not None]
    best = max((c["value"] for c in scored), default=None)
    gap = None if best is None else bar - best
    evidence: dict[str, dict] = {}
    if pairs is not None and not pairs.empty and "diagnosis" in pairs:
        data_pairs = pairs[pairs["diagnosis"] == "data"]
        if len(data_pairs):
            gain = float(data_pairs["accuracy_gain"].sum()) if "accuracy_gain" in data_pairs else None
            evidence["labels"] = {
                "n_pairs": int(len(data_pairs)),
                "pairs": [f"{a} / {b}" for a, b in zip(data_pairs["label_a"], data_pairs["label_b"])][:5],
                "gain": gain,
                "recommendations": data_pairs["recommendation"].value_counts().to_dict()
                if "recommendation" in data_pairs else {},
            }
        capacity_pairs = pairs[pairs["diagnosis"] == "capacity"]
        sized = [c for c in scored if c["n_parameters"] is not None]
        if len(capacity_pairs) and len(sized) >= 2:
            largest, smaller = sized[-1], sized[-2]
            evidence["capacity"] = {
                "n_pairs": int(len(capacity_pairs)),
                "pairs": [f"{a} / {b}" for a, b in zip(capacity_pairs["label_a"], capacity_pairs["label_b"])][:5],
                "largest": largest["name"], "largest_value": largest["value"],
                "next": smaller["name"], "next_value": smaller["value"],
                "gain": largest["value"] - smaller["value"],
            }
    rising = [c for c in curves if c["still_rising"]]
    if rising:
        top = max(rising, key=lambda c: c["value_full"])
        evidence["data quantity"] = {
            "backends": [c["backend"] for c in rising],
            "best": top["backend"], "value_full": top["value_full"],
            "gain": top["gain_per_doubling"], "per": "doubling of the training data",
        }
    gains = {k: v["gain"] for k, v in evidence.items() if v.get("gain") is not None and v["gain"] > 0}
    branch = max(gains, key=gains.get) if gains else "unknown"
    return {"branch": branch, "evidence": evidence, "gap": gap}


@dataclass
class Decision:
    """Everything the report's decision section shows."""

    requirement: Requirement
    split: str
    candidates: list[dict]
    pick: dict
    costs: list[dict] = field(default_factory=list)
    curves: list[dict] = field(default_factory=list)
    verdict: dict = field(default_factory=dict)


def decide(backends: Sequence[dict], requirement: Requirement, *, pairs: pd.DataFrame | None = None,
           curve: pd.DataFrame | None = None, rising_per_doubling: float = 0.01) -> Decision:
    """The whole decision from a summary's ``backends`` entries, ``pairs.csv`` and a learning curve."""
    candidates = model_candidates(backends, requirement)
    pick = pick_smallest(candidates, bar=requirement.bar)
    curves = data_quantity(curve, bar=requirement.bar, metric=requirement.metric,
                           rising_per_doubling=rising_per_doubling)
    verdict = flowchart_verdict(candidates, pick, bar=requirement.bar, pairs=pairs, curves=curves)
    return Decision(requirement, resolve_split(backends, requirement), candidates, pick,
                    cost_table(candidates, requirement), curves, verdict)
