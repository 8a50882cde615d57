"""Run every claim's checks and write the claims report (``python -m theory`` or ``theory-claims``).

The main job of this project. It runs the checks (``checks/`` of the source tree,
or the copy installed with the package as ``theory.checks``) through pytest
and Hypothesis, in parallel with pytest-xdist, under one Hypothesis profile; the
pytest plugin :mod:`theory.report.plugin` records each test's outcome and what
Hypothesis observed (examples, evidence levels, margins, the draws); then
:mod:`theory.report` writes, into the report folder,

* ``claims.md``: for people: every claim of the paper with its statement, the
  executable form, the regime and its constants, the examples run, the worst
  margin with its draw, the evidence level and the status (holds / fails with the
  shrunk counterexample / holds only with a named added hypothesis), the negative
  controls, and loudly, the weaknesses of the suite;
* ``claims.json``: the same for machines, following ``theory/report/claims.schema.json``;
* ``figure1.png`` (with the ``plots`` extra) and ``figure1_minima.md``/``.json``:
  Figure 1 and the §5.1 table of minima per panel;
* ``figure2``/``figure3`` ``.png``/``.pdf`` and ``escape.md``/``.json`` (with the ``real`` extra):
  Figures 2 and 3 on the digits (:mod:`theory.experiments.real`), summarised in ``claims.md``.
* ``conformance.md``/``.json`` (with the ``attacks`` extra): the attack libraries' L2 PGDs
  against the paper's algorithm (:mod:`theory.attacks.conformance`), summarised in ``claims.md``.

The folder is built under a temporary name and moved into place at the end, so
an interrupted or crashed run leaves any previous report untouched and never a
half-written one. Exit status: 0 when every check passed (literal statements
failing as recorded included), 1 when a check failed, 2 on bad usage, 130 when
interrupted.
"""


from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = [
    "PROFILES",
    "DEFAULT_PROFILE",
    "default_checks",
    "main",
    "cli",
]

PROFILES = ("report", "dev", "ci", "thorough")
DEFAULT_PROFILE = "report"


def _parse(argv):
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    parser = argparse.ArgumentParser(
        prog="theory-claims" if script.startswith("theory-claims") else "python -m theory",
        description=__doc__.split("\n\n")[0].replace("``", "").replace("\n", " "),
        epilog="Profiles (theory/testing/profiles.py): report = the default, randomized, sized to finish in about 5 minutes on "
               "2 cores; dev = fast feedback; ci = derandomized, as CI runs it; thorough = 200 examples "
               "per property, for release checks and the seed sweep. Randomized profiles keep Hypothesis's "
               "example database at ./.hypothesis/examples (or $THEORY_EXAMPLE_DB), so a counterexample "
               "found once replays first on every later run.")
    parser.add_argument("--profile", default=DEFAULT_PROFILE, choices=PROFILES,
                        help=f"Hypothesis profile (default: {DEFAULT_PROFILE})")
    parser.add_argument("--checks", default=None,
                        help="folder of the checks (default: the checks of this package: checks/ of the source "
                             "tree it was imported from, or the copy installed with it)")
    parser.add_argument("--out", default="report", help="report folder (default: ./report)")
    parser.add_argument("--workers", default="auto",
                        help="pytest-xdist workers: a number, 'auto' (one per core, the default) or 0 (no xdist)")
    parser.add_argument("--figure-draws", type=int, default=None, metavar="N",
                        help="draws per panel for the section 5.1 table of minima (default: theory.experiments.scale.TABLE_DRAWS)")
    parser.add_argument("--no-figure", action="store_true", help="skip Figure 1 and the section 5.1 table")
    parser.add_argument("--no-real", action="store_true",
                        help="skip Figures 2 and 3 on the digits (run with the extra 'real')")
    parser.add_argument("--no-conformance", action="store_true",
                        help="skip the attack libraries' conformance section (run with the extra 'attacks')")
    parser.add_argument("-k", dest="keyword", default=None,
                        help="only run checks matching this pytest -k expression (the report marks the others 'not run')")
    args = parser.parse_args(argv)
    if args.workers != "auto" and not (args.workers.isdigit()):
        parser.error(f"--workers must be a non-negative integer or 'auto', got {args.workers!r}")
    if args.figure_draws is not None and args.figure_draws < 1:
        parser.error(f"--figure-draws must be >= 1, got {args.figure_draws}")
    return args


