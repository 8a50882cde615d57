"""mutmut's per-test record of the mutated functions, extended to the subprocesses a check starts.

mutmut runs a mutant only against the checks that called the mutated function, and it learns
which those are in its *stats* pass: every mutated function records, in the pytest process, that
it was called during the current test. A check that runs the package in a subprocess (the claims
report runs pytest on the checks; the report's checks run ``python -m theory``) calls its
functions in another process, where mutmut 3.8's record cannot work (it looks for its
configuration in the subprocess's working directory and raises), so the check fails in the stats
pass, and the functions it covers get no checks at all ("no tests"). Under a mutant the
subprocess runs the mutated code as it should: it inherits ``MUTANT_UNDER_TEST``.

:func:`installed` closes the gap for the length of a mutmut run, without touching ``theory/`` or
``checks/``:

* a ``.pth`` file in this interpreter's site-packages runs :func:`record_in_child` at the start
  of every Python process of this environment that has ``THEORY_MUTATION_CHILD_STATS`` set; in
  the stats pass it makes the mutated functions record their names in a set, which the process
  writes to a file of that folder when it exits;
* the pytest process of the stats pass gets a plugin (:class:`MergeChildRecords`) that, before
  mutmut closes a test's record, adds the names the test's subprocesses wrote.

The ``.pth`` file is removed when the run ends (a run killed outright leaves it: it does nothing
without ``THEORY_MUTATION_CHILD_STATS`` set, and the next run replaces it and removes it). A subprocess that ends without running its exit
handlers (killed, ``os._exit``) leaves no record: its functions stay without checks, which only
under-counts what the checks cover.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

#: The folder the subprocesses write their records to (its presence switches the hook on).
CHILD_STATS_ENV = "THEORY_MUTATION_CHILD_STATS"
#: The name of the ``.pth`` file put in site-packages for the run.
PTH_NAME = "theory_mutation_children.pth"


def _pth_line(hook):
    return (f"import os; os.environ.get({CHILD_STATS_ENV!r}) and "
            f"__import__('runpy').run_path({str(hook)!r}, run_name='__mutation_child__')\n")


def record_in_child():
    """In a subprocess of the stats pass: record the mutated functions called, write them at exit."""
    if os.environ.get("MUTANT_UNDER_TEST") != "stats":
        return
    import atexit

    import mutmut.mutation.trampoline as trampoline

    called = set()

    def record(name, caller=None):
        called.add(name)

    def write():
        if called:
            folder = Path(os.environ[CHILD_STATS_ENV])
            with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".part", delete=False) as f:
                json.dump(sorted(called), f)
            os.replace(f.name, f.name[:-len(".part")] + ".json")

    trampoline.record_trampoline_hit = record
    atexit.register(write)


class MergeChildRecords:
    """pytest plugin of the stats pass: a test's subprocess records join mutmut's record of the test."""

    def __init__(self, folder):
        self.folder = Path(folder)

    def _merge(self):
        from mutmut.state import state

        for path in sorted(self.folder.glob("*.json")):
            state()._stats.update(json.loads(path.read_text(encoding="utf-8")))
            path.unlink()

    def pytest_runtest_setup(self, item):
        for path in self.folder.glob("*.json"):  # left by an earlier test's stray subprocess
            path.unlink()

    @pytest.hookimpl(tryfirst=True)  # before mutmut's own teardown hook closes the test's record
    def pytest_runtest_teardown(self, item, nextitem):
        self._merge()


@contextlib.contextmanager
def installed():
    """For the duration of the block: the subprocess hook in site-packages and the merge in mutmut's stats pass."""
    from mutmut.runners import harness

    site = Path(sysconfig.get_paths()["purelib"])
    pth = site / PTH_NAME
    execute = harness.PytestRunner.execute_pytest
    with tempfile.TemporaryDirectory(prefix="mutation-children-") as folder:
        merge = MergeChildRecords(folder)

        def execute_pytest(self, params, **kwargs):
            if os.environ.get("MUTANT_UNDER_TEST") == "stats":
                kwargs["plugins"] = [merge, *kwargs.get("plugins", [])]
            return execute(self, params, **kwargs)

        old = os.environ.get(CHILD_STATS_ENV)
        os.environ[CHILD_STATS_ENV] = folder
        pth.write_text(_pth_line(Path(__file__).resolve()), encoding="utf-8")
        harness.PytestRunner.execute_pytest = execute_pytest
        try:
            yield folder
        finally:
            harness.PytestRunner.execute_pytest = execute
            pth.unlink(missing_ok=True)
            if old is None:
                os.environ.pop(CHILD_STATS_ENV, None)
            else:
                os.environ[CHILD_STATS_ENV] = old


if __name__ == "__mutation_child__":
    record_in_child()
elif __name__ == "__main__":
    sys.exit("run through reliability/mutation_sample.py (--run), which installs this for mutmut's run")
