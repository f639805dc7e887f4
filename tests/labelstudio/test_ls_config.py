import pytest

pytest.importorskip("label_studio_sdk", reason="label-studio-sdk is not installed (extra 'labelstudio')")

from labelcore.errors import ConfigError, DataError
from audit.labelstudio.config import (
    DECISION, ISSUE_DECISIONS, LABEL, MERGE_INTO, PAIR_DECISION, PAIR_DECISIONS,
    build_issue_config, build_pair_config, check_prediction, choice_result, load_interface,
)

from ls_fixtures import CLASSES


def test_issue_config_offers_every_class_and_the_four_decisions():
    interface = load_interface(build_issue_config(CLASSES))
    assert interface.get_control(DECISION).labels == list(ISSUE_DECISIONS)
    assert interface.get_control(LABEL).labels == CLASSES  # odd characters survive the XML
    assert interface.get_control(MERGE_INTO).labels == CLASSES
    assert interface.validate_task({"data": {"text": "x", "evidence": "y"}})


def test_pair_config_offers_the_three_pair_decisions():
    interface = load_interface(build_pair_config(CLASSES))
    assert interface.get_control(PAIR_DECISION).labels == list(PAIR_DECISIONS)
    assert interface.get_control(MERGE_INTO).labels == CLASSES


def test_prediction_with_a_known_label_passes_and_an_unknown_one_names_the_row():
    interface = load_interface(build_issue_config(CLASSES))
    check_prediction(interface, {"model_version": "m", "score": 0.5,
                                 "result": [choice_result(LABEL, "text", "reverted_card_payment?")]})
    with pytest.raises(DataError, match=r"issues.csv, row 7: .*not_a_class"):
        check_prediction(interface, {"model_version": "m", "result": [choice_result(LABEL, "text", "not_a_class")]},
                         path="issues.csv", row=7)


@pytest.mark.parametrize("classes", [["only_one"], ["a", "b", "a"]])
def test_bad_class_lists_are_config_errors(classes):
    with pytest.raises(ConfigError):
        build_issue_config(classes)


def test_a_config_label_studio_would_reject_is_a_config_error():
    with pytest.raises(ConfigError, match="toName"):
        load_interface('<View><Choices name="c" toName="missing"><Choice value="a"/></Choices></View>')
