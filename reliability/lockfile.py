"""Read the lock files of ``requirements/`` (stdlib only; shared by ``update_lock.py`` and ``drift.py``).

The locks are pip requirement files written by pip-tools' ``pip-compile --generate-hashes``
(``python reliability/update_lock.py`` regenerates them):

* ``requirements/dev.lock``: the project's ``[project] dependencies``, its ``dev`` extra and
  its build backend (``[build-system] requires``), every distribution pinned with ``==`` and
  the sha256 of each of its files;
* ``requirements/pip.lock``: pip itself, installed first by ``.ci/run``.

A requirement spans a line and its backslash continuations (``--hash=sha256:...``);
comments (``# via ...``) and option lines (``--index-url ...``) carry no pin.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "dev.lock"
PIP_LOCK = ROOT / "requirements" / "pip.lock"
LOCKS = (LOCK, PIP_LOCK)
#: The extras ``requirements/dev.lock`` pins besides the core (and what the drift watch installs unpinned).
LOCKED_EXTRAS = ("dev", "fast", "redis")

#: ``name[extras] <op> version ; marker`` at the start of a requirement (PEP 508, without URLs).
_REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*"
    r"(?:(?P<op>===|==|~=|!=|<=|>=|<|>)\s*(?P<version>[^\s;\\]+))?\s*(?:;(?P<marker>[^\\]*))?")
_HASH = re.compile(r"--hash[=\s]+(?P<hash>[A-Za-z0-9]+:[A-Fa-f0-9]+)")


class Pin(NamedTuple):
    """One requirement of a lock: its name as written, the operator and version, the hashes, the marker."""

    name: str
    operator: str
    version: str
    hashes: tuple[str, ...]
    marker: str = ""


def canonical_name(name):
    """The PEP 503 form of a distribution's name: ``Jsonschema_Specifications`` -> ``jsonschema-specifications``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def logical_lines(text):
    """The lines of a requirements file with backslash continuations joined and comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0] if not raw.lstrip().startswith("#") else ""
        line = line.rstrip()
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            lines.append(current.strip())
        current = ""
    if current.strip():
        lines.append(current.strip())
    return lines


def parse_lock(text):
    """``{canonical name: Pin}`` of every requirement in the text of a lock (option lines are skipped).

    A requirement without a version (``numpy``) gets operator and version ``""``: the check of
    the lock (``checks/suite/test_reliability_scripts.py``) reports it as not pinned.
    """
    pins = {}
    for line in logical_lines(text):
        if line.startswith("-"):  # --index-url, -r other.txt, -e ...: no pin
            continue
        match = _REQUIREMENT.match(line)
        if not match:
            raise ValueError(f"not a requirement line: {line[:200]!r}")
        pins[canonical_name(match["name"])] = Pin(
            name=match["name"], operator=match["op"] or "", version=match["version"] or "",
            hashes=tuple(found["hash"] for found in _HASH.finditer(line)),
            marker=(match["marker"] or "").split("--hash")[0].strip())
    return pins


def read_locks(paths=LOCKS):
    """The pins of every lock file that exists, merged (``{canonical name: Pin}``)."""
    pins = {}
    for path in paths:
        if Path(path).exists():
            pins.update(parse_lock(Path(path).read_text(encoding="utf-8")))
    return pins


def pinned_versions(pins):
    """``{canonical name: version}`` of the ``==`` pins."""
    return {name: pin.version for name, pin in pins.items() if pin.operator == "=="}


def changes(old, new):
    """Rows ``(name, old version, new version)`` of the packages whose pin differs (``""`` = absent), sorted."""
    return [(name, old.get(name, ""), new.get(name, ""))
            for name in sorted(set(old) | set(new)) if old.get(name, "") != new.get(name, "")]