def default_checks() -> Path:
    """The checks that belong to this ``theory``: the copy installed with it (``theory/checks``), else ``checks/`` of its source tree."""
    here = Path(__file__).resolve().parent.parent  # the theory package (this module is theory/report/cli.py)
    installed, source = here / "checks", here.parent / "checks"
    return installed if (installed / "conftest.py").is_file() else source


def _commit(tree):
    """The git commit of the source tree at ``tree`` (the folder holding pyproject.toml), or None.

    None for installed checks: site-packages may sit inside some other repository.
    """
    if not (Path(tree) / "pyproject.toml").is_file():
        return None
    git = ["git", "-C", str(tree)]
    try:
        result = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        if result.returncode != 0:
            return None
        dirty = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _machine():
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")


#: Draws per single-step property of the conformance section (``python -m theory.conformance`` searches more).
CONFORMANCE_EXAMPLES = 6


def _conformance(tmp, skip):
    """The attack libraries' conformance (:mod:`theory.attacks.conformance`) into ``tmp``; the report's entry."""
    if skip:
        return {"status": "skipped", "message": "Skipped (--no-conformance).", "files": []}
    from theory.attacks import conformance
    from theory.attacks.libraries import available_attacks

    attacks, missing = available_attacks()
    if not attacks:
        reasons = "; ".join(f"{module}: {why}" for module, why in missing.items())
        return {"status": "not run", "files": [],
                "message": ("**The attack libraries' conformance was not checked: the `attacks` extra is not "
                            f"installed** (`pip install -e \".[attacks]\"`; {reasons}).")}
    report = conformance.conformance(attacks, missing, examples=CONFORMANCE_EXAMPLES)
    conformance.write(report, tmp)
    table = conformance.markdown(report).split("\n## Deviations")[0].split("\n", 2)[2].strip()
    return {"status": "run", "files": ["conformance.md", "conformance.json"], "table": table,
            "message": (f"The L2 PGDs of {len(attacks)} attack libraries against the paper's algorithm "
                        f"({CONFORMANCE_EXAMPLES} draws per single-step property; every deviation's shrunk "
                        "reproducer in `conformance.md`).")}


#: Test images of the report's real-data section (``python -m theory.experiments.real`` uses all 539).
REAL_IMAGES = 40


def _real(tmp, skip):
    """Figures 2 and 3 on the digits and the escape statistics (:mod:`theory.experiments.real`) into ``tmp``."""
    if skip:
        return {"status": "skipped", "message": "Skipped (--no-real).", "files": []}
    from theory.experiments import real

    if not real.available():
        return {"status": "not run", "files": [],
                "message": ("**Figures 2 and 3 on real data were not drawn: the `real` extra is not installed** "
                            "(`pip install -e \".[real,plots]\"`: torch and scikit-learn).")}
    from theory.experiments.real.__main__ import run

    summary, written = run(str(tmp), images=REAL_IMAGES)
    files = [Path(f).name for f in written]
    table = (tmp / "escape.md").read_text(encoding="utf-8").split("\n## Per panel")[0].split("\n", 2)[2].strip()
    return {"status": "run", "files": files, "table": table,
            "message": (f"Figures 2 and 3 on scikit-learn's digits with a softplus CNN, {REAL_IMAGES} test images "
                        "(`python -m theory.experiments.real` runs all 539); every panel in `escape.md`.")}


def _figure(tmp, draws, skip):
    """Figure 1 and the §5.1 table into ``tmp``; returns the report's ``figure1`` entry."""
    if skip:
        return {"status": "skipped", "message": "Skipped (--no-figure).", "files": []}
    from theory.experiments import figure1
    from theory.experiments.scale import FIGURE_WIDTH, TABLE_DRAWS, minima_table

    draws = TABLE_DRAWS if draws is None else draws
    files = []
    if figure1.plots_available():
        figure1.draw_figure(tmp / "figure1.png", seed=0, width=FIGURE_WIDTH)
        files += ["figure1.png", "figure1.pdf"]
        message = ("Figure 1 redrawn (`figure1.png`): the landscape of L on the circle for input scales "
                   "0.01, 1, 100 (rows) and ratios 0.1, 1, 10 (columns), PGD paths, certified minima and maxima.")
        status = "drawn"
    else:
        message = ("**figure1.png was not drawn: the `plots` extra is not installed** "
                   "(`pip install -e '.[plots]'`, which adds matplotlib). The table below needs nothing extra.")
        status = "table only"
    rows = minima_table(draws=draws, seed=0, width=FIGURE_WIDTH)
    table = figure1.table_markdown(rows, draws=draws, seed=0, width=FIGURE_WIDTH)
    (tmp / "figure1_minima.md").write_text(table, encoding="utf-8")
    (tmp / "figure1_minima.json").write_text(json.dumps(
        dict(d=2, width=FIGURE_WIDTH, draws=draws, seed=0, panels=rows), indent=2), encoding="utf-8")
    files += ["figure1_minima.md", "figure1_minima.json"]
    return {"status": status, "message": message, "files": files, "table": table}


