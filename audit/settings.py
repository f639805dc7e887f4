"""The options of an audit, in one object checked before any model trains."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from labelcore.errors import ConfigError
from labelcore.options import check_choice, check_folds, check_int_at_least, check_seed

#: "rank" = count by confident learning, order by our score; the rest are cleanlab's filters.
FILTERS = ("rank", "prune_by_noise_rate", "prune_by_class", "both", "confident_learning",
           "low_normalized_margin", "low_self_confidence", "predicted_neq_given")
WEIGHTS = ("equal", "log_loss")


@dataclass(frozen=True)
class AuditSettings:
    """How ``find_issues`` trains and flags. Every field is checked on construction, so a bad
    option fails in a second, before the first fold trains (not after the last).

    n_folds : cross-validation folds (>= 2). seed : folds and models (>= 0).
    filter_by : one of :data:`FILTERS`. weights : one of :data:`WEIGHTS`.
    noise_aware : score with the noise-aware posterior (docs/method.md).
    rounds : 1, or 2 = retrain without the first round's flags, then score again.
    n_jobs : folds trained in parallel (>= 1). cache_dir : per-fold cache (None: no cache).
    detectors : names to run (None: all that apply). detector_options : ``{name: {option: value}}``.
    """

    n_folds: int = 5
    seed: int = 0
    filter_by: str = "rank"
    weights: str = "equal"
    noise_aware: bool = True
    rounds: int = 2
    n_jobs: int = 1
    cache_dir: str | None = None
    detectors: tuple[str, ...] | None = None
    detector_options: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_folds(self.n_folds, option="n_folds")
        check_seed(self.seed, option="seed")
        check_int_at_least(self.n_jobs, 1, option="n_jobs")
        if self.rounds not in (1, 2) or isinstance(self.rounds, bool):
            raise ConfigError(f"rounds must be 1 or 2, got {self.rounds!r}")
        check_choice(self.filter_by, FILTERS, option="filter_by")
        check_choice(self.weights, WEIGHTS, option="weights")
        if not isinstance(self.noise_aware, bool):
            raise ConfigError(f"noise_aware must be true or false, got {self.noise_aware!r}")
        if self.detectors is not None:
            from audit.detectors import available_detectors

            known = available_detectors()
            names = (self.detectors,) if isinstance(self.detectors, str) else tuple(self.detectors)
            for name in names:
                check_choice(name, tuple(known), option="detector")
            object.__setattr__(self, "detectors", names or None)
        if not isinstance(self.detector_options, dict):
            raise ConfigError("detector_options must be a dict {detector: {option: value}}")
        if self.detector_options.get("label_issues"):
            raise ConfigError("the label_issues detector reports this run's own flags: set filter_by and "
                              "noise_aware in the settings, not in detector_options")
        if self.cache_dir is not None:
            object.__setattr__(self, "cache_dir", str(self.cache_dir))

    def replace(self, **changes: Any) -> "AuditSettings":
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_options(cls, **options: Any) -> "AuditSettings":
        """Settings from keyword options; an unknown option is a :class:`ConfigError`."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(f"unknown option(s) {unknown}; the options are {sorted(known)}")
        return cls(**options)
