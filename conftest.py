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

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])

settings.register_profile("dev", max_examples=25, **_COMMON)
settings.register_profile("ci", max_examples=60, derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("thorough", max_examples=2000, print_blob=True, **_COMMON)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)


def pytest_report_header(config):
    return f"hypothesis profile: {PROFILE} (set HYPOTHESIS_PROFILE=dev|ci|thorough)"
