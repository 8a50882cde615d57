r"""The report's files: the schema of ``claims.json`` and its validation, the atomic write of a report folder.
"""


from __future__ import annotations

import enum
import json
import os
import shutil
import tempfile
from pathlib import Path

from theory.testing.profiles import EXAMPLE_DB_ENV, example_database_path


__all__ = [
    "SCHEMA_ID",
    "SCHEMA_PATH",
    "STATUSES",
    "Status",
    "EXAMPLE_DB_ENV",
    "example_database_path",
    "validate_report",
    "write_atomically",
]

#: Identifier of the ``claims.json`` format (bumped on incompatible changes).
SCHEMA_ID = "first-order-adversaries/claims-report/1"

#: The JSON schema of ``claims.json`` (shipped with the package).
SCHEMA_PATH = Path(__file__).with_name("claims.schema.json")

class Status(str, enum.Enum):
    """A claim's status in the report (the values are the strings of ``claims.json``)."""

    HOLDS = "holds"
    ADDED_HYPOTHESIS = "holds only with an added hypothesis"
    FAILS = "fails"
    NOT_RUN = "not run"


#: A claim's possible statuses, as written in ``claims.json``.
STATUSES = tuple(status.value for status in Status)

# ---------------------------------------------------------------------------- schema and files

def validate_report(report):
    """Validate a report against :data:`SCHEMA_PATH`; returns None, or a reason validation was skipped.

    Raises ``jsonschema.ValidationError`` when the report does not follow the schema.
    """
    try:
        import jsonschema
    except ImportError:
        return "jsonschema is not installed (it comes with the dev extra)"
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.validate(report, schema, cls=jsonschema.Draft202012Validator)
    return None


def write_atomically(out, build):
    """Build a report folder next to ``out`` and move it into place in one rename.

    ``build(tmp)`` writes the files into the temporary folder ``tmp``; if it
    raises (or the run is interrupted), the temporary folder is removed and a
    previous report at ``out`` is left untouched. A previous report is replaced
    only once the new one is complete.
    """
    if not callable(build):
        raise TypeError(f"build must be a callable build(tmp), got {type(build).__name__}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out must be a folder (or not exist yet), got the file {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-partial-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a report is an ordinary folder
    old = None
    try:
        result = build(tmp)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
            old.rmdir()
            out.rename(old)
        tmp.rename(out)
        return result
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            if out.exists():
                shutil.rmtree(old, ignore_errors=True)
            elif old.exists():  # the final rename failed: put the previous report back
                old.rename(out)
