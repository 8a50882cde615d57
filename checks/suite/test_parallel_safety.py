"""Parallel safety: the example database stays consistent when several workers write at once.

With pytest-xdist every worker process saves counterexamples into the one
example database (``conftest.py``: a Hypothesis
:class:`~hypothesis.database.DirectoryBasedExampleDatabase`, one file per value,
written to a temporary file and renamed into place). Here several processes
start together (a barrier) and save, read and delete values under shared and
private keys at once; afterwards every key holds exactly the values that were
saved and not deleted, and every file reads back whole.

Negative control: a database that keeps all values in one file and saves by
read-modify-write (the obvious design) loses the values of the writers that
read before another wrote, and its readers see torn files; the same check
catches it.

(The claims report under several xdist workers is checked in
``checks/suite/test_report_workers.py``: it equals the report of a single process.)
"""

import json
import multiprocessing
from pathlib import Path

import pytest
from hypothesis.database import DirectoryBasedExampleDatabase

#: Writer processes started together, and values each saves per key.
WRITERS = 4
VALUES_PER_KEY = 25
SHARED_KEYS = (b"shared-a", b"shared-b")


class _ReadModifyWriteDatabase:
    """Injected bug: all values in one JSON file, saved by read-modify-write (lost updates)."""

    def __init__(self, path, barrier=None):
        self.path = Path(path) / "all.json"
        self.barrier = barrier

    def _load(self):
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def save(self, key, value):
        data = self._load()
        if self.barrier is not None:     # every writer has read before any writes: the race, made certain
            self.barrier.wait()
            self.barrier = None
        data.setdefault(key.hex(), []).append(value.hex())
        self.path.write_text(json.dumps(data))

    def delete(self, key, value):
        data = self._load()
        data[key.hex()] = [v for v in data.get(key.hex(), []) if v != value.hex()]
        self.path.write_text(json.dumps(data))

    def fetch(self, key):
        return [bytes.fromhex(v) for v in self._load().get(key.hex(), [])]


def _database(kind, path, barrier):
    if kind == "directory":
        return DirectoryBasedExampleDatabase(str(path))
    return _ReadModifyWriteDatabase(path, barrier)


def _writer(kind, path, index, barrier):
    """One worker: saves values under the shared keys and its own key, deletes some, reads as it goes."""
    db = _database(kind, path, barrier if kind != "directory" else None)
    if kind == "directory":
        barrier.wait()
    own = f"own-{index}".encode()
    for n in range(VALUES_PER_KEY):
        for key in SHARED_KEYS + (own,):
            db.save(key, f"{index}:{n}".encode())
        list(db.fetch(SHARED_KEYS[0]))   # readers run while others write
        if n % 5 == 4:
            db.delete(own, f"{index}:{n}".encode())


def expected_contents():
    """Key -> the set of values that must remain after every writer finished."""
    expected = {key: {f"{i}:{n}".encode() for i in range(WRITERS) for n in range(VALUES_PER_KEY)}
                for key in SHARED_KEYS}
    for i in range(WRITERS):
        expected[f"own-{i}".encode()] = {f"{i}:{n}".encode() for n in range(VALUES_PER_KEY) if n % 5 != 4}
    return expected


def concurrent_writes_are_kept(kind, path):
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WRITERS)
    procs = [ctx.Process(target=_writer, args=(kind, path, i, barrier)) for i in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    if any(p.exitcode != 0 for p in procs):
        return False          # a writer failed: it read a torn file, or hung
    db = _database(kind, path, None)
    found = {key: set(db.fetch(key)) for key in expected_contents()}
    missing = {key: len(values - found[key]) for key, values in expected_contents().items() if values - found[key]}
    extra = {key: len(found[key] - values) for key, values in expected_contents().items() if found[key] - values}
    return not missing and not extra


def test_example_database_keeps_every_value_saved_by_concurrent_workers(tmp_path):
    assert concurrent_writes_are_kept("directory", tmp_path / "db")


@pytest.mark.negative_control
def test_control_a_read_modify_write_database_loses_values(tmp_path):
    (tmp_path / "db").mkdir()
    assert not concurrent_writes_are_kept("read-modify-write", tmp_path / "db")
