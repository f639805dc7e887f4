"""Draft guidelines for confused pairs: discriminative words, contrasts, the reviewers' rule."""

import numpy as np
import pandas as pd

from audit.guidelines import contrasting_examples, discriminative_terms, draft_guideline, implied_rule

ARRIVED = ["my card arrived damaged", "the card arrived but broken", "card arrived late yesterday",
           "it arrived finally", "my new card arrived today", "card arrived with a wrong name"]
ESTIMATE = ["how long until the card comes", "how long does delivery take", "how long for a new card",
            "how long will shipping take", "how long is the wait for cards", "how long to get my card"]


def test_discriminative_terms_find_the_words_that_tell_the_labels_apart():
    texts = ARRIVED + ESTIMATE
    is_b = np.array([False] * len(ARRIVED) + [True] * len(ESTIMATE))
    terms_a, terms_b = discriminative_terms(texts, is_b, n_terms=3)
    assert "arrived" in terms_a
    assert {"how", "long", "how long"} & set(terms_b)
    assert not set(terms_a) & set(terms_b)


def test_contrasts_pair_the_closest_examples_across_the_pair_each_used_once():
    texts = ["where is my card", "card payment failed", "where is my card now", "payment of card failed"]
    is_b = np.array([False, False, True, True])
    contrasts = contrasting_examples(texts, is_b, n_examples=2)
    assert [(c["text_a"], c["text_b"]) for c in contrasts] == [
        ("where is my card", "where is my card now"), ("card payment failed", "payment of card failed")]
    assert contrasts[0]["similarity"] >= contrasts[1]["similarity"]


def test_implied_rule_names_what_the_moved_examples_share():
    texts = ["card arrived damaged", "arrived broken card", "card arrived late", "how long to wait", "how long now"]
    given = ["b", "b", "b", "b", "b"]
    decided = ["a", "a", "a", "b", "b"]
    rule = implied_rule(texts, given, decided, label_a="a", label_b="b")
    assert (rule["moved_b_to_a"], rule["moved_a_to_b"], rule["kept"]) == (3, 0, 2)
    assert rule["terms_b_to_a"][0] in ("arrived", "card")
    assert rule["terms_a_to_b"] == []


def test_draft_guideline_uses_only_the_pair_and_the_reviews():
    texts = ARRIVED + ESTIMATE + ["unrelated text about exchange rates"]
    labels = ["a"] * 6 + ["b"] * 6 + ["c"]
    ids = [f"e{i}" for i in range(len(texts))]
    g = draft_guideline(texts, labels, label_a="a", label_b="b", reviewed={"e0": "b", "e6": "b"}, example_ids=ids)
    assert (g["n_a"], g["n_b"]) == (6, 6)
    assert g["rule"]["n_reviewed"] == 2 and g["rule"]["moved_a_to_b"] == 1
    assert "exchange" not in " ".join(g["terms_a"] + g["terms_b"])
    assert g["text"].splitlines()[0].startswith("a: texts that mention")
    assert draft_guideline(texts, labels, label_a="a", label_b="b")["rule"] is None
