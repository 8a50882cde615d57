r"""The settings of the real-data experiments, each with its reason (calibration: ``python -m theory.experiments.real --calibrate``)."""

from __future__ import annotations

from theory.testing.section_5_1 import STATISTICAL_ALPHA, STATISTICAL_POWER
from theory.testing.statistics import paired_sign_test_draws

__all__ = ["SCALES", "RATIOS", "EPOCHS", "TARGET_ACCURACY", "CONVENTIONS", "ABSOLUTE_ETA", "FIRST_STEP_FRACTION",
           "ESCAPE_STEPS", "ESCAPE_FRACTION", "ESCAPE_MIN_DROP", "START_OFFSET", "MAXIMUM_TOLERANCE",
           "MAXIMUM_ITERATIONS", "MAXIMUM_FIRST_ANGLE", "MAXIMUM_GROW", "MAXIMUM_SHRINK",
           "TRAINING_SCALES", "TRAINING_EPOCHS", "TRAINING_RATIO", "REPORT_ALPHA",
           "STATISTICAL_ALPHA", "STATISTICAL_POWER", "CHECK_RATIO", "CHECK_DIFFER", "CHECK_Q", "CHECK_IMAGES",
           "CHECK_TRAINING_EPOCHS"]

#: Input scales (pixels in [0, s]) and perturbation ratios (ε = r · mean ‖x‖), as in Figure 2.
SCALES = (0.1, 1.0, 10.0)
RATIOS = (0.001, 0.01, 0.1, 1.0, 10.0)
#: Epochs of natural training (Adam, one setting for every scale): the held-out accuracy
#: reaches TARGET_ACCURACY at every scale.
EPOCHS = 100
TARGET_ACCURACY = 0.95
#: The two step-size conventions.
CONVENTIONS = ("absolute", "scale_free")
#: The shared η of the absolute convention.
ABSOLUTE_ETA = 1e-2
#: The first step of the scale-free convention moves this fraction of ε.
FIRST_STEP_FRACTION = 0.05
#: PGD steps per escape run.
ESCAPE_STEPS = 200
#: Escape = L has moved this share of the way from L(δ_0) to L(δ_T).
ESCAPE_FRACTION = 0.5
#: A run has escaped when L(δ_0) − L(δ_T) is at least this share of ε ‖∂L(δ_0)‖, the change of L
#: along a straight move of length ε at the start's gradient: a measure of the landscape, not of
#: the loss's size. (Measured against |L(δ_0)| instead, a step 10⁻⁶ times too small still counted as
#: escaping — a crawling run reaches half of its own final move at T/2 whatever its speed — and
#: at r = 0.001, where ℓ varies little over the ball, no run could escape.)
ESCAPE_MIN_DROP = 0.1
#: Relative distance of the start from the maximum (inwards and sideways).
START_OFFSET = 1e-3
#: The search for local maxima: relative tangent gradient tolerance, iterations,
#: first (and largest) angle of a step, its growth after success and shrinkage after failure.
MAXIMUM_TOLERANCE = 1e-4
MAXIMUM_ITERATIONS = 2000
MAXIMUM_FIRST_ANGLE = 0.2
MAXIMUM_GROW = 1.5
MAXIMUM_SHRINK = 0.5
#: Figure 3: the smallest input scale and the largest beside it; epochs of adversarial
#: training after which escape is measured (0: the network as drawn); the ratio of the
#: training's inner loop and of the escape runs.
TRAINING_SCALES = (0.1, 10.0)
TRAINING_EPOCHS = (0, 2, 30)
TRAINING_RATIO = 0.1
#: Level of the verdicts in the study's tables (one-sided sign tests, each way).
REPORT_ALPHA = 1e-3

# The checks of the claims on the digits: paired sign tests over test images.

#: The ratio of the Figure 2 checks: every start has a nonzero gradient and every search
#: converges there at both scales, and both conventions separate the scales (escape.md).
CHECK_RATIO = 0.01
#: The named alternative the checks must detect (their controls' reversed claims): a pair
#: differs with probability CHECK_DIFFER and then goes the wrong way with probability
#: CHECK_Q. Below the effects the study measures where a check or a control relies on them
#: (``python -m theory.experiments.real``, seed 0, all 539 test images, escape.md): at r = 0.01
#: the absolute step separates the scales in 296 pairs (55 %), the smaller scale faster in all
#: 296; the scale-free step in 424 (79 %), the smaller scale slower in 377 (q = 0.89, 95 % CI
#: 0.86 to 0.92); adversarial training at s = 0.1 with the scale-free step separates 537, 534 harder.
CHECK_DIFFER = 0.5
CHECK_Q = 0.85
#: Test images per check: the smallest number with power STATISTICAL_POWER against that
#: alternative at level STATISTICAL_ALPHA (the false-fail rate of one example at the null's boundary).
CHECK_IMAGES = paired_sign_test_draws(STATISTICAL_ALPHA, STATISTICAL_POWER, CHECK_DIFFER, CHECK_Q)
#: Epochs of adversarial training compared with none in the Figure 3 checks.
CHECK_TRAINING_EPOCHS = 30
