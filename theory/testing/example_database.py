"""Hypothesis's example database of the randomized profiles, chosen by ``$THEORY_EXAMPLE_DB``.

``THEORY_EXAMPLE_DB`` unset
    a :class:`~hypothesis.database.DirectoryBasedExampleDatabase` at
    ``<root>/.hypothesis/examples`` (:func:`theory.testing.profiles.example_database_path`).
``THEORY_EXAMPLE_DB=/some/folder``
    the same kind of database in that folder.
``THEORY_EXAMPLE_DB=redis://host:port/db``
    :class:`hypothesis.extra.redis.RedisExampleDatabase` on that server (the
    optional extra ``redis``), shared by every machine that points at it: a
    counterexample found by one is replayed first by all of them.

``THEORY_SHARED_EXAMPLE_DB=redis://host:port/db`` adds Hypothesis's recipe for
developers' machines: the local database as above, and the shared one read-only
behind it (``MultiplexedDatabase(local, ReadOnlyDatabase(shared))``), so a
developer replays what the shared sweep found without writing the examples of
their own unfinished edits into it.

The selection reads the environment and builds the database only; it does not
connect. ``redis-py`` connects on the first command, so an unreachable server
fails the first test that reads the database, with redis's own error.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["EXAMPLE_DB_ENV", "SHARED_EXAMPLE_DB_ENV", "REDIS_SCHEMES", "REDIS_KEY_PREFIX", "example_database",
           "example_database_path", "describe_database"]

#: Environment variable that moves Hypothesis's example database (a folder or a Redis URL).
EXAMPLE_DB_ENV = "THEORY_EXAMPLE_DB"

#: Environment variable of the read-only shared database beside the local one.
SHARED_EXAMPLE_DB_ENV = "THEORY_SHARED_EXAMPLE_DB"
#: URL schemes that select a Redis server (redis-py's ``Redis.from_url``: plain, TLS, Unix socket).
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
#: Key prefix of this project's examples on a shared server (other projects may share it).
REDIS_KEY_PREFIX = b"first-order-adversaries:hypothesis-example:"


def example_database_path(root=".", environ=os.environ) -> Path:
    """The folder of the local example database: ``$THEORY_EXAMPLE_DB``, else ``<root>/.hypothesis/examples``.

    ``conftest.py`` gives every randomized profile a database there (``root`` = the
    repository), so a counterexample found once is replayed first on every later run.
    Keep the folder between CI runs to keep that memory (docs/profiles.md, "The
    example database"). When ``$THEORY_EXAMPLE_DB`` is a Redis URL there is no local
    folder, and this raises ValueError naming the variable.
    """
    value = environ.get(EXAMPLE_DB_ENV)
    if value and _is_redis(value):
        raise ValueError(f"{EXAMPLE_DB_ENV} is a Redis URL, not a folder: {value!r}")
    return Path(value) if value else Path(root) / ".hypothesis" / "examples"


def _redis_database(url, name):
    try:
        import redis
        from hypothesis.extra.redis import RedisExampleDatabase
    except ImportError as error:  # pragma: no cover - depends on the installed extras
        raise ImportError(f"{name}={url!r} needs the optional extra 'redis' "
                          f"(pip install -e \".[redis]\"): {error}") from error
    return RedisExampleDatabase(redis.Redis.from_url(url), key_prefix=REDIS_KEY_PREFIX)


def _is_redis(value):
    return value.startswith(REDIS_SCHEMES)


def example_database(root=".", environ=os.environ):
    """The database the randomized profiles use (module docstring).

    Parameters
    ----------
    root : path
        Where ``.hypothesis/examples`` goes when ``$THEORY_EXAMPLE_DB`` is unset.
    environ : mapping
        The environment to read (default: the process's).

    Returns
    -------
    hypothesis.database.ExampleDatabase

    Raises
    ------
    ValueError
        ``$THEORY_SHARED_EXAMPLE_DB`` set to something other than a Redis URL.
    ImportError
        A Redis URL without the extra ``redis`` installed.
    """
    from hypothesis.database import DirectoryBasedExampleDatabase, MultiplexedDatabase, ReadOnlyDatabase

    value = environ.get(EXAMPLE_DB_ENV) or ""
    if _is_redis(value):
        local = _redis_database(value, EXAMPLE_DB_ENV)
    else:
        local = DirectoryBasedExampleDatabase(str(example_database_path(root, environ)))
    shared = environ.get(SHARED_EXAMPLE_DB_ENV) or ""
    if not shared:
        return local
    if not _is_redis(shared):
        raise ValueError(f"{SHARED_EXAMPLE_DB_ENV} must be a Redis URL ({', '.join(REDIS_SCHEMES)}...), got {shared!r}")
    return MultiplexedDatabase(local, ReadOnlyDatabase(_redis_database(shared, SHARED_EXAMPLE_DB_ENV)))


def _redact(url):
    """The URL without its password (``redis://user:secret@host`` → ``redis://user:***@host``)."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"


def describe_database(database, environ=os.environ):
    """A one-line description of ``database`` for the report: its folder, its Redis URL (no password), or both.

    ``None`` for no database (the derandomized profiles).
    """
    if database is None:
        return None
    path = getattr(database, "path", None)
    local = str(path) if path is not None else _redact(environ.get(EXAMPLE_DB_ENV) or "") or repr(database)
    shared = environ.get(SHARED_EXAMPLE_DB_ENV)
    if shared and type(database).__name__ == "MultiplexedDatabase":
        inner = getattr(database, "_wrapped", ())
        path = getattr(inner[0], "path", None) if inner else None
        local = str(path) if path is not None else _redact(environ.get(EXAMPLE_DB_ENV) or "")
        return f"{local} + {_redact(shared)} (read-only)"
    return local
