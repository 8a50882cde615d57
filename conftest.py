"""Hypothesis profiles and shared fixtures for the checks.

The profile is chosen by the ``HYPOTHESIS_PROFILE`` environment variable; when
it is unset, ``ci`` is used if the ``CI`` variable is set (as on CI), else ``dev``.

``dev``       fast feedback while editing (the default).
``ci``        derandomized (the same examples every run, so CI is reproducible),
              ``print_blob`` so a failure prints a replayable blob; sized so
              the whole suite stays well under 10 minutes on 2 cores.
``thorough``  thousands of examples per property, for release checks and
              seed sweeps (``pytest --hypothesis-seed=N``).

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

from hypothesis import HealthCheck, settings  # noqa: E402

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])

settings.register_profile("dev", max_examples=25, **_COMMON)
settings.register_profile("ci", max_examples=60, derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("thorough", max_examples=2000, print_blob=True, **_COMMON)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)


def pytest_report_header(config):
    blas = "1 BLAS thread" if _BLAS_PINNED else "numpy imported before conftest: BLAS threads not pinned"
    return f"hypothesis profile: {PROFILE} (set HYPOTHESIS_PROFILE=dev|ci|thorough); {blas}"
