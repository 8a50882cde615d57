"""A stratified random sample of the mutants of every module of ``theory/``, and its estimate.

Run from the repository root::

    python reliability/mutation_sample.py --prepare       # mutants/ and the checks of every function
    python reliability/mutation_sample.py --draw          # draw the sample: reliability/mutation_sample.json
    python reliability/mutation_sample.py --extend        # a stratum for each module added since the draw
    python reliability/mutation_sample.py --refresh       # drop sampled mutants the code no longer has
    python reliability/mutation_sample.py --run           # mutmut run --max-children 2 <the sampled mutants> (run_mutmut)
    python reliability/mutation_report.py                  # MUTATION.md, with the estimate

Why a sample. mutmut generates about 22 000 mutants in the 60 modules of ``theory/`` that have function bodies; at the
rate of the last full run of the seven core modules (2430 mutants in about 2 hours on 2 cores)
all of them would take about 18 hours. The share of detected mutants is a proportion, and a
stratified random sample estimates it with a stated error: every module is a stratum, sampled
in proportion to its number of mutants and at least :data:`MINIMUM_PER_MODULE` (all of a smaller
module), so that every module is mutated and a blind spot in any of them shows as survivors.

Design of the estimate (:func:`estimate`). In module h with N_h mutants, n_h sampled and d_h
detected, p_h = d_h / n_h; the estimate of the share detected over all N mutants is
Σ_h (N_h / N) p_h, with variance Σ_h (N_h / N)² p_h (1 − p_h) / n_h · (1 − n_h / N_h) (finite
population). The report gives it with a two-sided 95 % interval (normal approximation, z = 1.96)
and the one-sided 95 % lower bound (z = 1.645): the target, at least 95 % detected, is met when
that lower bound is at least 0.95, a false-pass rate of at most 5 % if the true share is below
0.95. Per module it gives Wilson's 95 % interval. Size (:func:`sample_size`): the n for which the
lower bound clears 0.95 when the true share is :data:`PLANNING_SHARE`, 0.96, one point above the
target: n ≥ z² p(1 − p) / (p − 0.95)² = 1040 (rounded up), before the per-module minimum, which only adds.
An equivalent or undetectable survivor counts as not detected.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants" / "theory"
SAMPLE = ROOT / "reliability" / "mutation_sample.json"
TARGET = 0.95
#: One-sided 95 % and two-sided 95 % normal quantiles.
Z_ONE_SIDED, Z_TWO_SIDED = 1.645, 1.96
#: The share detected the sample is sized for (see the module docstring).
PLANNING_SHARE = 0.96
#: Every module gets at least this many sampled mutants (all of a module with fewer).
MINIMUM_PER_MODULE = 12
#: The seed of the draw (recorded in the sample file with everything else the draw used).
DEFAULT_SEED = 20261207

_DEF = re.compile(r"^\s*def (x[_ǁ]\S+?__mutmut_\d+)\(", re.M)


def population(folder=MUTANTS):
    """``{module: [mutant keys]}`` of the generated mutants (module ``landscape.circle``; keys as mutmut names them)."""
    out = {}
    for path in sorted(Path(folder).rglob("*.py")):
        module = ".".join(path.relative_to(folder).with_suffix("").parts)
        keys = sorted(set(_DEF.findall(path.read_text(encoding="utf-8"))))
        if keys:
            # mutmut names a package's mutants without "__init__" (theory.experiments.real.x_f__mutmut_1).
            prefix = "theory." + module.removesuffix("__init__").removesuffix(".")
            out[module] = [f"{prefix}.{key}".replace("theory..", "theory.") for key in keys]
    return out


def sample_size(share=PLANNING_SHARE, target=TARGET, z=Z_ONE_SIDED):
    """The n whose one-sided lower bound clears ``target`` when the true share is ``share``."""
    if not target < share < 1:
        raise ValueError(f"share: must lie in ({target}, 1), got {share}")
    return math.ceil(z * z * share * (1 - share) / (share - target) ** 2)


def allocate(sizes, n, minimum=MINIMUM_PER_MODULE):
    """``{module: n_h}``: proportional to ``sizes`` (``{module: N_h}``), at least ``minimum``, at most N_h."""
    total = sum(sizes.values())
    return {module: min(size, max(minimum, round(n * size / total))) for module, size in sizes.items()}


def draw(pop, n, seed, minimum=MINIMUM_PER_MODULE):
    """The sample: ``{module: sorted keys}``, each module's keys drawn without replacement."""
    rng = random.Random(seed)
    counts = allocate({module: len(keys) for module, keys in pop.items()}, n, minimum)
    return {module: sorted(rng.sample(keys, counts[module])) for module, keys in sorted(pop.items())}


