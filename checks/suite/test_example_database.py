"""The example database: ``$THEORY_EXAMPLE_DB`` selects a folder or a Redis server, shared across machines.

Selection (no server needed: redis-py connects on the first command): unset, a
folder, a Redis URL, and the developers' recipe (``$THEORY_SHARED_EXAMPLE_DB``: the
local database with the shared one read-only behind it); bad values raise naming
the variable.

Against a real ``redis-server`` that the fixture starts on a free loopback port and
stops (``.ci/run`` installs it from the system's packages; skipped where neither the
server nor the extra ``redis`` is installed, and a failure on CI, where both must be):

* two processes write into the shared database at once, and every example of both is there;
* a counterexample one process finds replays first in another process;
* a developer's machine with the recipe replays the shared counterexample first
  and writes nothing into the shared database.

Negative control: a second process with another key prefix (a database that is
not shared) does not start from the first one's counterexample.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from theory.testing.example_database import (
    EXAMPLE_DB_ENV, REDIS_KEY_PREFIX, SHARED_EXAMPLE_DB_ENV, describe_database, example_database,
    example_database_path,
)

ROOT = Path(__file__).resolve().parents[2]

# --- selection ------------------------------------------------------------------------------


def test_without_the_variable_the_database_is_the_folder_in_the_root(tmp_path):
    db = example_database(tmp_path, environ={})
    assert type(db).__name__ == "DirectoryBasedExampleDatabase"
    assert Path(db.path) == tmp_path / ".hypothesis" / "examples"
    assert describe_database(db, environ={}) == str(tmp_path / ".hypothesis" / "examples")


def test_a_folder_in_the_variable_moves_the_database(tmp_path):
    env = {EXAMPLE_DB_ENV: str(tmp_path / "elsewhere")}
    db = example_database(tmp_path, environ=env)
    assert Path(db.path) == tmp_path / "elsewhere" == example_database_path(tmp_path, env)


def test_a_redis_url_selects_the_redis_database_with_the_projects_prefix(tmp_path):
    pytest.importorskip("redis")
    env = {EXAMPLE_DB_ENV: "redis://user:secret@127.0.0.1:1/3"}
    db = example_database(tmp_path, environ=env)
    assert type(db).__name__ == "RedisExampleDatabase"
    assert db._prefix == REDIS_KEY_PREFIX
    assert db.redis.connection_pool.connection_kwargs["db"] == 3
    assert describe_database(db, environ=env) == "redis://user:***@127.0.0.1:1/3"  # no password in the report
    with pytest.raises(ValueError, match=EXAMPLE_DB_ENV):
        example_database_path(tmp_path, env)


def test_the_shared_variable_puts_a_read_only_redis_database_behind_the_local_one(tmp_path):
    pytest.importorskip("redis")
    env = {SHARED_EXAMPLE_DB_ENV: "redis://127.0.0.1:1/0"}
    db = example_database(tmp_path, environ=env)
    local, shared = db._wrapped
    assert type(db).__name__ == "MultiplexedDatabase"
    assert type(local).__name__ == "DirectoryBasedExampleDatabase"
    assert type(shared).__name__ == "ReadOnlyDatabase" and type(shared._wrapped).__name__ == "RedisExampleDatabase"
    assert describe_database(db, environ=env).endswith("+ redis://127.0.0.1:1/0 (read-only)")


def test_a_shared_database_that_is_not_a_redis_url_is_refused(tmp_path):
    with pytest.raises(ValueError, match=SHARED_EXAMPLE_DB_ENV):
        example_database(tmp_path, environ={SHARED_EXAMPLE_DB_ENV: str(tmp_path)})


# --- a real server --------------------------------------------------------------------------

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    """A fresh ``redis-server`` on a free loopback port, no persistence; stopped after the test."""
    server = shutil.which("redis-server")
    missing = [name for name, ok in (("redis-server", server), ("the extra 'redis'", _has_redis())) if not ok]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the shared-database checks: {', '.join(missing)} not installed")
        pytest.skip(f"needs {' and '.join(missing)}")
    import redis

    port = _free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not answer within 10 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _has_redis():
    import importlib.util

    return importlib.util.find_spec("redis") is not None


#: A process of a machine: the database that ``$THEORY_EXAMPLE_DB`` (and ``$THEORY_SHARED_EXAMPLE_DB``)
#: select, then either many writes or one run of a failing property; prints what it saw, as JSON.
WORKER = textwrap.dedent('''
    import json, os, sys
    sys.path.insert(0, sys.argv[1])
    from hypothesis import given, settings, strategies as st, Phase
    from theory.testing import example_database as E
    db = E.example_database(sys.argv[2])
    if len(sys.argv) > 4 and sys.argv[4]:
        db._prefix = sys.argv[4].encode()  # the control: a database that is not shared
    if sys.argv[3].startswith("write:"):
        tag = sys.argv[3][6:]
        for i in range(200):
            db.save(b"key-%d" % (i % 5), f"{tag}-{i}".encode())
        print(json.dumps({"done": tag}))
        sys.exit(0)
    seen = []
    @settings(database=db, derandomize=False, max_examples=200, deadline=None,
              phases=[Phase.reuse, Phase.generate, Phase.shrink])
    @given(st.integers(0, 10**6))
    def property_that_fails_from_1000(n):
        seen.append(n)
        assert n < 1000
    try:
        property_that_fails_from_1000()
        failed = False
    except AssertionError:
        failed = True
    print(json.dumps({"first": seen[0], "failed": failed}))
''')


def _worker(url, mode, tmp, *, local=None, prefix="", shared=False, wait=True):
    env = {k: v for k, v in os.environ.items() if k not in (EXAMPLE_DB_ENV, SHARED_EXAMPLE_DB_ENV)}
    env.pop("HYPOTHESIS_PROFILE", None)
    if shared:
        env[EXAMPLE_DB_ENV] = str(local)
        env[SHARED_EXAMPLE_DB_ENV] = url
    else:
        env[EXAMPLE_DB_ENV] = url
    proc = subprocess.Popen([sys.executable, "-c", WORKER, str(ROOT), str(tmp), mode, prefix], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc if not wait else _result(proc)


def _result(proc):
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out)


def _keys(url):
    import redis

    return sorted(redis.Redis.from_url(url).keys(REDIS_KEY_PREFIX + b"*"))


def test_two_processes_write_into_the_shared_database_at_once_and_nothing_is_lost(redis_url, tmp_path):
    procs = [_worker(redis_url, f"write:{tag}", tmp_path, wait=False) for tag in ("a", "b")]
    assert [_result(p) for p in procs] == [{"done": "a"}, {"done": "b"}]
    db = example_database(tmp_path, environ={EXAMPLE_DB_ENV: redis_url})
    for k in range(5):
        stored = {v.decode() for v in db.fetch(b"key-%d" % k)}
        assert stored == {f"{tag}-{i}" for tag in "ab" for i in range(k, 200, 5)}


def test_a_counterexample_found_by_one_process_replays_first_in_another(redis_url, tmp_path):
    first = _worker(redis_url, "run", tmp_path / "one")
    assert first["failed"] and first["first"] != 1000
    assert _keys(redis_url), "the first process saved nothing"
    second = _worker(redis_url, "run", tmp_path / "two")
    assert second == {"first": 1000, "failed": True}


def test_a_developers_machine_replays_the_shared_counterexample_and_writes_nothing_into_it(redis_url, tmp_path):
    _worker(redis_url, "run", tmp_path / "sweep")
    before = {k: sorted(_members(redis_url, k)) for k in _keys(redis_url)}
    dev = _worker(redis_url, "run", tmp_path / "dev", local=tmp_path / "dev-db", shared=True)
    assert dev == {"first": 1000, "failed": True}
    assert {k: sorted(_members(redis_url, k)) for k in _keys(redis_url)} == before
    assert any((tmp_path / "dev-db").rglob("*")), "the local database kept nothing"


def _members(url, key):
    import redis

    return redis.Redis.from_url(url).smembers(key)


@pytest.mark.negative_control
def test_control_a_process_with_another_key_prefix_does_not_start_from_the_counterexample(redis_url, tmp_path):
    _worker(redis_url, "run", tmp_path / "one")
    other = _worker(redis_url, "run", tmp_path / "two", prefix="not-shared:")
    assert other["failed"] and other["first"] != 1000


@pytest.mark.parametrize("url, shown", [
    ("redis://user:secret@host:6379/0", "redis://user:***@host:6379/0"),
    ("redis://user:pa:ss@host:1/2", "redis://user:***@host:1/2"),  # a colon inside the password
    ("redis://us@er:secret@host:1/2", "redis://us@er:***@host:1/2"),  # the host follows the last @
    ("redis://host:6379/0", "redis://host:6379/0"), ("redis://user@host:1/0", "redis://user@host:1/0"),
])
def test_a_redis_url_is_shown_without_its_password(url, shown):
    from theory.testing.example_database import _redact

    assert _redact(url) == shown
