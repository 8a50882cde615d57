"""Hypothesis profiles, the example database and shared fixtures for the checks.

The profile is chosen by the ``HYPOTHESIS_PROFILE`` environment variable; when
it is unset, ``ci`` is used if the ``CI`` variable is set (as on CI), else ``dev``.

``dev``       fast feedback while editing (the default of ``pytest``).
``report``    the default of the claims report (``python -m theory``): more
              examples than ``dev``, ``print_blob``, sized so that the report
              finishes in under 5 minutes on 2 cores.
``ci``        derandomized (the same examples every run, so CI is reproducible),
              ``print_blob`` so a failure prints a replayable blob; sized so
              the whole suite stays well under 10 minutes on 2 cores.
``thorough``  200 examples per property (3.3 times ``ci``), for release checks
              and the seed sweep (``python reliability/seed_sweep.py``: 20 seeds,
              4000 draws per property in all). It was 2000 until the sweep was
              built: one run then took about 5 hours on 2 cores (the 20 seeds
              about 4 days), so it was never run whole; 20 seeds of 200 draw
              more examples in all, and from 20 independent streams.
``mutation``  for ``mutmut run`` (MUTATION.md; selected by ``[tool.mutmut]`` in
              pyproject.toml): derandomized, so every mutant meets the same
              examples, no database, so a mutant's counterexamples never reach
              the real example database; few examples, as it runs once per mutant.

The example database. Every randomized profile (``dev``, ``report``,
``thorough``) saves each counterexample Hypothesis finds in a
:class:`~hypothesis.database.DirectoryBasedExampleDatabase` at
``.hypothesis/examples`` next to this file, or at ``$THEORY_EXAMPLE_DB``
(:func:`theory.report.example_database_path`), and replays the saved ones first on
every later run, whatever the working directory. ``ci`` is derandomized and
Hypothesis then uses no database at all (``derandomize=True`` implies
``database=None``): its regression guard is determinism, and counterexamples that
matter are pinned with ``@example`` (README, "The example database").

No profile has a deadline: speed is measured by the benchmarks, never by a
timed test (a deadline would make a slow machine fail a correct property).
"""

import os
import sys

# One BLAS thread per process. The checks multiply small matrices (m x d, m <= ~400),
# where threading gains nothing; with pytest-xdist, N workers x N BLAS threads on N
# cores spin against each other and the section 5.1 checks ran 20-30 times slower
# (measured on 2 cores). Set before numpy is imported so that OpenBLAS reads it;
# the workers inherit it.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
_BLAS_PINNED = "numpy" not in sys.modules

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis.database import DirectoryBasedExampleDatabase  # noqa: E402

from theory.report import example_database_path  # noqa: E402  (no numpy: keeps the BLAS pin)

EXAMPLE_DATABASE = DirectoryBasedExampleDatabase(
    str(example_database_path(os.path.dirname(os.path.abspath(__file__)))))

# Every profile derives from Hypothesis's own "default" profile, never from whatever
# profile is loaded when this file is imported: Hypothesis loads its built-in "ci"
# profile (derandomize=True, database=None) when it detects a CI environment
# (``CI``, ``GITHUB_ACTIONS``, ...), and a profile registered without a parent
# inherits from it. Without the explicit parent (and derandomize=False), ``report``
# and ``thorough`` were silently derandomized on CI: the report's example database
# was never used and ``--hypothesis-seed`` sweeps all drew the same examples (found
# by CI; checks/test_report_command.py::test_profiles_do_not_depend_on_the_ci_environment).
_BASE = settings.get_profile("default")
_COMMON = dict(parent=_BASE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_RANDOMIZED = dict(_COMMON, derandomize=False, database=EXAMPLE_DATABASE)

settings.register_profile("dev", max_examples=25, **_RANDOMIZED)
settings.register_profile("report", max_examples=40, print_blob=True, **_RANDOMIZED)
settings.register_profile("ci", max_examples=60, derandomize=True, database=None, print_blob=True, **_COMMON)
settings.register_profile("thorough", max_examples=200, print_blob=True, **_RANDOMIZED)
settings.register_profile("mutation", max_examples=10, derandomize=True, database=None, **_COMMON)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)


def pytest_report_header(config):
    blas = "1 BLAS thread" if _BLAS_PINNED else "numpy imported before conftest: BLAS threads not pinned"
    return f"hypothesis profile: {PROFILE} (set HYPOTHESIS_PROFILE=dev|report|ci|thorough); {blas}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark every ``test_control_*`` as ``negative_control``; run the ``long_running`` checks first.

    The name is the convention (:func:`theory.claims.test_kind`): a test named
    ``test_control_*`` is a negative control whether or not it carries the marker,
    so ``-m negative_control`` (the seed sweep, the mutation run) selects exactly
    the controls. ``tryfirst``: before pytest's own ``-m`` deselection reads the markers.

    The sort is stable (the rest keep their order). pytest-xdist hands tests to idle workers in collection order; a long check
    collected last (the section 5.2 checks are) would run alone at the end while
    the other workers idle. Started first, it overlaps with everything else.
    Every worker sorts the same collection the same way, as xdist requires.
    """
    for item in items:
        if getattr(item, "originalname", item.name).startswith("test_control_"):
            item.add_marker(pytest.mark.negative_control)
    items.sort(key=lambda item: item.get_closest_marker("long_running") is None)
