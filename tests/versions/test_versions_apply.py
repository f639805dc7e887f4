import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from labelcore.data import load_data
from labelcore.errors import ConfigError, DataError
from audit.versions import apply_decisions, read_decisions
from audit.versions.diff import class_mapping, diff_versions
from audit.versions.write import write_version

PAIR = "pair:card_arrival|card_delivery_estimate"


def _apply_and_write(bundle, path, out):
    applied = apply_decisions(bundle, read_decisions(path), decisions_path=path)
    write_version(applied, out, parent=bundle, decisions_source=path)
    return applied


def test_relabel_drop_merge_round_trip(demo, planted, make_row, write_decisions, tmp_path):
    tr = demo.train
    relabel, dropped = planted[:6], planted[6]
    rows = [make_row(tr.example_ids[i], "relabel", tr.extra["true_label"][i], row=int(tr.rows[i])) for i in relabel]
    rows.append(make_row(tr.example_ids[dropped], "drop", annotator="bob", note="not banking | at all"))
    rows.append(make_row(tr.example_ids[0], "keep"))
    rows.append(make_row(PAIR, "merge", "card_delivery_estimate", annotator="carol"))
    path = write_decisions(rows)
    out = tmp_path / "v1"
    applied = _apply_and_write(demo, path, out)

    v1 = load_data(out)
    meta = json.loads((out / "version.json").read_text())
    assert v1.fingerprint == meta["fingerprint"] == applied.bundle.fingerprint
    assert meta["parent"] == {**meta["parent"], "spec": "demo", "fingerprint": demo.fingerprint}
    assert "card_arrival" not in v1.classes and "card_delivery_estimate" in v1.classes
    assert list(v1.classes) == [c for c in demo.classes if c != "card_arrival"] == meta["classes"]
    assert len(v1.train) == len(tr) - 1 and len(v1.test) == len(demo.test)

    # ids and source rows are preserved, not re-derived
    assert tr.example_ids[dropped] not in v1.train.example_ids
    new_label = dict(zip(v1.train.example_ids, v1.train.label_names))
    new_row = dict(zip(v1.train.example_ids, v1.train.rows))
    for i in relabel:
        want = tr.extra["true_label"][i]
        assert new_label[tr.example_ids[i]] == ("card_delivery_estimate" if want == "card_arrival" else want)
        assert new_row[tr.example_ids[i]] == tr.rows[i]
    # the merge reaches the test split too
    was_arrival = demo.test.label_names == "card_arrival"
    assert was_arrival.any()
    assert set(v1.test.label_names[was_arrival]) == {"card_delivery_estimate"}
    assert "true_label" in v1.train.extra.columns

    log = pd.read_csv(out / "changelog.csv", keep_default_na=False)
    assert set(log["change"]) == {"relabel", "drop", "merge"}
    merged = log[log["change"] == "merge"]
    assert (merged["annotator"] == "carol").all() and set(merged["split"]) == {"train", "test"}
    assert len(merged) == int((tr.label_names == "card_arrival").sum() + was_arrival.sum()) - int(
        sum(tr.label_names[i] == "card_arrival" for i in [*relabel, dropped]))
    assert log.loc[log["change"] == "drop", "note"].item() == "not banking | at all"
    assert meta["counts"]["kept"] == 1 and meta["counts"]["drop"] == 1
    md = (out / "changelog.md").read_text()
    assert "not banking \\| at all" in md and "card_arrival → card_delivery_estimate" in md


def test_source_is_never_modified(make_row, write_decisions, tmp_path):
    src = tmp_path / "data.jsonl"  # JSON keeps the string "null" a string; our CSVs must too
    pd.DataFrame({"text": ["a b", "c d", "e f", "null"], "label": ["x", "y", "x", "y"]}).to_json(
        src, orient="records", lines=True)
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    bundle = load_data(src)
    path = write_decisions([make_row(bundle.train.example_ids[1], "relabel", "x"),
                            make_row(bundle.train.example_ids[0], "drop")])
    _apply_and_write(bundle, path, tmp_path / "v1")
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    v1 = load_data(tmp_path / "v1")
    assert v1.train.texts == ["c d", "e f", "null"]  # a text "null" survives the round trip
    assert list(v1.train.rows) == [1, 2, 3] and list(v1.train.label_names) == ["x", "x", "y"]


def test_version_of_a_version_chains_fingerprints(demo, make_row, write_decisions, tmp_path):
    tr = demo.train
    _apply_and_write(demo, write_decisions([make_row(tr.example_ids[3], "drop")]), tmp_path / "v1")
    v1 = load_data(tmp_path / "v1")
    p2 = write_decisions([make_row(tr.example_ids[4], "drop")], name="d2.csv")
    _apply_and_write(v1, p2, tmp_path / "v2")
    meta = json.loads((tmp_path / "v2" / "version.json").read_text())
    assert meta["parent"]["fingerprint"] == v1.fingerprint and meta["parent"]["spec"] == str(tmp_path / "v1")
    assert len(load_data(tmp_path / "v2").train) == len(tr) - 2


