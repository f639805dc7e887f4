"""Detectors with one output shape (:class:`DetectorResult`) and one registry.

Every built-in detector registers here, and only here.
"""

from audit.detectors.base import (
    DetectorContext,
    DetectorResult,
    applicable_detectors,
    available_detectors,
    detector_needs,
    register_detector,
    run_detectors,
)
from audit.detectors.class_quality import detect_class_quality
from audit.detectors.duplicates import detect_duplicates
from audit.detectors.label_issues import detect_label_issues
from audit.detectors.leakage import detect_leakage
from audit.detectors.outliers import detect_outliers

register_detector("label_issues", detect_label_issues, needs=("pred_probs",))
register_detector("duplicates", detect_duplicates, wants=("embeddings",))  # exact ones without
register_detector("leakage", detect_leakage, needs=("test",))
register_detector("outliers", detect_outliers, needs=("embeddings",))
register_detector("class_quality", detect_class_quality, needs=("pred_probs",))

DEFAULT_DETECTORS = ("label_issues", "duplicates", "leakage", "outliers", "class_quality")

__all__ = [
    "DEFAULT_DETECTORS", "DetectorContext", "DetectorResult", "applicable_detectors",
    "available_detectors", "detector_needs", "register_detector", "run_detectors",
]
