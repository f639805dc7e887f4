"""Draft annotation guidelines for confused label pairs, from the data.

For a pair (a, b): the words and phrases that best tell the two labels apart (a TF-IDF
logistic regression on the pair's examples: its largest coefficients each way), contrasting
examples (the closest cross-pair neighbours: an example of a and the most similar example of
b), and, once reviewers have decided examples of the pair, the rule their decisions imply
(the words over-represented among the examples they moved from one label to the other).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def discriminative_terms(
    texts: Sequence[str], is_b: np.ndarray, *, n_terms: int = 8, seed: int = 0
) -> tuple[list[str], list[str]]:
    """Terms (words and bigrams) that most favour label a and label b.

    texts : (n,) the pair's examples; is_b : (n,) bool, True for label b.
    Returns (terms of a, terms of b), strongest first, from the coefficients of a
    TF-IDF + logistic regression trained to tell the two apart.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    is_b = np.asarray(is_b, dtype=bool)
    if is_b.all() or not is_b.any():
        return [], []
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2 if len(texts) >= 40 else 1, sublinear_tf=True)
    x = vectorizer.fit_transform(texts)
    coef = LogisticRegression(C=10.0, max_iter=2000, random_state=seed).fit(x, is_b).coef_[0]
    terms = np.asarray(vectorizer.get_feature_names_out())
    order = np.argsort(coef)
    return [str(t) for t in terms[order[:n_terms]]], [str(t) for t in terms[order[::-1][:n_terms]]]


def contrasting_examples(texts: Sequence[str], is_b: np.ndarray, *, n_examples: int = 3) -> list[dict]:
    """The closest cross-pair neighbours: per example of a, its most similar example of b (TF-IDF
    cosine); the ``n_examples`` most similar such couples, each example used once.
    Returns dicts ``text_a, text_b, similarity``."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    is_b = np.asarray(is_b, dtype=bool)
    a_idx, b_idx = np.flatnonzero(~is_b), np.flatnonzero(is_b)
    if not len(a_idx) or not len(b_idx):
        return []
    x = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    sims = (x[a_idx] @ x[b_idx].T).toarray()  # rows are L2-normalised: cosine
    out, used_a, used_b = [], set(), set()
    for flat in np.argsort(-sims, axis=None):
        i, j = divmod(int(flat), len(b_idx))
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append({"text_a": texts[a_idx[i]], "text_b": texts[b_idx[j]], "similarity": float(sims[i, j])})
        if len(out) == n_examples:
            break
    return out


def implied_rule(
    texts: Sequence[str], given: Sequence[str], decided: Sequence[str], *, label_a: str, label_b: str,
    n_terms: int = 5,
) -> dict | None:
    """What the reviewers' decisions on the pair's examples imply.

    texts, given, decided : (m,) reviewed examples of the pair, their given labels and the
    labels the reviewers decided (the given label when kept). Returns ``moved_a_to_b``,
    ``moved_b_to_a``, ``kept``, and per direction the terms most over-represented among the
    moved examples against the kept ones (smoothed log-odds of document frequency); None when
    no example was reviewed.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    given, decided = np.asarray(given, dtype=object), np.asarray(decided, dtype=object)
    if not len(given):
        return None
    to_b = (given == label_a) & (decided == label_b)
    to_a = (given == label_b) & (decided == label_a)
    kept = given == decided
    rule = {"n_reviewed": int(len(given)), "moved_a_to_b": int(to_b.sum()), "moved_b_to_a": int(to_a.sum()),
            "kept": int(kept.sum()), "terms_a_to_b": [], "terms_b_to_a": []}
    vectorizer = CountVectorizer(ngram_range=(1, 2), binary=True)
    try:
        x = vectorizer.fit_transform(texts).toarray()
    except ValueError:  # no words at all
        return rule
    terms = np.asarray(vectorizer.get_feature_names_out())
    for moved, key in ((to_b, "terms_a_to_b"), (to_a, "terms_b_to_a")):
        if not moved.any():
            continue
        rest = ~moved
        p_moved = (x[moved].sum(0) + 0.5) / (moved.sum() + 1)
        p_rest = (x[rest].sum(0) + 0.5) / (rest.sum() + 1)
        score = np.log(p_moved / (1 - p_moved)) - np.log(p_rest / (1 - p_rest))
        present = x[moved].sum(0) >= max(1, int(0.3 * moved.sum()))
        order = [i for i in np.argsort(-score) if present[i]][:n_terms]
        rule[key] = [str(terms[i]) for i in order]
    return rule


