"""The mutation run's results kept in the repository, by change, so that a run resumes anywhere.

``mutants/`` is not committed and a pass over the sample takes hours, longer than one sitting on
2 cores; without a record the results of an interrupted pass live only on the machine that ran it.
The ledger (``reliability/mutation_ledger.json``) keeps every result mutmut wrote, keyed by what
the mutant changes: its module, its function and the changed lines before and after, as
``mutation_report`` reads them from the mutated sources, not by mutmut's number (which moves when a
function changes), with the exit code and the commit whose checks it ran against. Run from the
repository root::

    python reliability/mutation_sample.py --prepare     # mutants/, the checks per function, the clean run
    python reliability/mutation_ledger.py --restore     # the kept kills into mutants/'s result files
    python reliability/mutation_sample.py --run --which unchecked  # every other sampled mutant
    python reliability/mutation_ledger.py --record      # mutants/'s new results into the ledger (any time)

What is reused. ``--restore`` writes back only kills (a check failed: exit codes 1 and 3) of
mutants whose change reads exactly as the kept one. A check that fails under a mutant keeps failing
when checks are added, which is how the checks change between passes; everything else (survived,
timed out, no tests) is left without a result and run again by ``--which unchecked``, so a survivor
is always one of the current checks. ``--restore --explained`` also writes back the kept results of
the mutants that ``reliability/equivalent_mutants.json`` explains (equivalent or undetectable: no
check can kill them), which are the slowest to run, since a survivor runs every check of its
function; ``--which unkilled`` after it would run those survivors again, ``--which unchecked`` does not. A kept result of an
older commit stays stamped with that commit, and the report counts the results by commit
(:func:`provenance`).

What is recorded. ``--record`` takes every result in ``mutants/`` that ``--restore`` did not write
(``mutants/restored.json`` lists those), stamped with the checkout's commit, except a result the
ledger already has with the same exit code, which keeps the commit it ran against; it refuses a checkout
whose ``theory/``, ``checks/`` or configuration differ from that commit, since the stamp would then
name checks that did not run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEDGER = ROOT / "reliability" / "mutation_ledger.json"
MUTANTS = ROOT / "mutants" / "theory"
#: The keys ``--restore`` wrote into mutants/'s result files (not results of this checkout's run).
RESTORED = ROOT / "mutants" / "restored.json"
#: The paths whose state a result depends on: the stamp must name them as they are.
STAMPED_PATHS = ("theory", "checks", "conftest.py", "pyproject.toml")


def _sibling(name):
    """Import ``reliability/<name>.py`` by path (the folder is not a package; sys.path is left alone)."""
    spec = importlib.util.spec_from_file_location(f"reliability_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def changes(folder=MUTANTS):
    """``({key: exit code or None}, {key: (module, function, before, after)})`` of every mutant in ``folder``."""
    report = _sibling("mutation_report")
    codes, change = {}, {}
    for meta in sorted(Path(folder).rglob("*.py.meta")):
        module = ".".join(meta.relative_to(folder).parts)[:-len(".py.meta")]
        by_key = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        sources = report.function_sources(meta.with_name(meta.name[:-len(".meta")]))
        for key, code in by_key.items():
            codes[key] = code
            change[key] = (module, report.function_name(key), *report.mutant_change(sources, key))
    return codes, change


def load(path=LEDGER):
    """``{(module, function, before, after): (exit code, commit)}`` from the ledger (empty without one)."""
    if not Path(path).exists():
        return {}
    return {tuple(row[:4]): (row[4], row[5]) for row in json.loads(Path(path).read_text(encoding="utf-8"))["results"]}


def dump(ledger, path=LEDGER):
    rows = [[*change, code, commit] for change, (code, commit) in sorted(ledger.items())]
    Path(path).write_text(json.dumps({
        "about": "mutmut's results kept by change: [module, function, before, after, exit code, commit of "
                 "the checks] (reliability/mutation_ledger.py).", "results": rows},
        indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def to_restore(codes, change, ledger, killed=None, explained=frozenset()):
    """``{key: exit code}``: the mutants without a result whose change the ledger holds as killed.

    ``explained``: changes ``(function, before, after)`` that reliability/equivalent_mutants.json
    explains; their kept results are restored whatever they are (no check can kill such a mutant,
    so running it again would only repeat its survival).
    """
    killed = _sibling("mutation_sample").KILLED_CODES if killed is None else killed
    out = {}
    for key, code in codes.items():
        kept = ledger.get(change[key])
        if code is None and kept is not None and (kept[0] in killed or change[key][1:] in explained):
            out[key] = kept[0]
    return out


def explained_changes():
    """The changes ``(function, before, after)`` that reliability/equivalent_mutants.json explains."""
    return frozenset(_sibling("mutation_report").load_equivalents())


def recorded(codes, change, ledger, commit, restored):
    """The ledger with every result of ``codes`` not in ``restored`` stamped with ``commit``.

    A result the ledger already has with the same exit code keeps its stamp: recorded again after
    the checkout moved on (a later commit pulled into the same ``mutants/``), it still ran against
    the earlier checks, and only a result that changed can have come from the later ones.
    """
    out = dict(ledger)
    for key, code in codes.items():
        if code is not None and key not in restored and out.get(change[key], (None,))[0] != code:
            out[change[key]] = (code, commit)
    return out


def provenance(rows, ledger):
    """``Counter({commit: n})`` of the checked ``rows`` (``mutation_report.collect``'s), by the ledger's stamp."""
    return Counter(ledger.get((module, function, before, after), (None, "not in the ledger"))[1]
                   for module, _key, status, function, before, after in rows if status != "not checked")


def head_commit(root=ROOT):
    """The checkout's commit (12 hex digits); a SystemExit if a path of :data:`STAMPED_PATHS` differs from it."""
    run = lambda *a: subprocess.run(["git", *a], cwd=root, capture_output=True, text=True, check=True).stdout
    dirty = run("status", "--porcelain", "--", *STAMPED_PATHS)
    if dirty.strip():
        sys.exit("the checkout differs from its commit in the checked paths; commit first:\n" + dirty)
    return run("rev-parse", "--short=12", "HEAD").strip()


def write_codes(folder, codes):
    """Write ``{key: exit code}`` into the result files (``*.py.meta``) of ``folder``."""
    for meta in sorted(Path(folder).rglob("*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        mine = {key: code for key, code in codes.items() if key in data["exit_code_by_key"]}
        if mine:
            data["exit_code_by_key"].update(mine)
            meta.write_text(json.dumps(data, indent=4), encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--record", action="store_true", help="mutants/'s results into " + LEDGER.name)
    mode.add_argument("--restore", action="store_true", help="the ledger's kills into mutants/'s result files")
    parser.add_argument("--explained", action="store_true",
                        help="with --restore: also the kept results of the mutants that "
                             "reliability/equivalent_mutants.json explains (they are not run again)")
    args = parser.parse_args(argv)
    if args.explained and not args.restore:
        parser.error("--explained goes with --restore")
    if not MUTANTS.exists():
        sys.exit("no mutants/theory: run `python reliability/mutation_sample.py --prepare` first")
    codes, change = changes()
    ledger = load()
    restored = set(json.loads(RESTORED.read_text(encoding="utf-8"))) if RESTORED.exists() else set()
    if args.restore:
        back = to_restore(codes, change, ledger, explained=explained_changes() if args.explained else frozenset())
        write_codes(MUTANTS, back)
        RESTORED.write_text(json.dumps(sorted(restored | set(back)), indent=0) + "\n", encoding="utf-8")
        kills = sum(1 for code in back.values() if code in _sibling("mutation_sample").KILLED_CODES)
        print(f"{kills} kills and {len(back) - kills} results of explained mutants restored from {LEDGER.name} "
              f"({len(ledger)} kept results)")
    else:
        after = recorded(codes, change, ledger, head_commit(), restored)
        dump(after)
        print(f"{sum(1 for k, v in after.items() if ledger.get(k) != v)} results recorded; "
              f"{len(after)} kept in {LEDGER.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
