"""Labeling configs (Label Studio XML) for the two kinds of review task, and local validation.

The server accepts unknown labels and wrong control names without complaint, so every config
and every prediction is checked here with ``LabelInterface`` before anything is sent.
"""

from __future__ import annotations

from typing import Sequence
from xml.sax.saxutils import quoteattr

from audit.formats.decision_log import EXAMPLE_DECISIONS as ISSUE_DECISIONS
from audit.formats.decision_log import PAIR_DECISIONS
from labelcore.errors import ConfigError, DataError, require

#: Control names shared by the configs, the task builders and the decision parser (the decision
#: words themselves are the decision log's, :mod:`audit.formats.decision_log`).
DECISION = "decision"      # issue tasks: relabel / keep / merge / drop
LABEL = "label"            # issue tasks: the label to use (preselected: the suggested label)
MERGE_INTO = "merge_into"  # both: the merge target, shown when decision = merge
PAIR_DECISION = "pair_decision"
NOTE = "note"


def _choices(name: str, to_name: str, values: Sequence[str], *, extra: str = "") -> str:
    options = "".join(f"\n    <Choice value={quoteattr(str(v))}/>" for v in values)
    return f'  <Choices name="{name}" toName="{to_name}"{extra}>{options}\n  </Choices>'


def _check_classes(classes: Sequence[str]) -> list[str]:
    classes = [str(c) for c in classes]
    if len(classes) < 2:
        raise ConfigError(f"A labeling config needs at least 2 classes, got {len(classes)}")
    if len(set(classes)) != len(classes):
        raise ConfigError("The class list has duplicates")
    return classes


def build_issue_config(classes: Sequence[str]) -> str:
    """The config for one flagged example: its text and evidence, a decision, the label to use,
    a merge target (visible when decision = merge) and a free-text note."""
    classes = _check_classes(classes)
    merge_when = f' choice="single" visibleWhen="choice-selected" whenTagName="{DECISION}" whenChoiceValue="merge"'
    return "\n".join([
        "<View>",
        '  <Header value="Is the given label right?"/>',
        '  <Text name="text" value="$text"/>',
        '  <Header value="Evidence" size="6"/>',
        '  <Text name="evidence" value="$evidence"/>',
        '  <Header value="Decision" size="6"/>',
        _choices(DECISION, "text", ISSUE_DECISIONS, extra=' choice="single-radio" required="true"'),
        '  <Header value="Label to use (relabel); preselected: the suggested label" size="6"/>',
        _choices(LABEL, "text", classes, extra=' choice="single" showInline="true"'),
        '  <Header value="Merge the given label into (merge)" size="6"/>',
        _choices(MERGE_INTO, "text", classes, extra=merge_when),
        f'  <TextArea name="{NOTE}" toName="text" rows="2" maxSubmissions="1" placeholder="Why (optional)"/>',
        "</View>",
    ])


def build_pair_config(classes: Sequence[str]) -> str:
    """The config for one confused pair: exemplars of both labels and the evidence; merge /
    keep apart (write the guideline in the note) / relabel members."""
    classes = _check_classes(classes)
    merge_when = f' choice="single" visibleWhen="choice-selected" whenTagName="{PAIR_DECISION}" whenChoiceValue="merge"'
    return "\n".join([
        "<View>",
        '  <Header value="$title"/>',
        '  <Text name="exemplars_a" value="$exemplars_a"/>',
        '  <Text name="exemplars_b" value="$exemplars_b"/>',
        '  <Header value="Evidence" size="6"/>',
        '  <Text name="evidence" value="$evidence"/>',
        _choices(PAIR_DECISION, "evidence", PAIR_DECISIONS, extra=' choice="single-radio" required="true"'),
        '  <Header value="Merge into (merge)" size="6"/>',
        _choices(MERGE_INTO, "evidence", classes, extra=merge_when),
        f'  <TextArea name="{NOTE}" toName="evidence" rows="3" maxSubmissions="1" '
        'placeholder="Guideline that tells the two apart (keep_apart), or which members to relabel"/>',
        "</View>",
    ])


def load_interface(config: str):
    """Parse and check ``config``; raise :class:`ConfigError` when Label Studio would reject it."""
    require("label_studio_sdk", extra="labelstudio", purpose="Validating Label Studio configs")
    from label_studio_sdk.label_interface import LabelInterface

    try:
        interface = LabelInterface(config)
        interface.validate()
    except Exception as exc:  # the SDK raises a mix of lxml, ValueError and its own types
        raise ConfigError(f"Invalid Label Studio labeling config: {exc}") from None
    return interface


def check_prediction(interface, prediction: dict, *, path=None, row: int | None = None) -> None:
    """Raise :class:`DataError` naming ``path``/``row`` if ``prediction`` does not fit the config."""
    errors = interface.validate_prediction(prediction, return_errors=True)
    if errors:
        raise DataError(f"pre-annotation does not fit the labeling config: {'; '.join(map(str, errors))}",
                        path=path, row=row)


def choice_result(from_name: str, to_name: str, value: str) -> dict:
    """One choices result item (an annotation's or a prediction's)."""
    return {"from_name": from_name, "to_name": to_name, "type": "choices", "value": {"choices": [value]}}


def text_result(from_name: str, to_name: str, text: str) -> dict:
    return {"from_name": from_name, "to_name": to_name, "type": "textarea", "value": {"text": [text]}}