def draft_guideline(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    label_a: str,
    label_b: str,
    reviewed: dict[str, str] | None = None,
    example_ids: Sequence[str] | None = None,
    n_terms: int = 8,
    n_examples: int = 3,
) -> dict:
    """A draft guideline for the pair (label_a, label_b).

    texts, labels : (N,) the examples and their given labels (all classes; the pair's rows
    are picked here). reviewed : example_id -> the label reviewers decided (needs
    ``example_ids``), for the implied rule. Returns ``label_a, label_b, n_a, n_b, terms_a,
    terms_b, contrasts, rule`` (None without reviews of the pair) and ``text`` (the guideline
    as a few lines of prose, for the Label Studio task and the report).
    """
    labels = np.asarray(labels, dtype=object)
    mask = (labels == label_a) | (labels == label_b)
    pair_texts = [t for t, m in zip(texts, mask) if m]
    is_b = labels[mask] == label_b
    terms_a, terms_b = discriminative_terms(pair_texts, is_b, n_terms=n_terms)
    contrasts = contrasting_examples(pair_texts, is_b, n_examples=n_examples)
    rule = None
    if reviewed and example_ids is not None:
        ids = np.asarray(example_ids, dtype=object)[mask]
        seen = [i for i, e in enumerate(ids) if e in reviewed]
        rule = implied_rule([pair_texts[i] for i in seen], labels[mask][seen], [reviewed[ids[i]] for i in seen],
                            label_a=label_a, label_b=label_b)
    out = {"label_a": label_a, "label_b": label_b, "n_a": int((~is_b).sum()), "n_b": int(is_b.sum()),
           "terms_a": terms_a, "terms_b": terms_b, "contrasts": contrasts, "rule": rule}
    out["text"] = guideline_text(out)
    return out


def guideline_text(g: dict) -> str:
    """The guideline as plain lines (user text is not escaped here: escape for markdown)."""
    lines = [f"{g['label_a']}: texts that mention " + (", ".join(f"'{t}'" for t in g["terms_a"]) or "-") + ".",
             f"{g['label_b']}: texts that mention " + (", ".join(f"'{t}'" for t in g["terms_b"]) or "-") + "."]
    for c in g["contrasts"]:
        lines.append(f"Contrast: '{c['text_a']}' ({g['label_a']}) vs '{c['text_b']}' ({g['label_b']}), "
                     f"similarity {c['similarity']:.2f}.")
    r = g.get("rule")
    if r:
        lines.append(f"Reviewers decided {r['n_reviewed']} examples: {r['moved_a_to_b']} moved to {g['label_b']}"
                     + (f" (they mention {', '.join(repr(t) for t in r['terms_a_to_b'])})" if r["terms_a_to_b"] else "")
                     + f", {r['moved_b_to_a']} moved to {g['label_a']}"
                     + (f" (they mention {', '.join(repr(t) for t in r['terms_b_to_a'])})" if r["terms_b_to_a"] else "")
                     + f", {r['kept']} kept.")
    return "\n".join(lines)


def is_data_problem(diagnosis) -> bool:
    """A pairs.csv diagnosis that says the data, not the models, is at fault: the causes
    ``noise`` and ``overlap`` (:mod:`audit.pair_diagnosis`), or ``data`` in older runs."""
    return str(diagnosis).strip().lower() in ("noise", "overlap") or str(diagnosis).strip().lower().startswith("data")
