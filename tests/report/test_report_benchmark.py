"""`audit report --benchmark`: detection on planted noise, runs on the same noise side by side."""

import json

import pytest
from typer.testing import CliRunner

from audit.cli.app import app
from audit.formats.benchmark_result import FILE, read_benchmark
from labelcore.errors import DataError

runner = CliRunner()


@pytest.fixture(scope="module")
def benchmark_dirs(tmp_path_factory):
    """Two real `audit benchmark` runs on the demo, on the same planted noise: one model, then two."""
    root = tmp_path_factory.mktemp("bench")
    cache = root / "cache"
    runs = {"one": ["-b", "tfidf-lr:char_ngrams=0"],
            "two": ["-b", "tfidf-lr:char_ngrams=0", "-b", "tfidf-lr:char_ngrams=0,C=1"]}
    for name, backends in runs.items():
        got = runner.invoke(app, ["benchmark", "--data", "demo", "--noise", "uniform", "--rate", "0.1", "--seed", "3",
                                  "--folds", "3", "--jobs", "1", "--cache-dir", str(cache), *backends,
                                  "--out", str(root / name)])
        assert got.exit_code == 0, got.output
    return root / "one", root / "two"


def test_the_section_sets_runs_side_by_side(benchmark_dirs, issues_dir, tmp_path):
    one, two = (read_benchmark(d) for d in benchmark_dirs)
    assert one["models"] == ["tfidf-lr"] and len(two["models"]) == 2
    out = tmp_path / "report.md"
    got = runner.invoke(app, ["report", "--issues", str(issues_dir), "--benchmark", str(benchmark_dirs[0]),
                              "--benchmark", str(benchmark_dirs[1]), "--out", str(out)])
    assert got.exit_code == 0, got.output
    section = out.read_text().split("## Detection on planted noise", 1)[1]
    assert f"{one['n_flipped']:,} planted *uniform* flips (10%, seed 3)" in section
    assert section.count("planted *uniform* flips") == 1  # one setting, one table
    ours = [line for line in section.splitlines() if "the toolkit's flags" in line]
    assert len(ours) == 2 and ours[0].startswith("| tfidf-lr |") and " + " in ours[1]
    for line, result in zip(ours, (one, two)):
        assert line.rstrip(" |").endswith(f"{result['methods']['ours']['auprc']:.3f}")
    # the first model alone is the same in both runs (same noise, same folds): listed once
    alone = [line for line in section.splitlines() if "own out-of-fold loss alone" in line]
    assert [line.split(" | ")[0] for line in alone] == ["| tfidf-lr", f"| {two['models'][1]}"]


@pytest.mark.parametrize("damage, message", [
    (lambda d: d.pop("methods"), "missing key 'methods'"),
    (lambda d: d["methods"]["ours"].pop("auprc"), "lacks the number(s) auprc"),
    (lambda d: d.update(format="something/else"), "not a label-audit/benchmark file"),
    (lambda d: d.update(n_flipped="many"), "'n_flipped' must be a number"),
    (lambda d: d.update(data=["banking77"]), "'data' must be a string"),
    (lambda d: d.update(models="tfidf-lr"), "'models' must be a list of model names"),
    (lambda d: d.update(planted_pairs=[1, 2]), "'planted_pairs' must be an object"),
])
def test_a_damaged_benchmark_file_is_a_clear_error_and_writes_nothing(benchmark_dirs, issues_dir, tmp_path,
                                                                      damage, message):
    bad = tmp_path / "bad"
    bad.mkdir()
    document = json.loads((benchmark_dirs[0] / FILE).read_text())
    damage(document)
    (bad / FILE).write_text(json.dumps(document))
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_benchmark(bad)
    out = tmp_path / "report.md"
    got = runner.invoke(app, ["report", "--issues", str(issues_dir), "--benchmark", str(bad), "--out", str(out)])
    assert got.exit_code != 0 and FILE in got.output and message.split("(")[0] in got.output
    assert not out.exists()
    got = runner.invoke(app, ["report", "--issues", str(issues_dir), "--benchmark", str(tmp_path / "none"),
                              "--out", str(out)])
    assert got.exit_code != 0 and "run audit benchmark" in got.output and not out.exists()
