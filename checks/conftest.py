"""The suite's pytest hooks and Hypothesis profile; travels with the checks (also when installed with the package).

Profiles, the example database and the pytest settings are defined in
:mod:`theory.testing.profiles`; this file loads them for the checks in this folder.
"""

import os

import pytest

from theory.testing.profiles import MARKERS, load_profile, pin_blas_threads

# Before numpy: the repository's conftest.py (in a checkout) or the first import here.
_BLAS_PINNED = pin_blas_threads()
PROFILE = load_profile(os.path.dirname(os.path.abspath(__file__)))


def pytest_configure(config):
    # The configuration (pyproject.toml, or the one python -m theory writes) registers
    # them; this covers the installed checks run under any other configuration.
    known = {line.split(":", 1)[0].strip() for line in config.getini("markers")}
    for name, text in MARKERS.items():
        if name not in known:
            config.addinivalue_line("markers", f"{name}: {text}")


def pytest_report_header(config):
    blas = "1 BLAS thread" if _BLAS_PINNED else "numpy imported before conftest: BLAS threads not pinned"
    return f"hypothesis profile: {PROFILE} (set HYPOTHESIS_PROFILE=dev|report|ci|thorough); {blas}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark every ``test_control_*`` as ``negative_control``; run the ``long_running`` checks first.

    The name is the convention (:func:`theory.report.claims.test_kind`): a test named
    ``test_control_*`` is a negative control whether or not it carries the marker,
    so ``-m negative_control`` (the seed sweep, the mutation run) selects exactly
    the controls. ``tryfirst``: before pytest's own ``-m`` deselection reads the markers.

    The sort is stable (the rest keep their order). pytest-xdist hands tests to idle
    workers in collection order; a long check collected last (the section 5.2 checks
    are) would run alone at the end while the other workers idle. Started first, it
    overlaps with everything else. Every worker sorts the same collection the same
    way, as xdist requires.
    """
    for item in items:
        if getattr(item, "originalname", item.name).startswith("test_control_"):
            item.add_marker(pytest.mark.negative_control)
    items.sort(key=lambda item: item.get_closest_marker("long_running") is None)
