"""Executable checks of Deng, He, Huang & Su, "Towards Understanding the Dynamics of
the First-Order Adversaries" (ICML 2020).

Layers, from the bottom (imports point down only; ``checks/suite/test_suite_layers.py`` tests it):

* :mod:`theory._floats`, :mod:`theory._validation`: floating-point facts, argument checks;
* the mathematics at the root: :mod:`theory.activations`, :mod:`theory.geometry`,
  :mod:`theory.network`, :mod:`theory.losses`, :mod:`theory.bounds`, :mod:`theory.problem`,
  :mod:`theory.constrained`, :mod:`theory.pgd` (with the private fused kernel
  :mod:`theory._kernel`);
* :mod:`theory.certificates`: per-draw certificates that take a Problem;
* :mod:`theory.landscape`: critical points on the sphere, scans, worst cases, the threshold;
* :mod:`theory.testing`: Hypothesis strategies, finite-difference checks, tolerances,
  regimes, statistics, profiles;
* :mod:`theory.experiments`: the programs (§5.1, Figure 1, the threshold sweep,
  calibration, findings);
* :mod:`theory.report`: the claims registry, the pytest plugin and the claims report
  (``python -m theory``).

The properties live in ``checks/`` (installed with the package as ``theory.checks``).
Modules of the earlier flat layout stay importable under their old names
(:mod:`theory._moved`).
"""

from theory._moved import install as _install_aliases

_install_aliases()

__version__ = "0.1.0"
