"""Learning from the reviewers' decisions: neighbours, direction rates, learnt error scores."""

import numpy as np
import pytest

from audit.rerank import label_quality
from audit.review_learning import (
    TextNeighbours, find_text_neighbours, get_direction_error_rates, get_learned_error_scores,
)
from labelcore.errors import ConfigError


def test_neighbours_are_the_most_similar_other_texts():
    texts = ["where is my new card", "where is my new card please", "cancel my transfer now",
             "please cancel my transfer", "what is the exchange rate", "exchange rate for euros"]
    found = find_text_neighbours(texts, k=2)
    assert found.index.shape == found.similarity.shape == (6, 2)
    assert all(i not in row for i, row in enumerate(found.index))          # never its own neighbour
    assert list(found.index[:, 0]) == [1, 0, 3, 2, 5, 4]
    assert (np.diff(found.similarity, axis=1) <= 1e-6).all() and (found.similarity >= 0).all()
    assert find_text_neighbours(texts[:3], k=10).index.shape == (3, 2)     # k capped at N - 1
    with pytest.raises(ConfigError):
        find_text_neighbours(["alone"])


def test_direction_error_rates_are_smoothed_towards_the_share_of_errors():
    given = np.array([0, 0, 0, 1, 1])
    predicted = np.array([1, 1, 2, 0, 0])
    was_error = np.array([1, 1, 0, 0, 0])
    direction, per_class = get_direction_error_rates(given, predicted, was_error, n_classes=3, strength=2.0)
    base = 2 / 5
    assert direction[0, 1] == pytest.approx((2 + 2 * base) / (2 + 2))
    assert direction[1, 0] == pytest.approx((0 + 2 * base) / (2 + 2))
    assert direction[2, 2] == pytest.approx(base)                         # never reviewed: the base rate
    assert per_class[0] == pytest.approx((2 + 2 * base) / (3 + 2))


def _two_confusable_pairs(n_per_kind: int = 40, seed: int = 0):
    """Rows of classes 0..3; suspicious rows labelled 1 that look like 0 (planted errors) and
    rows labelled 3 that look like 2 (genuinely ambiguous, labelled right) - with the same
    model evidence, so label quality cannot tell the two kinds apart."""
    rng = np.random.default_rng(seed)
    n_plain = 200
    n = n_plain + 4 * n_per_kind
    labels = np.concatenate([np.arange(n_plain) % 4, np.ones(2 * n_per_kind, int), np.full(2 * n_per_kind, 3)])
    truth = labels.copy()
    errors = np.arange(n_plain, n_plain + 2 * n_per_kind)
    truth[errors] = 0
    probs = np.full((n, 4), 0.02)
    probs[np.arange(n_plain), labels[:n_plain]] = 0.94
    suspicious = np.arange(n_plain, n)
    other = np.where(labels[suspicious] == 1, 0, 2)
    p_other = rng.uniform(0.5, 0.8, len(suspicious))
    probs[suspicious] = 0.0
    probs[suspicious, other] = p_other
    probs[suspicious, labels[suspicious]] = 1 - p_other
    index = rng.integers(0, n, size=(n, 5))
    neighbours = TextNeighbours(index=index, similarity=np.ones((n, 5)))
    return labels, truth, probs, neighbours, suspicious


def test_learnt_scores_tell_a_direction_reviewers_fixed_from_one_they_kept():
    labels, truth, probs, neighbours, suspicious = _two_confusable_pairs()
    reviewed = np.zeros(len(labels), bool)
    half = np.concatenate([suspicious[:40:2], suspicious[40:80:2], suspicious[80:120:2], suspicious[120::2]])
    reviewed[half] = True
    after = np.where(reviewed, truth, labels)
    scores = get_learned_error_scores(after, probs, reviewed=reviewed, labels_before_review=labels,
                                      neighbours=neighbours, min_reviews=20)
    assert scores.shape == (len(labels),)
    left = suspicious[~reviewed[suspicious]]
    planted = left[truth[left] != labels[left]]
    ambiguous = left[truth[left] == labels[left]]
    quality = label_quality(labels, probs)
    # label quality alone mixes them (same evidence); the decisions separate them
    assert abs(np.mean(quality[planted]) - np.mean(quality[ambiguous])) < 0.1
    assert scores[planted].min() > scores[ambiguous].max()


def test_nothing_is_learnt_before_there_are_enough_reviews_of_both_outcomes():
    labels, truth, probs, neighbours, suspicious = _two_confusable_pairs()
    reviewed = np.zeros(len(labels), bool)
    reviewed[suspicious[:40]] = True                   # every one an error: nothing to contrast
    after = np.where(reviewed, truth, labels)
    args = dict(labels_before_review=labels, neighbours=neighbours)
    assert get_learned_error_scores(after, probs, reviewed=reviewed, min_reviews=20, **args) is None
    reviewed[suspicious[80:90]] = True
    assert get_learned_error_scores(after, probs, reviewed=reviewed, min_reviews=100, **args) is None
    assert get_learned_error_scores(after, probs, reviewed=reviewed, min_reviews=20, **args) is not None
    with pytest.raises(ConfigError):
        get_learned_error_scores(after[:-1], probs, reviewed=reviewed, min_reviews=20, **args)


def test_the_review_loop_learns_from_its_batches_and_finds_the_errors_sooner():
    from audit.rerank import rerank_review, reviews_to_find
    from labelcore.data.schema import TextDataset

    labels, truth, probs, neighbours, suspicious = _two_confusable_pairs(n_per_kind=60, seed=1)
    n = len(labels)
    data = TextDataset(texts=[f"t{i}" for i in range(n)], labels=labels, classes=("a", "b", "c", "d"),
                       example_ids=[str(i) for i in range(n)], rows=np.arange(n), source="synthetic")
    is_error = truth != labels

    def run(with_neighbours):
        return rerank_review(data, lambda current: (probs, {}), lambda rows: truth[rows], batch_size=30,
                             stop=lambda reviewed, now: bool((now == truth).all()),
                             neighbours=neighbours if with_neighbours else None)

    learned, plain = run(True), run(False)
    rankings = [r["info"]["ranking"] for r in learned["rounds"]]
    assert rankings[0] == "label_quality" and "learned" in rankings
    assert {r["info"]["ranking"] for r in plain["rounds"]} == {"label_quality"}
    assert (learned["labels"] == truth).all()
    assert reviews_to_find(learned["order"], is_error, share=1.0) < reviews_to_find(plain["order"], is_error, share=1.0)