def main(argv=None) -> int:
    args = _parse(argv)
    checks = Path(args.checks) if args.checks is not None else default_checks()
    if not (checks.is_dir() and any(checks.rglob("test_*.py"))):
        print(f"error: no checks folder at {checks.resolve()} (pass --checks DIR)", file=sys.stderr)
        return 2
    from theory import report as R
    from theory.testing.profiles import pin_blas_threads, pytest_ini_text

    root = Path.cwd()
    tree = checks.resolve().parent  # pytest's rootdir: node ids read checks/<kind>/test_*.py::name
    command = "python -m theory " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"claims report: Hypothesis profile {args.profile}, {args.workers} workers, checks in {checks}",
          flush=True)

    def build(tmp):
        results_path = tmp / "results.json"
        env = dict(os.environ, HYPOTHESIS_PROFILE=args.profile)
        pin_blas_threads(env)
        with tempfile.TemporaryDirectory() as config_dir:
            # The suite's pytest settings (theory.testing.profiles.PYTEST_INI, the same as pyproject.toml's),
            # so that installed checks run under the same rules as the checkout's.
            ini = Path(config_dir) / "pytest.ini"
            ini.write_text(pytest_ini_text(), encoding="utf-8")
            cmd = [sys.executable, "-m", "pytest", str(checks), "-c", str(ini), "--rootdir", str(tree),
                   "--confcutdir", str(tree), "-p", "theory.report.plugin", f"--claims-results={results_path}",
                   "-p", "no:cacheprovider", "-q", "--no-header", "--tb=short", "-rN"]
            if args.workers != "0":
                cmd += ["-n", args.workers]
            if args.keyword:
                cmd += ["-k", args.keyword]
            code = subprocess.call(cmd, env=env, cwd=root)
        if code in (2, 3, 4) or not results_path.exists():  # interrupted, internal error, usage error
            raise _PytestDidNotFinish(code)
        results = json.loads(results_path.read_text(encoding="utf-8"))
        results_path.unlink()
        figure = _figure(tmp, args.figure_draws, args.no_figure)
        attacks = _conformance(tmp, args.no_conformance)
        real_data = _real(tmp, args.no_real)
        meta = {
            "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": command.strip(), "version": _version(), "commit": _commit(tree),
            "profile": {"name": args.profile, **results["profile"]},
            "workers": str(args.workers), "machine": _machine(),
            "example_database": results["example_database"], "figure1": figure, "conformance": attacks,
            "real_data": real_data,
        }
        report = R.build_report(results, meta=meta)
        skipped = R.validate_report(report)
        if skipped:
            print(f"note: claims.json not validated against the schema: {skipped}", file=sys.stderr)
        (tmp / "claims.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        (tmp / "claims.md").write_text(R.render_markdown(report), encoding="utf-8")
        return report, code

    try:
        report, code = R.write_atomically(args.out, build)
    except _PytestDidNotFinish as stop:
        print(f"error: pytest did not finish (exit status {stop.code}); no report written, "
              f"any previous report in {args.out} is unchanged", file=sys.stderr)
        return 130 if stop.code == 2 else 1
    except KeyboardInterrupt:
        print(f"interrupted: no report written; any previous report in {args.out} is unchanged", file=sys.stderr)
        return 130
    s = report["summary"]
    print(f"\n{s['claims']} claims: {s['holds']} hold, {s['holds only with an added hypothesis']} hold only with "
          f"an added hypothesis, {s['fails']} fail, {s['not run']} not run; "
          f"{s['weaknesses']} weaknesses of the suite.")
    for weakness in report["weaknesses"]:
        print(f"WEAKNESS: {weakness}")
    print(f"report written to {Path(args.out) / 'claims.md'} and {Path(args.out) / 'claims.json'}")
    return 0 if code == 0 else 1


class _PytestDidNotFinish(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def _version():
    from theory import __version__
    return __version__


def cli():
    """Console-script entry point (``theory-claims``)."""
    sys.exit(main())


if __name__ == "__main__":
    cli()
