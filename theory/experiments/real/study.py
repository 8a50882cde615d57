r"""One run of the real-data escape study: per input scale a trained CNN, per ratio the maxima, per convention the PGD losses.

:func:`escape_study` returns, for every (scale, ratio, convention), the losses
L(δ_t) along PGD from next to a local maximum of L on the sphere, for the same test
images at every scale (paired comparisons), and the escape times. The figures,
the statistics, the checks and the claims report all read this structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from theory.experiments.real import constants as C
from theory.experiments.real import data, escape, model
from theory._validation import check_positive_int, check_seed
from theory.geometry import vector_norm

__all__ = ["Panel", "Study", "TrainingStudy", "escape_panel", "escape_study", "trained_model", "training_study"]


@dataclass
class Panel:
    """One (scale, ratio) panel: ``losses[convention]`` (steps + 1, n), ``times[convention]`` (n,), the first
    step's length in units of ε ``first_step[convention]`` (n,), and the search's outcome."""

    scale: float
    ratio: float
    eps: float
    images: np.ndarray
    found: np.ndarray
    zero_gradient: np.ndarray
    losses: dict = field(default_factory=dict)
    times: dict = field(default_factory=dict)
    first_step: dict = field(default_factory=dict)


@dataclass
class Study:
    """Panels keyed by (scale, ratio), the models' held-out accuracies keyed by scale (over ``test_size`` images), and the settings."""

    panels: dict
    accuracy: dict
    seed: int
    images: np.ndarray
    steps: int
    epochs: int
    test_size: int = 0


_TRAINED = {}


def trained_model(digits, *, seed, epochs=C.EPOCHS):
    """The CNN naturally trained on ``digits`` for ``epochs`` epochs from seed ``seed``.

    Training is deterministic, so the network is kept per (scale, seed, epochs) for the
    process (the callers do not modify it: adversarial training starts from a copy).
    """
    key = (float(digits.scale), int(seed), int(epochs))
    if key not in _TRAINED:
        _TRAINED[key] = model.train(digits, seed=seed, epochs=epochs)
    return _TRAINED[key]


def escape_panel(net, digits, ratio, images, *, seed, steps=C.ESCAPE_STEPS, conventions=C.CONVENTIONS):
    """The escape runs of one panel for the test images ``images`` (indices)."""
    eps = data.epsilon(digits, ratio)
    x, y = digits.x_test[images], digits.y_test[images]
    delta_max, found, _ = escape.local_maxima(net, x, y, eps, seed=seed)
    delta0 = escape.escape_starts(delta_max, eps, seed=seed)
    _, g0 = escape.loss_and_grad(net, x, y, delta0)
    panel = Panel(digits.scale, ratio, eps, np.asarray(images), found, ~np.any(g0 != 0, axis=1))
    for convention in conventions:
        eta = escape.step_sizes(net, x, y, eps, delta0, convention)
        with np.errstate(over="ignore"):
            panel.first_step[convention] = eta * vector_norm(g0, axis=1) / eps
        panel.losses[convention] = escape.escape_losses(net, x, y, eps, delta0, eta, steps=steps)
        panel.times[convention] = escape.escape_times(panel.losses[convention], escape.minimum_drop(eps, g0))
    return panel


def escape_study(*, seed=0, images=None, scales=C.SCALES, ratios=C.RATIOS, steps=C.ESCAPE_STEPS, epochs=C.EPOCHS,
                 conventions=C.CONVENTIONS):
    """Train one CNN per scale and run every panel on the same test images (default: all of them)."""
    seed = check_seed("seed", seed)
    steps = check_positive_int("steps", steps)
    panels, acc = {}, {}
    chosen = None
    for scale in scales:
        digits = data.load(scale)
        chosen = np.arange(len(digits.y_test)) if images is None else np.asarray(images)
        net = trained_model(digits, seed=seed, epochs=epochs)
        acc[scale] = model.accuracy(net, digits.x_test, digits.y_test)
        for ratio in ratios:
            panels[(scale, ratio)] = escape_panel(net, digits, ratio, chosen, seed=seed, steps=steps,
                                                  conventions=conventions)
    return Study(panels, acc, seed, chosen, steps, epochs, len(digits.y_test))


@dataclass
class TrainingStudy:
    """Figure 3: panels keyed by (scale, epochs), each with the held-out accuracy after those epochs of adversarial training."""

    panels: dict
    seed: int
    images: np.ndarray
    steps: int
    ratio: float


def training_study(*, seed=0, images=None, scales=C.TRAINING_SCALES, epochs=C.TRAINING_EPOCHS,
                   ratio=C.TRAINING_RATIO, steps=C.ESCAPE_STEPS, conventions=C.CONVENTIONS):
    """Adversarial training (PGD inner loop at ε = ratio · mean ‖x‖) of Figure 2's network; escape runs after each epoch count.

    Epoch 0 is the naturally trained network of :func:`trained_model` (the same seed);
    the escape runs use the same ratio as the training. (From a freshly drawn network,
    adversarial training at s = 0.1 stays at chance accuracy for 50 epochs with the
    optimiser of natural training, so Figure 3 starts from the trained network.)
    """
    seed = check_seed("seed", seed)
    panels = {}
    chosen = None
    for scale in scales:
        digits = data.load(scale)
        chosen = np.arange(len(digits.y_test)) if images is None else np.asarray(images)
        natural = trained_model(digits, seed=seed)
        nets = model.train_checkpoints(digits, seed=seed, epochs=epochs, adversarial_eps=data.epsilon(digits, ratio),
                                       start=natural)
        for e, net in nets.items():
            panel = escape_panel(net, digits, ratio, chosen, seed=seed, steps=steps, conventions=conventions)
            panels[(scale, e)] = (panel, model.accuracy(net, digits.x_test, digits.y_test))
    return TrainingStudy(panels, seed, chosen, steps, ratio)
