"""One output shape and one registry for every detector (the idea of cleanlab Datalab's issue
managers, as plain functions).

A detector is ``fn(context, **options) -> DetectorResult``: it reads what it needs from a
:class:`DetectorContext` and takes its own options keyword-only. Registration names the
inputs it needs, so :func:`run_detectors` can compute embeddings once, and only when a
requested detector needs them, and can refuse a detector whose inputs are missing.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from labelcore.data.schema import TextDataset
from labelcore.errors import ConfigError
from audit.detectors.neighbors import Neighbors, find_nearest_neighbors

NEEDS = ("pred_probs", "embeddings", "test")


@dataclass
class DetectorResult:
    """What every detector returns.

    is_issue : (N,) bool, the rows this detector flags.
    score : (N,) float in [0, 1], lower = worse.
    reason : (N,) str, one human explanation per flagged row, ``""`` elsewhere.
    summary_score : float in [0, 1], the split as a whole (lower = worse).
    info : dict, JSON-serialisable details (counts, thresholds, tables).
    """

    is_issue: np.ndarray
    score: np.ndarray
    reason: np.ndarray
    summary_score: float
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.is_issue = np.asarray(self.is_issue, dtype=bool)
        self.score = np.clip(np.asarray(self.score, dtype=float), 0.0, 1.0)
        self.reason = np.asarray(self.reason, dtype=object)
        n = len(self.is_issue)
        if self.is_issue.ndim != 1 or self.score.shape != (n,) or self.reason.shape != (n,):
            raise ValueError(
                f"detector output shapes differ: is_issue {self.is_issue.shape}, "
                f"score {self.score.shape}, reason {self.reason.shape}"
            )
        self.summary_score = float(self.summary_score)

    @property
    def n_issues(self) -> int:
        return int(self.is_issue.sum())


@dataclass(frozen=True)
class DetectorContext:
    """Inputs shared by the detectors of one run (row order = ``dataset``'s).

    dataset : the audited split. labels : (N,) int codes (default: ``dataset.labels``).
    pred_probs_list : M arrays (N, K) of out-of-fold probabilities. model_names : (M,).
    ensemble_pred_probs : (N, K). ensemble_weights : (M,) or None.
    test : a held-out split sharing the class order, or None.
    embeddings : (N, D) or None; ``embed(texts) -> (N, D)`` fills it on demand.
    label_issue_table : the table :func:`audit.aggregation.find_label_issues_ensemble` already
        returned for these inputs, or None; the ``label_issues`` detector reports it instead of
        computing it again.

    :meth:`nearest_neighbors` computes the embeddings' neighbour graph once for every detector.
    """

    dataset: TextDataset
    labels: np.ndarray | None = None
    pred_probs_list: Sequence[np.ndarray] = ()
    model_names: Sequence[str] = ()
    ensemble_pred_probs: np.ndarray | None = None
    ensemble_weights: np.ndarray | None = None
    test: TextDataset | None = None
    embeddings: np.ndarray | None = None
    embed: Callable[[Sequence[str]], np.ndarray] | None = field(default=None, compare=False, repr=False)
    label_issue_table: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    _neighbors: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def nearest_neighbors(self, k: int) -> Neighbors:
        """Each row's ``k`` nearest other rows by cosine similarity of :attr:`embeddings`
        (:func:`audit.detectors.neighbors.find_nearest_neighbors`), ``k`` at most N - 1: computed
        once, for the largest ``k`` asked, and shared by the detectors that read it."""
        k = min(k, len(self.dataset) - 1)
        known = self._neighbors.get("graph")
        if known is None or known.k < k:
            known = self._neighbors["graph"] = find_nearest_neighbors(self.embeddings, k=k)
        return known.first(k)

    def __post_init__(self) -> None:
        if self.labels is None:
            object.__setattr__(self, "labels", np.asarray(self.dataset.labels))
        if self.ensemble_pred_probs is None and len(self.pred_probs_list):
            object.__setattr__(self, "ensemble_pred_probs", np.mean(np.stack(self.pred_probs_list), 0))

    def missing(self, needs: Sequence[str]) -> list[str]:
        """The inputs in ``needs`` this context cannot provide."""
        have = {
            "pred_probs": len(self.pred_probs_list) > 0,
            "embeddings": self.embeddings is not None or self.embed is not None,
            "test": self.test is not None,
        }
        return [n for n in needs if not have[n]]


@dataclass(frozen=True)
class _Entry:
    fn: Callable[..., DetectorResult]
    needs: tuple[str, ...]
    summary: str
    wants: tuple[str, ...] = ()


_REGISTRY: dict[str, _Entry] = {}


def register_detector(name: str, fn: Callable[..., DetectorResult], *, needs: Sequence[str] = (),
                      wants: Sequence[str] = (), summary: str = "") -> None:
    """Register ``fn(context, **options)`` under ``name``; ``needs`` (inputs it cannot run
    without) and ``wants`` (inputs it uses when the run has them) are subsets of NEEDS."""
    unknown = sorted((set(needs) | set(wants)) - set(NEEDS))
    if unknown:
        raise ConfigError(f"detector {name!r}: unknown needs {unknown}; known: {list(NEEDS)}")
    _REGISTRY[name] = _Entry(fn, tuple(needs), summary or (fn.__doc__ or "").strip().split("\n")[0], tuple(wants))


def available_detectors() -> dict[str, str]:
    """Registered detector name -> one-line summary."""
    return {n: e.summary for n, e in _REGISTRY.items()}


def detector_needs(name: str) -> tuple[str, ...]:
    return _entry(name).needs


def applicable_detectors(context: DetectorContext, names: Sequence[str] | None = None) -> list[str]:
    """The detectors (default: all registered) whose inputs ``context`` can provide."""
    return [n for n in (names or list(_REGISTRY)) if not context.missing(_entry(n).needs)]


def _entry(name: str) -> _Entry:
    if name not in _REGISTRY:
        raise ConfigError(f"unknown detector {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def run_detectors(
    names: Sequence[str],
    context: DetectorContext,
    *,
    options: Mapping[str, Mapping] | None = None,
) -> dict[str, DetectorResult]:
    """Run the named detectors on ``context``; ``options`` maps a name to its keyword options.

    Embeddings are computed once (``context.embed``) when any requested detector needs or
    wants them and the context can embed.
    Raises :class:`ConfigError` for an unknown name or option, or missing inputs.
    """
    options = dict(options or {})
    entries = {n: _entry(n) for n in names}
    if extra := sorted(set(options) - set(entries)):
        raise ConfigError(f"options given for detector(s) {extra}, which are not run")
    for n, e in entries.items():
        if missing := context.missing(e.needs):
            raise ConfigError(f"detector {n!r} needs {', '.join(missing)}, which this run does not have")
        params = inspect.signature(e.fn).parameters
        bad = sorted(set(options.get(n, {})) - {k for k, p in params.items() if p.kind == p.KEYWORD_ONLY})
        if bad:
            raise ConfigError(f"detector {n!r} has no option(s) {bad}")
    if context.embeddings is None and context.embed is not None and any(
            "embeddings" in e.needs + e.wants for e in entries.values()):
        emb = np.asarray(context.embed(context.dataset.texts), dtype=np.float32)
        context = dataclasses.replace(context, embeddings=emb)
    results = {}
    for n, e in entries.items():
        result = e.fn(context, **options.get(n, {}))
        if len(result.is_issue) != len(context.dataset):
            raise ValueError(f"detector {n!r} returned {len(result.is_issue)} rows for {len(context.dataset)}")
        results[n] = result
    return results