def extend(sample, pop, minimum=MINIMUM_PER_MODULE):
    """``sample`` with a stratum for every module of ``pop`` it lacks (a module added since the draw).

    A new module gets the share :func:`allocate` gives it in the current population, at least
    ``minimum``, drawn with its own seed (the sample's seed and the module's name), so that the
    strata drawn before keep their mutants and every module stays mutated.
    """
    new = sorted(set(pop) - set(sample["population"]))
    counts = allocate({module: len(keys) for module, keys in pop.items()}, sample["n"], minimum)
    out = {**sample, "population": dict(sample["population"]), "sample": dict(sample["sample"])}
    for module in new:
        rng = random.Random(f"{sample['seed']}:{module}")
        out["population"][module] = len(pop[module])
        out["sample"][module] = sorted(rng.sample(pop[module], counts[module]))
    return out


def refresh(sample, pop):
    """``sample`` restricted to the mutants ``pop`` still has, with the population counted anew.

    A function removed, renamed or shortened since the draw takes (some of) its mutants with it;
    kept in the sample, they would count as checked and not detected (conservative, but not a
    measure of the code).
    The kept keys of a module are a random sample of its mutants that were there at the draw and
    still are; the dropped ones are listed under ``"dropped"`` (with any dropped before), and a
    module ``pop`` lacks altogether leaves the population. Modules added since the draw are left
    to :func:`extend`.
    """
    out = {**sample, "population": {}, "sample": {}, "dropped": {k: list(v) for k, v in sample.get("dropped", {}).items()}}
    for module, keys in sample["sample"].items():
        there = set(pop.get(module, ()))
        kept = [key for key in keys if key in there]
        gone = [key for key in keys if key not in there]
        if gone:
            out["dropped"][module] = sorted(set(out["dropped"].get(module, [])) | set(gone))
        if module in pop:
            out["sample"][module] = kept
    out["population"] = {module: len(pop[module]) for module in sample["population"] if module in pop}
    if not out["dropped"]:
        del out["dropped"]
    return out


#: What ``--run`` runs: the sampled mutants without a result, those not detected, those not
#: killed (the undetected and the timed-out or crashed ones), or all.
WHICH = ("unchecked", "undetected", "unkilled", "all")
#: mutmut's exit codes of a detected mutant (killed, timed out, crashed; mutmut.stats.status_by_exit_code).
DETECTED_CODES = frozenset({1, 3, 36, -24, 24, 152, 255, -11, -9})
#: mutmut's exit codes of a killed mutant: a check failed.
KILLED_CODES = frozenset({1, 3})


def results(folder=MUTANTS):
    """``{key: exit code or None}`` from mutmut's result files (``*.meta``) under ``folder``."""
    out = {}
    for path in Path(folder).rglob("*.meta"):
        out.update(json.loads(path.read_text(encoding="utf-8")).get("exit_code_by_key", {}))
    return out


def select(keys, codes, which):
    """The ``keys`` to run: ``which`` is ``"unchecked"`` (no result yet), ``"undetected"`` (no result, or one
    that is not a detection: survived, no tests, skipped), ``"unkilled"`` (the undetected and those
    that timed out or crashed: no check failed) or ``"all"``."""
    if which not in WHICH:
        raise ValueError(f"which: must be one of {WHICH}, got {which!r}")
    if which == "all":
        return list(keys)
    if which == "unchecked":
        return [k for k in keys if codes.get(k) is None]
    if which == "unkilled":
        return [k for k in keys if codes.get(k) not in KILLED_CODES]
    return [k for k in keys if codes.get(k) not in DETECTED_CODES]


def wilson(detected, n, z=Z_TWO_SIDED):
    """Wilson's interval for a proportion ``detected / n``."""
    if n == 0:
        return (0.0, 1.0)
    p = detected / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # At 0 or n detected the exact bound is 0 or 1; rounding would put it a hair inside.
    low = 0.0 if detected == 0 else max(0.0, centre - half)
    high = 1.0 if detected == n else min(1.0, centre + half)
    return (low, high)


