"""The closed sets of option values, declared once: the library checks against them and the
CLI offers them as ``click.Choice`` (this module imports nothing heavy, so ``--help`` stays
instant)."""

from __future__ import annotations

from audit.settings import FILTERS, WEIGHTS  # noqa: F401 - declared there, with AuditSettings
#: Planted-noise kinds of ``audit benchmark --noise``.
NOISE_KINDS = ("uniform", "near", "pairs")
#: ``audit report --bar-on``: which accuracy the decision rule reads (summary.json key).
BAR_METRICS = {"oof": "oof_accuracy", "test": "test_accuracy"}
BAR_ON = tuple(BAR_METRICS)
