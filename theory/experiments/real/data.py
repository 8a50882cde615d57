r"""The data: scikit-learn's handwritten digits at an input scale s, and ε from a perturbation ratio.

``load_digits`` ships inside scikit-learn: 1 797 images of 8 × 8 pixels with 17
grey levels (0..16), ten classes. The paper used MNIST (70 000 images of 28 × 28):
the digits are 12 times smaller in d (64 against 784) and have 40 times fewer
images, so a network needs fewer parameters, trains in seconds and has fewer
directions on the sphere in which to find local maxima.

* Input scale s: pixels rescaled to [0, s] (x = s · X / 16).
* Split: a stratified split fixed by :data:`SPLIT_SEED`, TEST_FRACTION of each class held out.
* ε = r · mean ‖x‖ over the test set (:func:`epsilon`), so that at a fixed ratio r
  the ball has the same size relative to the images at every scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory._validation import check_positive_float

__all__ = ["SPLIT_SEED", "TEST_FRACTION", "PIXEL_LEVELS", "Digits", "load", "epsilon"]

#: The split of the images into training and test sets is fixed by this seed (numpy's PCG64).
SPLIT_SEED = 0
#: Share of each class held out as the test set.
TEST_FRACTION = 0.3
#: The largest grey level of ``load_digits`` (pixels take the values 0..16).
PIXEL_LEVELS = 16.0


@dataclass(frozen=True)
class Digits:
    """Images at one input scale: ``x_train`` (n, 1, 8, 8), ``y_train`` (n,), ``x_test``, ``y_test``; float64 pixels in [0, scale]."""

    scale: float
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def mean_test_norm(self) -> float:
        """Mean Euclidean norm of the test images (the unit of ε)."""
        return float(np.mean(np.linalg.norm(self.x_test.reshape(len(self.x_test), -1), axis=1)))


def _split(labels):
    rng = np.random.default_rng(SPLIT_SEED)
    test = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test.append(idx[: int(round(TEST_FRACTION * len(idx)))])
    test = np.sort(np.concatenate(test))
    train = np.setdiff1d(np.arange(len(labels)), test)
    return train, test


def load(scale) -> Digits:
    """The digits with pixels in [0, ``scale``] (float64), split into training and test sets.

    Raises ``ModuleNotFoundError`` (the ``real`` extra) when scikit-learn is missing.
    """
    scale = check_positive_float("scale", scale)
    from theory.experiments.real import require
    require()
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float64)[:, None, :, :] * (scale / PIXEL_LEVELS)
    labels = np.asarray(bunch.target, dtype=np.int64)
    train, test = _split(labels)
    return Digits(scale, images[train], labels[train], images[test], labels[test])


def epsilon(digits: Digits, ratio) -> float:
    """ε = ratio · mean ‖x‖ over the test set."""
    ratio = check_positive_float("ratio", ratio)
    return ratio * digits.mean_test_norm
