"""Regenerate CI's locks (``requirements/dev.lock``, ``requirements/pip.lock``) and print what changed.

Run from anywhere (stdlib only; needs the package index)::

    python reliability/update_lock.py                    # re-resolve, keeping every pin pyproject still allows
    python reliability/update_lock.py --upgrade          # the newest versions pyproject allows, everywhere
    python reliability/update_lock.py -P hypothesis      # only this package (and what it needs) to its newest
    python reliability/update_lock.py --dry-run --upgrade   # print what would change, write nothing

Why a lock: CI's verdict must change only when the code or the lock does. Hypothesis's
derandomized examples (the ``ci`` profile) change with its version, and, since 6.131, with the
constants in the code under test; numpy's and scipy's rounding change with theirs. So CI
installs exactly the pinned versions, with hashes (``.ci/run``), and the pins move only on
purpose, by this script, in a commit of their own; ``python reliability/drift.py`` shows what
the newest versions would do first.

Method: pip-tools' ``pip-compile`` (pinned below as :data:`PIP_TOOLS`), installed into a
throwaway virtual environment (or the one named by ``--tool-venv``), run in the repository root
with :data:`DEV_OPTIONS` on ``pyproject.toml`` (the core dependencies, the ``dev``, ``fast`` and ``redis`` extras and,
with ``--all-build-deps``, the build backend of ``[build-system] requires``, so the project's
own build is pinned too) and with :data:`PIP_OPTIONS` on ``requirements/pip.in`` (pip, which
``pip-compile`` cannot add to a lock of ``pyproject.toml``'s build dependencies). The resolution is for
the Python that runs this script and this platform; CI runs Python 3.11 on Linux x86_64.
Without ``--upgrade`` pip-compile keeps each existing pin that still satisfies pyproject.toml,
so adding or narrowing a requirement changes only what it must.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP_TOOLS = "pip-tools==7.6.2"
#: Options common to both locks: hashes, pip and setuptools pinned too, no machine-specific index lines.
COMMON_OPTIONS = ("--generate-hashes", "--allow-unsafe", "--strip-extras",
                  "--no-emit-index-url", "--no-emit-find-links")


def _sibling(name):
    spec = importlib.util.spec_from_file_location(f"reliability_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lockfile = _sibling("lockfile")
DEV_OPTIONS = (*COMMON_OPTIONS, *(f"--extra={extra}" for extra in lockfile.LOCKED_EXTRAS), "--all-build-deps")
PIP_OPTIONS = COMMON_OPTIONS

#: (output, sources, options) of each lock, paths relative to the repository root.
LOCKS = (("requirements/dev.lock", ("pyproject.toml",), DEV_OPTIONS),
         ("requirements/pip.lock", ("requirements/pip.in",), PIP_OPTIONS))


def compile_command(tool_python, output, sources, options, upgrade=False, upgrade_packages=()):
    """The ``pip-compile`` command line for one lock (run with the repository root as working directory)."""
    command = [str(tool_python), "-m", "piptools", "compile", "--quiet", *options, f"--output-file={output}"]
    if upgrade:
        command.append("--upgrade")
    command += [f"--upgrade-package={name}" for name in upgrade_packages]
    return command + list(sources)


def tool_environment(path):
    """A virtual environment at ``path`` with :data:`PIP_TOOLS` (created when missing); returns its python."""
    python = Path(path) / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", PIP_TOOLS], check=True)
    return python


def render_changes(rows):
    """The printed summary of :func:`lockfile.changes` rows."""
    if not rows:
        return "No pin changed."
    width = max(len(name) for name, _, _ in rows)
    lines = [f"{len(rows)} pin{'s' if len(rows) != 1 else ''} changed:"]
    for name, old, new in rows:
        lines.append(f"  {name:<{width}}  {old or '(new)':>12} -> {new or '(removed)'}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", "-U", action="store_true", help="take the newest allowed version of everything")
    parser.add_argument("--upgrade-package", "-P", action="append", default=[], metavar="NAME",
                        help="take the newest allowed version of NAME (repeatable)")
    parser.add_argument("--dry-run", action="store_true", help="print what would change; leave the locks as they are")
    parser.add_argument("--tool-venv", metavar="PATH",
                        help="virtual environment for pip-tools (kept; default: a temporary one)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="update-lock-") as tmp:
        tool_python = tool_environment(args.tool_venv or Path(tmp) / "venv")
        old = lockfile.pinned_versions(lockfile.read_locks())
        for output, sources, options in LOCKS:
            target = output
            if args.dry_run:  # compile a copy, so pip-compile still starts from the committed pins
                target = str(Path(tmp) / Path(output).name)
                if (ROOT / output).exists():
                    shutil.copyfile(ROOT / output, target)
            command = compile_command(tool_python, target, sources, options, args.upgrade, args.upgrade_package)
            print("$ " + " ".join(command[2:]).replace("piptools compile", "pip-compile", 1), flush=True)
            subprocess.run(command, cwd=ROOT, check=True)
        written = [Path(tmp) / Path(o).name for o, _, _ in LOCKS] if args.dry_run else [ROOT / o for o, _, _ in LOCKS]
        new = lockfile.pinned_versions(lockfile.read_locks(written))
    print(render_changes(lockfile.changes(old, new)))
    if not args.dry_run:
        print("Written: " + ", ".join(o for o, _, _ in LOCKS) + ". Run the suite (.ci/run), then commit the locks.")


if __name__ == "__main__":
    main()
