"""The suite's Hypothesis profiles and pytest settings, shared by the checkout and the installed package.

The profile is chosen by the ``HYPOTHESIS_PROFILE`` environment variable; when
it is unset, ``ci`` is used if the ``CI`` variable is set (as on CI), else ``dev``.

``dev``       fast feedback while editing (the default of ``pytest``).
``report``    the default of the claims report (``python -m theory``): more
              examples than ``dev``, ``print_blob``, sized so that the report
              finishes in about 5 minutes on 2 cores.
``ci``        derandomized (the same examples every run, so CI is reproducible),
              ``print_blob`` so a failure prints a replayable blob; sized so
              the whole suite stays well under 10 minutes on 2 cores.
``thorough``  200 examples per property (3.3 times ``ci``), for release checks
              and the seed sweep (``python reliability/seed_sweep.py``: 20 seeds,
              4000 draws per property in all).
``mutation``  for ``mutmut run`` (MUTATION.md; selected by ``[tool.mutmut]`` in
              pyproject.toml): derandomized, so every mutant meets the same
              examples, no database, so a mutant's counterexamples never reach
              the real example database; few examples, as it runs once per mutant.

The example database. Every randomized profile (``dev``, ``report``,
``thorough``) saves each counterexample Hypothesis finds in a
:class:`~hypothesis.database.DirectoryBasedExampleDatabase` at
``.hypothesis/examples`` in the source tree the checks belong to (its root holds
``pyproject.toml``), in the working directory for the checks installed with the
package, or at ``$THEORY_EXAMPLE_DB`` (a folder, or a Redis server shared by
several machines: :mod:`theory.testing.example_database`), and replays the saved ones first on every later run. ``ci`` is derandomized and
Hypothesis then uses no database at all (``derandomize=True`` implies
``database=None``): its regression guard is determinism, and counterexamples that
matter are pinned with ``@example``.

No profile has a deadline: speed is measured by the benchmarks, never by a
timed test (a deadline would make a slow machine fail a correct property).

:data:`PYTEST_INI` holds the pytest settings of the suite (strict markers and
config, strict xfails, warnings as errors, the markers): ``pyproject.toml``
carries the same for ``pytest`` in the checkout (a check keeps the two equal),
and ``python -m theory`` writes them into the configuration it passes to pytest,
so that the checks installed with the package run under the same rules.

This module imports Hypothesis but neither numpy nor pytest: ``conftest.py`` imports
it before numpy, so that the BLAS thread pin (:data:`BLAS_THREAD_VARIABLES`) takes effect.
"""

from __future__ import annotations

import os
from pathlib import Path

from theory.testing.example_database import EXAMPLE_DB_ENV, example_database, example_database_path

__all__ = ["EXAMPLE_DB_ENV", "example_database_path", "BLAS_THREAD_VARIABLES", "MARKERS", "PROFILES", "PYTEST_INI", "example_database_root",
           "load_profile", "pin_blas_threads", "pytest_ini_text", "selected_profile"]

#: One BLAS thread per process. The checks multiply small matrices (m x d, m <= ~400),
#: where threading gains nothing; with pytest-xdist, N workers x N BLAS threads on N
#: cores spin against each other and the section 5.1 checks ran 20-30 times slower
#: (measured on 2 cores). Must be set before numpy is imported (OpenBLAS reads it then).
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

#: Examples per property of each profile.
PROFILES = {"dev": 25, "report": 40, "ci": 60, "thorough": 200, "mutation": 10}

#: The suite's markers (``--strict-markers`` rejects any other).
MARKERS = {
    "negative_control": "a check that must find a counterexample (shows that its positive property can fail)",
    "long_running": "one of the slowest checks (BENCHMARKS.md); scheduled first, so that pytest-xdist "
                    "does not start it last",
}

#: The pytest settings of the suite, as ini values.
PYTEST_INI = {
    "addopts": "--strict-markers --strict-config -ra",
    "xfail_strict": "true",
    "filterwarnings": ["error"],
    "markers": [f"{name}: {text}" for name, text in MARKERS.items()],
}


_PINNED_BEFORE_NUMPY = []


def pin_blas_threads(environ=os.environ) -> bool:
    """Set each of :data:`BLAS_THREAD_VARIABLES` to 1 unless already set.

    Returns whether the first call of this process came before numpy was imported
    (only then does the pin reach OpenBLAS).
    """
    import sys

    if not _PINNED_BEFORE_NUMPY:
        _PINNED_BEFORE_NUMPY.append("numpy" not in sys.modules)
    for variable in BLAS_THREAD_VARIABLES:
        environ.setdefault(variable, "1")
    return _PINNED_BEFORE_NUMPY[0]


def selected_profile(environ=os.environ) -> str:
    """``$HYPOTHESIS_PROFILE``, else ``ci`` when ``$CI`` is set, else ``dev``."""
    return environ.get("HYPOTHESIS_PROFILE") or ("ci" if environ.get("CI") else "dev")


def example_database_root(checks_dir) -> Path:
    """Where ``.hypothesis/examples`` goes for the checks in ``checks_dir``.

    The source tree's root (the parent of ``checks/`` when it holds ``pyproject.toml``),
    whatever the working directory; for checks installed with the package, the
    working directory (never site-packages).
    """
    parent = Path(checks_dir).resolve().parent
    return parent if (parent / "pyproject.toml").is_file() else Path.cwd()


def load_profile(checks_dir, environ=os.environ) -> str:
    """Register the profiles with the example database of ``checks_dir`` and load the selected one; return its name.

    Every profile derives from Hypothesis's own "default" profile, never from whatever
    profile is loaded when this runs: Hypothesis loads its built-in "ci" profile
    (derandomize=True, database=None) when it detects a CI environment (``CI``,
    ``GITHUB_ACTIONS``, ...), and a profile registered without a parent inherits from
    it. Without the explicit parent (and derandomize=False), ``report`` and
    ``thorough`` were silently derandomized on CI.
    """
    from hypothesis import HealthCheck, settings

    database = example_database(example_database_root(checks_dir), environ)
    common = dict(parent=settings.get_profile("default"), deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])
    randomized = dict(common, derandomize=False, database=database)
    n = PROFILES
    settings.register_profile("dev", max_examples=n["dev"], **randomized)
    settings.register_profile("report", max_examples=n["report"], print_blob=True, **randomized)
    settings.register_profile("ci", max_examples=n["ci"], derandomize=True, database=None, print_blob=True, **common)
    settings.register_profile("thorough", max_examples=n["thorough"], print_blob=True, **randomized)
    settings.register_profile("mutation", max_examples=n["mutation"], derandomize=True, database=None, **common)
    name = selected_profile(environ)
    settings.load_profile(name)
    return name


def pytest_ini_text() -> str:
    """:data:`PYTEST_INI` as the text of a ``pytest.ini``."""
    lines = ["[pytest]"]
    for key, value in PYTEST_INI.items():
        if isinstance(value, list):
            lines.append(f"{key} =")
            lines += [f"    {item}" for item in value]
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"
