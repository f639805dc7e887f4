from __future__ import annotations

import numpy as np
import pytest

from audit.noise import most_confused_targets, plant_noise


def test_near_noise_goes_to_the_most_confused_class():
    labels = np.repeat(np.arange(4), 50)
    confusion = np.eye(4) * 10
    confusion[0, 2] = confusion[1, 3] = confusion[2, 0] = confusion[3, 1] = 5
    noisy, flipped = plant_noise(labels, kind="near", rate=0.1, seed=1, confusion=confusion)
    assert flipped.sum() == 20 and (noisy[flipped] == most_confused_targets(confusion)[labels[flipped]]).all()
    assert (noisy[~flipped] == labels[~flipped]).all()
    again, _ = plant_noise(labels, kind="near", rate=0.1, seed=1, confusion=confusion)
    assert (again == noisy).all()


def test_uniform_and_pairs():
    labels = np.repeat(np.arange(5), 40)
    noisy, flipped = plant_noise(labels, kind="uniform", rate=0.1, seed=0)
    assert (noisy[flipped] != labels[flipped]).all() and flipped.sum() == 20
    noisy, flipped = plant_noise(labels, kind="pairs", rate=0.25, seed=0, pairs=[(0, 1)])
    assert (noisy[flipped] == 1).all() and (labels[flipped] == 0).all() and flipped.sum() == 10
    with pytest.raises(ValueError):
        plant_noise(labels, kind="near", rate=0.1)
