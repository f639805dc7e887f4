import html
import json
import re

import numpy as np
import pytest
from markdown_it import MarkdownIt
from PIL import Image
from typer.testing import CliRunner

from audit.cli.app import app
from labelcore.data import load_data
from labelcore.errors import DataError
from audit.report.build import report_html, write_report
from audit.formats.summary import BackendSummary, RunSummary, read_summary
from audit.report.models import model_rows, smallest_clearing
from audit.retrain import retrain_compare, write_retrain
from audit.versions import apply_decisions
from audit.versions.write import write_version

from issues_fixture import build_issues_dir

md = MarkdownIt("commonmark", {"html": True}).enable("table")


def _tables(rendered: str) -> list[list[int]]:
    """Cells per row of every table in the rendered HTML."""
    return [[len(re.findall(r"<t[hd][^>]*>", row)) for row in re.findall(r"<tr>(.*?)</tr>", t, flags=re.S)]
            for t in re.findall(r"<table>(.*?)</table>", rendered, flags=re.S)]


@pytest.fixture(scope="module")
def retrain_dir(tmp_path_factory):
    """A real (fast) retrain: the demo against a version with a few planted flips fixed and a merge."""
    demo = load_data("demo")
    tr = demo.train
    wrong = np.flatnonzero(tr.label_names != tr.extra["true_label"].to_numpy())[:15]
    log = [{"example_id": tr.example_ids[i], "decision": "relabel", "new_label": tr.extra["true_label"][i]} for i in wrong]
    log.append({"example_id": "pair:card_arrival|card_delivery_estimate", "decision": "merge", "new_label": "card_arrival"})
    import pandas as pd

    root = tmp_path_factory.mktemp("retrain")
    write_version(apply_decisions(demo, pd.DataFrame(log)), root / "v1", parent=demo)
    result = retrain_compare(demo, load_data(root / "v1"), backends=["tfidf-lr:char_ngrams=0"], n_resamples=200)
    write_retrain(result, root / "out")
    return root / "out"


def test_full_report(issues_dir, retrain_dir, tmp_path):
    out = write_report(issues_dir, tmp_path / "report.md", retrain_dir=retrain_dir, accuracy_bar=0.9)
    text = out.read_text()
    for heading in ("Overall health", "Top issues", "Confused pairs", "Most confused classes",
                    "Per-class label quality", "Models across scales", "Before and after the fix"):
        assert f"## {heading}" in text

    # every figure linked is written beside the report, a real PNG of a legible size
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == 4
    for name in links:
        with Image.open(tmp_path / name) as im:
            assert im.format == "PNG" and im.size[0] >= 600 and im.size[1] >= 250

    rendered = md.render(text)
    tables = _tables(rendered)
    assert len(tables) >= 6 and all(len(set(rows)) == 1 for rows in tables)  # no broken table
    assert "<script>" not in rendered and html.escape("<script>alert(1)</script>") in rendered
    assert "| a | b |" not in text.replace("\\|", "")  # the evil pipes are escaped
    issue_rows = [line for line in text.splitlines() if "56a2ce6ff0ce" in line or "# heading?" in line]
    assert issue_rows and all("\\#" in line for line in issue_rows)

    # diagnosis columns are rendered when present
    assert "| diagnosis | recommendation | evidence |" in text and "overlapping intents \\| ambiguous" in text

    # the cleanlab health score is cleanlab's, on the ensemble of the out-of-fold probabilities
    from cleanlab.dataset import overall_label_health_score

    with np.load(issues_dir / "oof.npz") as npz:
        ens = (npz["pred_probs__tfidf-lr"] + npz["pred_probs__minilm-lr"]) / 2
        score = overall_label_health_score(npz["labels"], ens, verbose=False)
    assert f"| cleanlab overall_label_health_score (ensemble OOF) | {score:.3f} |" in text
    summary = json.loads((issues_dir / "summary.json").read_text())
    assert f"| flagged as label issues | {summary['n_label_issues']} |" in text

    # the before/after section carries the retrain intervals
    result = json.loads((retrain_dir / "retrain.json").read_text())
    acc = result["results"][0]["metrics"]["accuracy"]
    assert f"[{acc['ci_low']:+.3f}, {acc['ci_high']:+.3f}]" in text
    assert "**Decision rule:**" in text and "**tfidf-lr**" in text


