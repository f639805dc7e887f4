import numpy as np

from audit.report.health import most_confused_classes


def test_pairs_win_over_an_attractor_class():
    k = 6
    c = np.diag([100] * k)
    c[0, 1] = c[1, 0] = 12  # the confused pair
    for i in range(2, k):
        c[i, 5] += 3  # class 5 attracts a little from many classes
    c[5, 5] = 100
    picked = most_confused_classes(c, top=2)
    assert sorted(picked.tolist()) == [0, 1]
    assert len(most_confused_classes(c, top=4)) == 4
