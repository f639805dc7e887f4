"""A small find-issues output directory in the documented format (docs/formats.md), built from
BANKING77-like queries."""

from __future__ import annotations

import csv
import json
from pathlib import Path

CLASSES = ["card_arrival", "card_delivery_estimate", "lost_or_stolen_card", "Refund_not_showing_up",
           "reverted_card_payment?"]

# (text, given label, suggested label, flagged): BANKING77-like queries, some mislabelled.
ROWS = [
    ("I am still waiting on my card?", "card_arrival", "card_arrival", False),
    ("When will my new card get here?", "card_arrival", "card_delivery_estimate", True),
    ("How long does a card take to arrive in the US?", "card_arrival", "card_delivery_estimate", True),
    ("My card has not come yet, what should I do?", "card_arrival", "card_arrival", False),
    ("What is the delivery time for a card?", "card_delivery_estimate", "card_delivery_estimate", False),
    ("Can I track the card you sent me?", "card_delivery_estimate", "card_arrival", True),
    ("Someone stole my card, help", "lost_or_stolen_card", "lost_or_stolen_card", False),
    ("I lost my card yesterday", "card_arrival", "lost_or_stolen_card", True),
    ("My refund is not in my account yet", "Refund_not_showing_up", "Refund_not_showing_up", False),
    ("The merchant refunded me but I can't see it", "reverted_card_payment?", "Refund_not_showing_up", True),
    ("Why was my card payment reverted?", "reverted_card_payment?", "reverted_card_payment?", False),
    ("A payment I made came back to my card", "Refund_not_showing_up", "reverted_card_payment?", True),
]
N_FLAGGED = sum(r[3] for r in ROWS)


def write_issues_dir(path: Path, rows=ROWS, classes=CLASSES, *, backends=("tfidf-lr", "minilm-lr")) -> Path:
    """Write summary.json, issues.csv and pairs.csv as `audit find-issues` documents them."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "summary.json").write_text(json.dumps({
        "data": "banking77-like", "split": "train", "data_fingerprint": "f" * 16, "n_examples": len(rows),
        "classes": list(classes), "backends": [{"name": b, "spec": {"backend": b}, "fingerprint": b} for b in backends],
        "n_label_issues": sum(r[3] for r in rows), "folds": 5, "seed": 0,
    }))
    with open(path / "issues.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["row", "example_id", "split", "text", "given_label", "suggested_label", "label_quality",
                      "is_label_issue", "n_models_disagree", "n_models",
                      *(f"pred__{b}" for b in backends), *(f"quality__{b}" for b in backends)])
        for i, (text, given, suggested, flagged) in enumerate(rows):
            quality = round(0.05 + 0.02 * i if flagged else 0.9 - 0.01 * i, 4)
            votes = [suggested, given if i % 2 else suggested]
            out.writerow([i, f"ex{i:04d}", "train", text, given, suggested, quality, flagged,
                          sum(v != given for v in votes), len(backends), *votes, quality, quality])
    with open(path / "pairs.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["label_a", "label_b", "n_a_as_b", "n_b_as_a", "confusion_rate", "diagnosis"])
        out.writerow(["card_arrival", "card_delivery_estimate", 2, 1, 0.5, "overlapping intents"])
        out.writerow(["Refund_not_showing_up", "reverted_card_payment?", 1, 1, 0.4, "ambiguous"])
    return path
