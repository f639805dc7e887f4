import numpy as np

from audit.detectors import DetectorContext, run_detectors
from conftest import make_split


def _noisy_classes(seed: int, noisy_class: int, k: int = 5, n: int = 600):
    """Given labels = true labels, except 25% of other classes' rows relabelled ``noisy_class``;
    pred_probs from a model that knows the true labels (70-95% on the true class)."""
    rng = np.random.default_rng(seed)
    true = np.repeat(np.arange(k), n // k)
    given = true.copy()
    others = np.flatnonzero(true != noisy_class)
    given[rng.choice(others, size=len(others) // 4, replace=False)] = noisy_class
    conf = rng.uniform(0.7, 0.95, size=len(true))
    probs = np.tile(((1 - conf) / (k - 1))[:, None], (1, k))
    probs[np.arange(len(true)), true] = conf
    return given, probs


def test_class_with_planted_noise_ranks_lowest():
    classes = ["a", "b", "c", "d", "e"]
    for seed, noisy in [(0, 2), (1, 4)]:
        given, probs = _noisy_classes(seed, noisy)
        ds = make_split([f"t{i}" for i in range(len(given))], given, classes)
        r = run_detectors(["class_quality"], DetectorContext(ds, pred_probs_list=[probs]))["class_quality"]
        table = r.info["classes"]
        assert table[0]["label"] == classes[noisy] and table[0]["rank"] == 1
        assert [row["label_quality"] for row in table] == sorted(row["label_quality"] for row in table)
        np.testing.assert_allclose(r.score, np.array([row["label_quality"] for row in sorted(table, key=lambda x: x["class_index"])])[given])
        assert r.is_issue.tolist() == (given == noisy).tolist()
        assert f"class '{classes[noisy]}' has label quality" in r.reason[np.flatnonzero(given == noisy)[0]]
        assert 0 < r.summary_score < 1 and r.summary_score == r.info["overall_label_health_score"]
