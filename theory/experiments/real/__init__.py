r"""Section 5.1 on real data: Figures 2 and 3 with a trained CNN on scikit-learn's handwritten digits.

The paper backs its input-scale claim with MNIST and a multi-layer CNN. Here the
data are scikit-learn's bundled ``load_digits`` (1 797 grey images of 8 × 8, no
download) and the network is a small CNN with softplus activations
(:mod:`theory.experiments.real.model`). Everything runs in float64 on the CPU.

Modules, one idea each:

* :mod:`~theory.experiments.real.data`: the images, the split, the input scale and ε;
* :mod:`~theory.experiments.real.model`: the CNN, natural and adversarial training;
* :mod:`~theory.experiments.real.escape`: local maxima of L on the sphere, PGD from
  next to them under two step-size conventions, escape times;
* :mod:`~theory.experiments.real.constants`: every setting, with its reason and calibration;
* :mod:`~theory.experiments.real.figures`: Figures 2 and 3 (matplotlib);
* ``python -m theory.experiments.real``: both figures and the escape statistics.

Needs the optional extra ``real`` (torch and scikit-learn); :func:`available` says
whether it is installed, :func:`require` raises a clear error when it is not.
"""

from __future__ import annotations

import importlib.util

__all__ = ["available", "require", "MISSING_MESSAGE"]

#: What a user without the extra is told.
MISSING_MESSAGE = ("the real-data experiments need torch and scikit-learn: "
                   "install the extra 'real' (pip install '.[real]')")


def available() -> bool:
    """True when torch and scikit-learn (the ``real`` extra) can be imported."""
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "sklearn"))


def require() -> None:
    """Raise :class:`ModuleNotFoundError` with :data:`MISSING_MESSAGE` when the extra is missing."""
    if not available():
        raise ModuleNotFoundError(MISSING_MESSAGE)
