"""Dataset versions: apply a decision log (relabel / drop / merge) to a dataset and save the
result as a new version folder that ``load_data`` reads back; diff two versions."""

from audit.versions.apply import AppliedDecisions, apply_decisions
from audit.formats.decision_log import check_decisions, read_decisions

__all__ = ["AppliedDecisions", "apply_decisions", "check_decisions", "read_decisions"]
