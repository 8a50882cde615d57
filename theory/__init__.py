"""Executable checks of Deng, He, Huang & Su, "Towards Understanding the Dynamics of
the First-Order Adversaries" (ICML 2020).

``theory`` holds the mathematics of the paper's setting; the properties that test
its claims live in ``checks/`` and run under pytest + Hypothesis. Layers, from
the bottom: :mod:`theory.geometry`, :mod:`theory.network`, :mod:`theory.losses`,
:mod:`theory.problem`, :mod:`theory.bounds`, :mod:`theory.constrained`,
:mod:`theory.pgd`; :mod:`theory.strategies` gives Hypothesis strategies for them,
:mod:`theory.diffcheck` finite-difference derivative checks,
:mod:`theory.tolerances` every numerical tolerance with its justification and
:mod:`theory.profiles` the suite's Hypothesis profiles and pytest settings (the
checks are installed with the package as ``theory.checks``).
The claims report (``python -m theory``) lives in :mod:`theory.__main__`,
:mod:`theory.report` and the pytest plugin :mod:`theory.report_plugin`;
:mod:`theory.claims` holds each claim's statement, regime and repairs.
"""

__version__ = "0.1.0"