def estimate(strata):
    """The stratified estimate from ``[(N_h, n_h, d_h), ...]``: (share, low, high, one-sided lower bound)."""
    total = sum(N for N, _, _ in strata)
    share = variance = 0.0
    for N, n, d in strata:
        if n == 0:
            continue
        w, p = N / total, d / n
        share += w * p
        variance += w * w * p * (1 - p) / n * (1 - n / N)
    se = math.sqrt(variance)
    return share, share - Z_TWO_SIDED * se, min(1.0, share + Z_TWO_SIDED * se), share - Z_ONE_SIDED * se


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true",
                        help="generate mutants/ and record the checks per function (mutmut's stats pass), run no mutant")
    parser.add_argument("--draw", action="store_true", help="draw the sample from mutants/ into " + SAMPLE.name)
    parser.add_argument("--extend", action="store_true",
                        help="add a stratum to the sample for every module of mutants/ that it lacks")
    parser.add_argument("--refresh", action="store_true",
                        help="drop from the sample the mutants mutants/ no longer has, and count the population anew")
    parser.add_argument("--run", action="store_true", help="run mutmut on the sampled mutants")
    parser.add_argument("--which", choices=WHICH, default="unchecked",
                        help="with --run: the sampled mutants without a result (resume; the default), those "
                             "not detected (after checks were added), those not killed (also the timed-out "
                             "ones) or all of them")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--n", type=int, default=None, help="sample size before the per-module minimum "
                        "(default: sample_size())")
    args = parser.parse_args(argv)
    if args.prepare and run_mutmut(prepare_only=True) != 0:
        return 1
    if args.draw:
        pop = population()
        if not pop:
            sys.exit("no mutants in mutants/theory: run `mutmut run --max-children 2` until it has generated them")
        n = args.n or sample_size()
        sample = draw(pop, n, args.seed)
        SAMPLE.write_text(json.dumps({
            "about": "A stratified random sample of mutmut's mutants of theory/ (reliability/mutation_sample.py).",
            "seed": args.seed, "n": n, "minimum_per_module": MINIMUM_PER_MODULE, "planning_share": PLANNING_SHARE,
            "population": {module: len(keys) for module, keys in pop.items()}, "sample": sample,
        }, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{sum(map(len, sample.values()))} of {sum(map(len, pop.values()))} mutants "
              f"in {len(pop)} modules -> {SAMPLE.relative_to(ROOT)}")
    if args.extend:
        before = json.loads(SAMPLE.read_text(encoding="utf-8"))
        after = extend(before, population())
        SAMPLE.write_text(json.dumps(after, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        added = sorted(set(after["sample"]) - set(before["sample"]))
        print(f"{len(added)} modules added: " + ", ".join(f"{m} ({len(after['sample'][m])})" for m in added))
    if args.refresh:
        before = json.loads(SAMPLE.read_text(encoding="utf-8"))
        after = refresh(before, population())
        SAMPLE.write_text(json.dumps(after, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        gone = sum(map(len, after["sample"].values())) - sum(map(len, before["sample"].values()))
        print(f"{-gone} sampled mutants dropped; population {sum(before['population'].values())} -> "
              f"{sum(after['population'].values())}")
    if args.run:
        keys = [key for keys in json.loads(SAMPLE.read_text(encoding="utf-8"))["sample"].values() for key in keys]
        keys = select(keys, results(), args.which)
        print(f"{len(keys)} sampled mutants to run ({args.which})", flush=True)
        return run_mutmut(keys) if keys else 0
    return 0


#: The environment of a mutation run: one OpenMP / MKL thread per process (see :func:`run_mutmut`).
SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

#: mutmut's command line, run in-process with one change (see :func:`run_mutmut`).
_MUTMUT = """
import sys
import mutmut.__main__ as main
from mutmut.runners.harness import BadTestExecutionCommandsException

forced_fail = main.run_forced_fail_test

def run_forced_fail_test(runner):
    if {prepare_only!r}:
        print("    prepared: mutants/ and the checks per function; no mutant run")
        sys.exit(0)
    try:
        forced_fail(runner)
    except BadTestExecutionCommandsException:
        main.set_mutant_under_test("")
        print("    done (the forced failure stopped the import of theory: pytest's exit code 4)")

main.run_forced_fail_test = run_forced_fail_test
sys.path.insert(0, {reliability!r})
from mutation_children import installed
import mutation_order

sys.argv = ["mutmut", *sys.argv[1:]]
with installed(), mutation_order.installed():
    main.cli()
"""


def run_mutmut(keys=(), max_children=2, prepare_only=False):
    """``mutmut run --max-children 2 [keys]``, with the forced-failure check accepting an import error.

    Before it runs a mutant, mutmut checks that a forced failure (every mutated function
    raises) makes the tests fail. ``theory/__init__`` calls a mutated function when it is
    imported (it installs the old module names), and the checks' modules build strategies and
    tables from ``theory`` when they are imported, so the forced failure stops pytest at the
    conftest's import, exit code 4, which mutmut takes for a broken test command. That is the
    forced failure reaching the code, which is what the check is for; the mutants themselves
    run after a warm-up import with no mutant active.

    The run also records what the checks' subprocesses call (``mutation_children``), so that the
    functions only a subprocess runs (the report command, the pytest plugin) get their checks,
    and it runs a mutant's checks fastest first (``mutation_order``).

    torch does not survive a fork from a process that has used it: the child's first parallel
    operation or backward pass waits forever on a lock the parent's threads held, and the
    mutant counts as a timeout without any check having run. mutmut forks the mutants from a
    server that has run no check (``process_isolation = "forkserver"`` in ``[tool.mutmut]``),
    and the run sets :data:`SINGLE_THREADED` as well (one thread per process, which is also what
    two children on two cores should use).

    With ``prepare_only`` it stops where the mutants would start: mutants/ generated, the checks
    of every function recorded (mutmut's stats pass), the clean run passed.
    """
    code = _MUTMUT.replace("{reliability!r}", repr(str(ROOT / "reliability")))
    code = code.replace("{prepare_only!r}", repr(bool(prepare_only)))
    return subprocess.run([sys.executable, "-c", code, "run", "--max-children", str(max_children), *keys],
                          cwd=ROOT, env={**os.environ, **SINGLE_THREADED}).returncode


if __name__ == "__main__":
    sys.exit(main())
