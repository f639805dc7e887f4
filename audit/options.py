"""The closed sets of option values, declared once: the library checks against them and the
CLI offers them as ``click.Choice`` (this module imports nothing heavy, so ``--help`` stays
instant)."""

from __future__ import annotations

from audit.settings import FILTERS, WEIGHTS  # noqa: F401 - declared there, with AuditSettings
#: Planted-noise kinds of ``audit benchmark --noise``.
NOISE_KINDS = ("uniform", "near", "pairs")
#: ``audit report --bar-on``: which score the requirement is checked on (auto: test when recorded).
BAR_ON = ("auto", "test", "oof")
#: ``audit report --metric``: what the bar applies to (worst_class_recall: a floor for every class).
BAR_METRICS = ("accuracy", "macro_f1", "worst_class_recall")