def test_decision_rule_picks_the_smallest_model_clearing_the_bar(issues_dir):
    rows = model_rows(read_summary(issues_dir))
    assert [r["name"] for r in rows] == ["tfidf-lr", "minilm-lr", "lora:gemma-3-270m"]
    assert smallest_clearing(rows, bar=0.90)["name"] == "tfidf-lr"
    assert smallest_clearing(rows, bar=0.98)["name"] == "lora:gemma-3-270m"
    assert smallest_clearing(rows, bar=0.999) is None
    assert smallest_clearing(rows, bar=0.96, metric="test_accuracy")["name"] == "lora:gemma-3-270m"
    # unknown sizes rank after known ones, then by training time
    odd = model_rows(RunSummary(classes=["a", "b"], backends=[
        BackendSummary(name="big?", oof_accuracy=0.95, seconds=1),
        BackendSummary(name="small", oof_accuracy=0.95, n_parameters=5000, seconds=9)]))
    assert smallest_clearing(odd, bar=0.9)["name"] == "small"


def test_report_tolerates_missing_files_and_fields(tmp_path):
    run = build_issues_dir(tmp_path / "run", with_diagnosis=False,
                           backends=[{"name": "tfidf-lr", "oof_accuracy": 0.8}, {"name": "minilm-lr"}])
    (run / "oof.npz").unlink()
    text = write_report(run, tmp_path / "r.md", accuracy_bar=0.9).read_text()
    assert "## Most confused classes" not in text and "## Per-class label quality" not in text
    assert "No diagnosis columns" in text and "| diagnosis |" not in text
    assert "**No model reaches out-of-fold accuracy 0.9.**" in text and "| minilm-lr | – | – | – | – |" in text
    assert all(len(set(rows)) == 1 for rows in _tables(md.render(text)))
    only_summary = tmp_path / "only"
    only_summary.mkdir()
    (only_summary / "summary.json").write_text(json.dumps({"classes": ["a", "b"]}))
    assert "# Data-quality report" in write_report(only_summary, tmp_path / "o.md").read_text()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="none of issues.csv"):
        write_report(tmp_path / "empty", tmp_path / "e.md")
    (only_summary / "summary.json").write_text("{not json")
    with pytest.raises(DataError, match="summary.json"):
        write_report(only_summary, tmp_path / "o.md")
    # the schema, not a guess: a misnamed or mistyped field is an error naming it
    for bad, column in ((({"classes": ["a", "b"], "backends": [{"name": "x", "n_params": 5}]}), "backends[0].n_params"),
                        (({"classes": ["a", "b"], "backends": [{"name": "x", "oof_accuracy": "high"}]}), "backends[0].oof_accuracy"),
                        (({"classes": ["a", "b"], "format_version": 99}), "format_version")):
        (only_summary / "summary.json").write_text(json.dumps(bad))
        with pytest.raises(DataError) as err:
            write_report(only_summary, tmp_path / "o.md")
        assert err.value.column == column and err.value.path.endswith("summary.json")


def test_report_command_writes_markdown_figures_and_html(issues_dir, tmp_path):
    out = tmp_path / "site" / "report.md"
    res = CliRunner().invoke(app, ["report", "--issues", str(issues_dir), "--out", str(out), "--html",
                                   "--accuracy-bar", "0.98", "--top", "5"])
    assert res.exit_code == 0, res.output
    assert "with 3 figure(s)" in res.output
    page = out.with_suffix(".html").read_text()
    assert page.count("<img") == 3 and "<script>" not in page
    assert "**lora:gemma-3-270m**" in out.read_text()
    assert report_html("# x").startswith("<!doctype html>")
    bad = CliRunner().invoke(app, ["report", "--issues", str(tmp_path / "nope"), "--out", str(out)])
    assert bad.exit_code == 65 and "not a folder" in bad.output