@pytest.mark.parametrize(
    "bad, column",
    [
        (("no-such-id", "relabel", "card_arrival"), "example_id"),
        (("ID0", "relabel", "card_arival"), "new_label"),
        (("ID0", "rename", "card_arrival"), "decision"),
        (("ID0", "relabel", ""), "new_label"),
        (("pair:card_arrival|nope", "merge", "card_arrival"), "example_id"),
        ((PAIR, "merge", "change_pin"), "new_label"),
        (("pair:card_arrival", "keep_apart", ""), "example_id"),
    ],
)
def test_bad_decision_names_file_row_column_and_writes_nothing(demo, make_row, write_decisions, tmp_path, bad, column):
    eid, decision, label = bad
    eid = demo.train.example_ids[0] if eid == "ID0" else eid
    rows = [make_row(demo.train.example_ids[1], "drop"), make_row(eid, decision, label)]
    path = write_decisions(rows)
    with pytest.raises(DataError) as err:
        _apply_and_write(demo, path, tmp_path / "v1")
    assert (err.value.path, err.value.row, err.value.column) == (str(path), 1, column)
    assert not (tmp_path / "v1").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decisions.csv"]  # no temp dir left behind


def test_the_last_row_of_an_example_is_its_current_decision(demo, make_row, write_decisions):
    """import-labelstudio appends a changed decision as a new row; apply follows the last one."""
    eid, other = demo.train.example_ids[0], demo.train.example_ids[1]
    new_label = next(c for c in demo.classes if c != demo.train.label_names[0])
    changed = write_decisions([make_row(eid, "drop"), make_row(other, "keep"),
                               make_row(eid, "relabel", new_label),
                               make_row(PAIR, "merge", "card_arrival"), make_row(PAIR, "keep_apart")])
    applied = apply_decisions(demo, read_decisions(changed), decisions_path=changed)
    assert eid in applied.bundle.train.example_ids  # the drop was superseded
    row = list(applied.bundle.train.example_ids).index(eid)
    assert applied.bundle.train.label_names[row] == new_label
    assert applied.changes.set_index("example_id").loc[eid, "decisions_row"] == 2
    assert applied.merges == {} and "card_delivery_estimate" in applied.bundle.classes
    assert len(applied.decisions) == 5  # the whole log is kept as the version's record


def test_cyclic_decisions_are_errors(demo, make_row, write_decisions):
    cycle = write_decisions([make_row(PAIR, "merge", "card_arrival"),
                             make_row("pair:card_delivery_estimate|card_arrival", "merge", "card_delivery_estimate")],
                            name="c.csv")
    with pytest.raises(DataError, match="cycle"):
        apply_decisions(demo, read_decisions(cycle), decisions_path=cycle)
    arrival = demo.train.example_ids[list(demo.train.label_names).index("card_arrival")]
    twice = write_decisions([make_row(PAIR, "merge", "card_delivery_estimate"),
                             make_row(arrival, "merge", "change_pin")], name="t.csv")
    with pytest.raises(DataError, match="already merged") as err:
        apply_decisions(demo, read_decisions(twice), decisions_path=twice)
    assert (err.value.row, err.value.column) == (1, "new_label")


def test_chained_merges_resolve_to_final_target(demo, make_row, write_decisions):
    path = write_decisions([
        make_row(PAIR, "merge", "card_delivery_estimate"),
        make_row("pair:card_delivery_estimate|lost_or_stolen_card", "merge", "lost_or_stolen_card"),
    ])
    applied = apply_decisions(demo, read_decisions(path), decisions_path=path)
    assert applied.merges == {"card_arrival": "lost_or_stolen_card", "card_delivery_estimate": "lost_or_stolen_card"}
    assert len(applied.bundle.classes) == len(demo.classes) - 2


def test_missing_column_and_existing_out_dir(demo, make_row, write_decisions, tmp_path):
    path = write_decisions([{"example_id": demo.train.example_ids[0], "new_label": "x"}])
    with pytest.raises(DataError) as err:
        read_decisions(path)
    assert err.value.column == "decision"
    ok = write_decisions([make_row(demo.train.example_ids[0], "drop")], name="ok.csv")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("keep me")
    with pytest.raises(ConfigError):
        _apply_and_write(demo, ok, tmp_path / "taken")
    assert (tmp_path / "taken" / "x").read_text() == "keep me"


def test_diff_lists_what_apply_changed(demo, planted, make_row, write_decisions, tmp_path):
    tr = demo.train
    rows = [make_row(tr.example_ids[i], "relabel", tr.extra["true_label"][i]) for i in planted[:4]]
    rows += [make_row(tr.example_ids[planted[4]], "drop"), make_row(PAIR, "merge", "card_arrival")]
    applied = _apply_and_write(demo, write_decisions(rows), tmp_path / "v1")
    v1 = load_data(tmp_path / "v1")
    diff = diff_versions(demo, v1)
    assert diff.merges == {"card_delivery_estimate": "card_arrival"}
    key = ["split", "example_id", "change", "old_label", "new_label"]
    got = diff.changes[key].sort_values(key).reset_index(drop=True)
    want = applied.changes[key].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)
    assert diff_versions(v1, v1).changes.empty
    mapping = class_mapping(demo, v1)
    assert mapping["card_delivery_estimate"] == "card_arrival" and mapping["change_pin"] == "change_pin"
    assert np.all([mapping[c] in v1.classes for c in demo.classes])
