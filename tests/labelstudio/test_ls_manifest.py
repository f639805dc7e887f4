import pytest

from labelcore.errors import DataError
from audit.labelstudio.manifest import Manifest, ProjectRecord, load_manifest, save_manifest


def test_a_manifest_round_trips_and_holds_no_key(tmp_path):
    path = tmp_path / "labelstudio.json"
    manifest = Manifest("http://127.0.0.1:8080", "label-audit-abc", ["a", "b"],
                        {"issues": ProjectRecord(3, "t", {"ex1": 10, "ex2": 11}),
                         "pairs": ProjectRecord(4, "t (pairs)", {"pair:a|b": 12})})
    save_manifest(manifest, path)
    assert load_manifest(path) == manifest
    assert "key" not in path.read_text().lower() and "token" not in path.read_text().lower()
    assert load_manifest(tmp_path / "absent.json") is None


def test_a_broken_manifest_is_a_data_error_naming_it(tmp_path):
    path = tmp_path / "labelstudio.json"
    path.write_text('{"url": "x"}')
    with pytest.raises(DataError, match="labelstudio.json"):
        load_manifest(path)
