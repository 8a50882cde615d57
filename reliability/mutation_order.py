"""A mutant's checks run fastest first, so that the first failing check ends the run early.

mutmut runs a mutant's checks with ``pytest -x`` in the order of a set (arbitrary). A mutant that
a quick check kills can then sit behind a slow one that happens to run first, such as the
real-data checks that train a network from scratch in a mutant's fresh process, where the clean
run had a trained one already: the mutant's run exceeds its time limit and counts as a timeout,
though a check would have failed it in seconds. Ordering by the durations of mutmut's clean run
changes no outcome, only which failing check is reached first: a mutant is still killed exactly
when one of its checks fails, and a surviving mutant still runs all of them.

:func:`installed` adds the ordering to every pytest run of mutmut other than its stats pass
(which records the durations), for the length of a mutmut run.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys


class FastestFirst:
    """pytest plugin: the collected checks in the order of ``durations`` (unknown ones last, order kept)."""

    def __init__(self, durations):
        self.durations = durations

    def pytest_collection_modifyitems(self, session, config, items):
        items.sort(key=lambda item: self.durations.get(item.nodeid, math.inf))


@contextlib.contextmanager
def installed():
    """For the duration of the block: mutmut's mutant runs take their checks fastest first."""
    from mutmut.runners import harness
    from mutmut.state import state

    execute = harness.PytestRunner.execute_pytest

    def execute_pytest(self, params, **kwargs):
        if os.environ.get("MUTANT_UNDER_TEST") != "stats":
            kwargs["plugins"] = [FastestFirst(state().duration_by_test), *kwargs.get("plugins", [])]
        return execute(self, params, **kwargs)

    harness.PytestRunner.execute_pytest = execute_pytest
    try:
        yield
    finally:
        harness.PytestRunner.execute_pytest = execute


if __name__ == "__main__":
    sys.exit("run through reliability/mutation_sample.py (--run), which installs this for mutmut's run")
