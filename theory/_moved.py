"""Where moved modules and names went: the old import paths keep working.

The library itself never imports through these aliases (``checks/suite/test_suite_layers.py`` verifies
it); they exist for users' code written against the earlier flat layout.

* :data:`MOVED_MODULES` maps an old module path to its new one. :func:`install`
  adds a finder to :data:`sys.meta_path` that answers ``import theory.threshold``
  with the module :mod:`theory.experiments.threshold_sweep` itself (one module
  object under both names, so its state is shared), and ``python -m theory.figure1``
  runs the new module as ``__main__``.
* :data:`MOVED_NAMES` maps an old module to names that moved out of it; the module
  forwards them on attribute access (PEP 562) with :func:`forward`, so that an
  old ``from theory.bounds import certified_tau_eps`` works without the module
  importing a layer above it at import time.

This module imports only the standard library: it is the bottom layer.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys

__all__ = ["MOVED_MODULES", "MOVED_NAMES", "forward", "install"]

MOVED_MODULES = {
    "theory.critical": "theory.landscape.critical",
    "theory.sphere_scan": "theory.landscape.sphere_scan",
    "theory.shell": "theory.certificates.shell",
    "theory.fixed_point": "theory.certificates.fixed_point",
    "theory.kernels": "theory._kernel",
    "theory.tolerances": "theory.testing.tolerances",
    "theory.regimes": "theory.testing.regimes",
    "theory.strategies": "theory.testing.strategies",
    "theory.diffcheck": "theory.testing.diffcheck",
    "theory.statistics": "theory.testing.statistics",
    "theory.profiles": "theory.testing.profiles",
    "theory.scale": "theory.experiments.scale",
    "theory.figure1": "theory.experiments.figure1",
    "theory.calibration": "theory.experiments.calibration",
    "theory.findings": "theory.experiments.findings",
    "theory.threshold": "theory.experiments.threshold_sweep",
    "theory.claims": "theory.report.claims",
    "theory.report_plugin": "theory.report.plugin",
}

MOVED_NAMES = {
    "theory.bounds": {
        "UniquenessCertificate": "theory.certificates.uniqueness",
        "uniqueness_certificate": "theory.certificates.uniqueness",
        "contraction_tau_eps": "theory.certificates.uniqueness",
        "TAU_BISECTION_RTOL": "theory.certificates.uniqueness",
        "TAU_EPS_CAP_SCALE": "theory.certificates.uniqueness",
        "TAU_GIVE_UP_RATIO": "theory.certificates.uniqueness",
        "certified_tau_eps": "theory.certificates.tau",
    },
}


def forward(module_name):
    """A module ``__getattr__`` that imports the names moved out of ``module_name`` on first access."""
    moved = MOVED_NAMES[module_name]

    def __getattr__(name):
        if name in moved:
            return getattr(importlib.import_module(moved[name]), name)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass  # the target module is already executed

    def get_code(self, fullname):
        # ``python -m old.name``: run the new module as __main__.
        return compile(f"import runpy\nrunpy.run_module({self.target!r}, run_name='__main__', alter_sys=True)\n",
                       f"<alias of {self.target}>", "exec")


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = MOVED_MODULES.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(new))


def install():
    """Add the alias finder to :data:`sys.meta_path` (once)."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.append(_AliasFinder())
