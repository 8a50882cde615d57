r"""The settings of the real-data experiments, each with its reason (calibration: ``python -m theory.experiments.real --calibrate``)."""

from __future__ import annotations

__all__ = ["SCALES", "RATIOS", "EPOCHS", "TARGET_ACCURACY", "CONVENTIONS", "ABSOLUTE_ETA", "FIRST_STEP_FRACTION",
           "ESCAPE_STEPS", "ESCAPE_FRACTION", "MIN_RELATIVE_DECREASE", "START_OFFSET", "MAXIMUM_TOLERANCE",
           "MAXIMUM_ITERATIONS", "MAXIMUM_FIRST_ANGLE", "MAXIMUM_GROW", "MAXIMUM_SHRINK",
           "TRAINING_SCALES", "TRAINING_EPOCHS", "TRAINING_RATIO", "REPORT_ALPHA"]

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
#: A run whose total decrease L(δ_0) − L(δ_T) is below this share of |L(δ_0)| has not escaped.
MIN_RELATIVE_DECREASE = 1e-6
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
