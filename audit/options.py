"""The closed sets of option values, declared once: the library checks against them and the
CLI offers them as ``click.Choice`` (this module imports nothing heavy, so ``--help`` stays
instant)."""

from __future__ import annotations

#: ``filter_by``: "rank" = count by confident learning, order by our score; the rest are
#: cleanlab's filters.
FILTERS = ("rank", "prune_by_noise_rate", "prune_by_class", "both", "confident_learning",
           "low_normalized_margin", "low_self_confidence", "predicted_neq_given")
#: Ensemble weightings (``weights=``) by name; an explicit (M,) array is accepted too.
WEIGHTS = ("equal", "log_loss")
#: Planted-noise kinds of ``audit benchmark --noise``.
NOISE_KINDS = ("uniform", "near", "pairs")
#: ``audit report --bar-on``: which accuracy the decision rule reads (summary.json key).
BAR_METRICS = {"oof": "oof_accuracy", "test": "test_accuracy"}
BAR_ON = tuple(BAR_METRICS)
