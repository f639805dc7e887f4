"""The HTML report in a real headless browser (Chromium) at 1400 px: tables fit the page, the
text column of the top issues gets the room, figures load, the screenshot is not blank.

Needs a Chromium (``apt-get install -y chromium``; or LABEL_AUDIT_BROWSER=/path/to/chrome)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from audit.report.build import report_html, write_report
from browser import find_browser, measure, screenshot

BROWSER = find_browser()
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no headless Chromium found (apt-get install -y chromium)")

# Real BANKING77 labels, among its longest: the demo's classes are renamed to these.
LONG_LABELS = [
    "balance_not_updated_after_cheque_or_cash_deposit", "card_arrival", "card_delivery_estimate",
    "wrong_exchange_rate_for_cash_withdrawal", "declined_cash_withdrawal", "card_payment_not_recognised",
    "exchange_rate", "transfer_not_received_by_recipient", "Refund_not_showing_up",
    "balance_not_updated_after_bank_transfer", "reverted_card_payment?", "cash_withdrawal_not_recognised",
]
WIDTH = 1400


@pytest.fixture(scope="module")
def banking_like_report(issues_dir, tmp_path_factory):
    """The report fixture with BANKING77's long labels and pairs.csv evidence as find-issues writes it."""
    root = tmp_path_factory.mktemp("browser") / "run"
    shutil.copytree(issues_dir, root)
    summary = json.loads((root / "summary.json").read_text())
    rename = dict(zip(summary["classes"], LONG_LABELS))
    summary["classes"] = [rename[c] for c in summary["classes"]]
    (root / "summary.json").write_text(json.dumps(summary))
    issues = pd.read_csv(root / "issues.csv", dtype=str, keep_default_na=False)
    for column in [c for c in issues.columns if c in ("given_label", "suggested_label") or c.startswith("pred__")]:
        issues[column] = issues[column].map(rename)
    issues.to_csv(root / "issues.csv", index=False)
    pairs = pd.read_csv(root / "pairs.csv")
    pairs["label_a"], pairs["label_b"] = pairs["label_a"].map(rename), pairs["label_b"].map(rename)
    pairs["evidence"] = [f"2/2 models confuse it; {a}->{b} + {b}->{a} (rate, rank): tfidf-lr: 5+6 (9.3%, #1); "
                         f"minilm-lr: 4+5 (7.6%, #1)" for a, b in zip(pairs["label_a"], pairs["label_b"])]
    pairs["merged_accuracy"], pairs["accuracy_gain"] = 0.943, 0.0153
    pairs.to_csv(root / "pairs.csv", index=False)
    with np.load(root / "oof.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["classes"] = np.asarray([rename[c] for c in arrays["classes"]])
    np.savez(root / "oof.npz", **arrays)
    out = write_report(root, root.parent / "report" / "report.md", html=True)
    page = out.with_suffix(".html")
    assert page.read_text(encoding="utf-8") == report_html(out.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def layout(banking_like_report):
    return measure(BROWSER, banking_like_report, width=WIDTH)


def test_no_table_runs_off_the_page(layout):
    assert layout["viewport"] == WIDTH
    assert layout["document_width"] <= layout["viewport"]          # no horizontal scrolling of the page
    assert len(layout["tables"]) >= 5
    for table in layout["tables"]:
        heads = [h for h, _ in table["heads"]]
        assert table["left"] >= 0 and table["right"] <= layout["viewport"], heads


def test_the_text_column_of_the_top_issues_gets_the_room(layout):
    [issues] = [t for t in layout["tables"] if [h for h, _ in t["heads"]][:3] == ["row", "id", "text"]]
    widths = dict(issues["heads"])
    assert widths["text"] >= 0.3 * issues["width"]
    assert widths["text"] > max(widths["given"], widths["suggested"])


def test_figures_load(layout, banking_like_report):
    linked = banking_like_report.with_suffix(".md").read_text().count("](report-")
    assert len(layout["images"]) == linked >= 3
    for image in layout["images"]:
        assert image["complete"] and image["naturalWidth"] > 0, image["src"]
        assert image["right"] <= layout["viewport"]


def test_screenshot_is_not_blank(banking_like_report, tmp_path):
    shot = screenshot(BROWSER, banking_like_report, tmp_path / "report.png", width=WIDTH)
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape[1] == WIDTH
    assert pixels.std() > 10                       # a blank page has no variance
    assert (pixels < 128).mean() > 0.01             # some dark ink: text and figures


COMMITTED = sorted((Path(__file__).resolve().parents[2] / "reports").glob("*.html"))


@pytest.mark.parametrize("page", COMMITTED, ids=[p.name for p in COMMITTED])
def test_the_committed_real_reports_fit_the_page(page, tmp_path):
    """The reports made from real runs (long lists of rows to review, intervals, cost tables),
    as committed: every table fits at 1400 px, and the page is the one report_html renders."""
    for item in [page, *page.parent.glob(f"{page.stem}-*.png")]:
        shutil.copy(item, tmp_path / item.name)  # measured in a copy: nothing written beside the report
    layout = measure(BROWSER, tmp_path / page.name, width=WIDTH)
    assert layout["document_width"] <= layout["viewport"]
    for table in layout["tables"]:
        assert table["right"] <= layout["viewport"], [h for h, _ in table["heads"]]
    assert page.read_text(encoding="utf-8") == report_html(page.with_suffix(".md").read_text(encoding="utf-8"))
