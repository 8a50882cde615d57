"""MUTATION.md from a mutmut run: the score per module and every surviving mutant with its reason.

Run from the repository root, after ``mutmut run --max-children 2`` (configuration:
``[tool.mutmut]`` in pyproject.toml)::

    python reliability/mutation_report.py

Each mutant's status comes from mutmut's result files (``mutants/theory/*.meta``);
its change is read from the mutated sources mutmut writes (``mutants/theory/*.py``:
the function ``x_name__mutmut_orig`` against ``x_name__mutmut_N``), so the report
shows the line before and after. A surviving mutant is *explained* when
``reliability/equivalent_mutants.json`` gives the reason it cannot be detected;
the file is keyed by function and the changed lines, not by mutmut's numbers,
which move when the code changes. An unexplained survivor is listed in bold.

Score: detected (killed or timed out) over all mutants; and over the mutants
that are not equivalent, the undetectable ones counted as survivors (the target: at least 95 %).

The results are kept in ``reliability/mutation_results.json`` (``mutants/`` is not
committed, and a full run takes hours), so the report can be rendered again, for
instance after a survivor is classified, without re-running mutmut:

* a *full* run (every mutant in ``mutants/`` checked) replaces the kept results;
* a *targeted* run (``mutmut run <names>``: the other mutants are "not checked")
  updates them: each re-checked mutant takes the place of the kept survivor with
  the same function and change. Re-checked mutants that were detected before are
  left as they were (a check is only ever added between the two runs);
* without ``mutants/``, the kept results are rendered as they are.

The kept results hold every survivor (module, function, change, status) and,
per module, the counts of the detected mutants.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants" / "theory"
EQUIVALENTS = ROOT / "reliability" / "equivalent_mutants.json"
REPORT = ROOT / "MUTATION.md"
RESULTS = ROOT / "reliability" / "mutation_results.json"
SAMPLE = ROOT / "reliability" / "mutation_sample.json"
TARGET = 0.95

#: mutmut's exit codes (mutmut.stats.status_by_exit_code, mutmut 3.8).
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", None: "not checked",
          34: "skipped", 36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout",
          37: "caught by type check", 2: "interrupted", -11: "segfault", -9: "segfault"}
DETECTED = ("killed", "timeout", "segfault")
#: Counters of render() that classify survivors rather than count mutants.
CLASSES = ("equivalent", "undetectable")


def _sibling(name):
    """Import ``reliability/<name>.py`` by path (the folder is not a package; sys.path is left alone)."""
    spec = importlib.util.spec_from_file_location(f"reliability_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mutation_sample = _sibling("mutation_sample")


def load_sample(path=SAMPLE):
    """The drawn sample (``reliability/mutation_sample.py``), or None when the run is not a sample."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def sample_lines(rows, sample, equivalents=None):
    """The estimate of a sampled run: the share detected over all mutants, and per module (markdown lines).

    Three estimates: over all mutants (equivalent and undetectable survivors counted as not
    detected); with the timeouts also counted as not detected; and over the mutants that are not
    equivalent in the strict sense (no change of behaviour at all), the undetectable ones still
    counted as survivors: the target's measure. For the last, each stratum's population is scaled
    by its sampled share of non-equivalent mutants (a ratio estimate; the interval leaves out the
    uncertainty of that share, which the per-module shares of at most a few equivalents keep small).
    """
    by_module = defaultdict(Counter)
    for module, _key, status, function, before, after in rows:
        by_module[module][status] += 1
        reason, undetectable = (equivalents or {}).get((function, before, after), (None, False))
        if reason and not undetectable and status not in DETECTED and status != "not checked":
            by_module[module]["equivalent"] += 1
    # A sampled mutant with no row (its function gone since the draw) is not checked, not a survivor.
    keyed = {key for _m, key, *_ in rows}
    missing = 0 if None in keyed else sum(key not in keyed for keys in sample["sample"].values() for key in keys)
    population = sample["population"]
    strata, strict, against, table = [], [], [], []
    for module in sorted(population):
        c = by_module[module]
        sampled = len(sample["sample"].get(module, []))
        if None not in keyed:
            c["not checked"] += sum(key not in keyed for key in sample["sample"].get(module, []))
        checked = sampled - c["not checked"]
        detected = sum(c[s] for s in DETECTED)
        strata.append((population[module], checked, detected))
        strict.append((population[module], checked, detected - c["timeout"]))
        rest = checked - c["equivalent"]
        against.append((population[module] * rest / checked if checked else 0.0, rest, detected))
        low, high = mutation_sample.wilson(detected, checked)
        share = f"{detected / checked:.1%} ({low:.1%}–{high:.1%})" if checked else "–"
        table.append(f"| `theory/{module.replace('.', '/')}.py` | {population[module]} | {sampled} | {checked} "
                     f"| {detected} | {share} |")
    total = sum(population.values())
    n = sum(len(keys) for keys in sample["sample"].values())
    checked = sum(c for _, c, _ in strata)
    share, low, high, lower = mutation_sample.estimate([stratum for stratum in strata if stratum[1]])
    # A timeout is a detection only if the mutant, not a cold start of its checks, made them slow.
    s_share, s_low, s_high, _ = mutation_sample.estimate([stratum for stratum in strict if stratum[1]])
    ne_share, ne_low, ne_high, ne_lower = mutation_sample.estimate([stratum for stratum in against if stratum[1]])
    verdict = "met" if ne_lower >= TARGET and checked == n else "not met" if checked == n else "not decided yet"
    return [f"**A stratified random sample of {n} of the {total} mutants of {len(population)} modules** (seed "
            f"{sample['seed']}; `python reliability/mutation_sample.py`, design in its docstring); "
            f"{checked} of the {n} checked"
            + (f" ({missing} sampled mutants are not among the generated ones: their functions changed "
               f"or went since the draw; `mutation_sample.py --refresh` drops them)." if missing else "."),
            "",
            f"Estimated share detected of the mutants that are not equivalent (the undetectable ones counted "
            f"as survivors): **{ne_share:.1%}** (95 % interval {ne_low:.1%}–{ne_high:.1%}; one-sided 95 % lower "
            f"bound {ne_lower:.1%}). Target ≥ {TARGET:.0%} on that lower bound: {verdict}. Of all {total} "
            f"mutants (the equivalent ones counted as not detected too): {share:.1%} ({low:.1%}–{high:.1%}; "
            f"one-sided lower bound {lower:.1%}); with the timeouts also counted as not detected: "
            f"{s_share:.1%} ({s_low:.1%}–{s_high:.1%}).",
            "", "| module | mutants | sampled | checked | detected | share detected (Wilson 95 %) |",
            "|---|---|---|---|---|---|", *table, ""]


def function_sources(path):
    """``{function name: source}`` of every function and method in a mutated module (methods as Class.x...)."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    out = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and "__mutmut_" in node.name:
            # The lines of the def (a slice: get_source_segment re-splits the module per call,
            # which takes minutes on a module of a few thousand mutants).
            body = "\n".join(lines[node.lineno - 1:node.end_lineno])
            # The def line carries the mutant's name: write the function's own name instead,
            # so that a mutated default argument shows as a change of that line.
            base = node.name.rsplit("__mutmut_", 1)[0]
            out[node.name] = body.replace(node.name, base, 1)
    return out


def mutant_change(sources, key):
    """The changed lines of mutant ``key`` (``module.x_f__mutmut_N``): (before, after), stripped."""
    local = key.split(".")[-1]
    base = local.rsplit("__mutmut_", 1)[0]
    orig, mutated = sources.get(base + "__mutmut_orig", ""), sources.get(local, "")
    before, after = [], []
    # unified_diff, not ndiff: the same changed lines, without ndiff's quadratic search for similar ones
    for line in difflib.unified_diff(orig.splitlines(), mutated.splitlines(), n=0, lineterm=""):
        if line.startswith(("---", "+++", "@@")):
            continue
        if line.startswith("-"):
            before.append(line[1:].strip())
        elif line.startswith("+"):
            after.append(line[1:].strip())
    return " / ".join(before), " / ".join(after)


def function_name(key):
    """``theory.losses.xǁCrossEntropyLossǁcurvature_bounds__mutmut_3`` -> ``losses.CrossEntropyLoss.curvature_bounds``."""
    module, local = key.rsplit(".", 1)
    name = local.rsplit("__mutmut_", 1)[0][2:]  # drop the "x_" / "xǁ" prefix
    return module.split(".", 1)[1] + "." + name.replace("ǁ", ".").strip(".")


def collect():
    """Rows ``(module, key, status, function, before, after)`` for every mutant (module ``landscape.circle``)."""
    rows = []
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        module = ".".join(meta.relative_to(MUTANTS).parts)[:-len(".py.meta")]
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        sources = function_sources(meta.with_name(meta.name[:-len(".meta")]))
        for key, code in sorted(codes.items(), key=lambda kv: (kv[0].rsplit("__mutmut_", 1)[0],
                                                                int(kv[0].rsplit("_", 1)[1]))):
            status = STATUS.get(code, "suspicious")
            before, after = mutant_change(sources, key) if status != "not checked" else ("", "")
            rows.append((module, key, status, function_name(key), before, after))
    return rows


def to_results(rows):
    """The kept form of ``rows``: detected mutants counted per module, the others listed."""
    counts = defaultdict(Counter)
    survivors = []
    for module, _key, status, function, before, after in rows:
        if status in DETECTED:
            counts[module][status] += 1
        else:
            counts[module]  # every module appears, even with no detected mutant
            survivors.append([module, function, before, after, status])
    return {"about": "Results of the last mutmut run (reliability/mutation_report.py): detected mutants "
                     "counted per module, every other mutant listed as [module, function, before, after, status].",
            "detected": {module: dict(sorted(c.items())) for module, c in sorted(counts.items())},
            "survivors": survivors}


def from_results(results):
    """Rows, as :func:`collect` gives them, from the kept results (detected mutants have no key or change)."""
    rows = []
    for module, counts in results["detected"].items():
        for status, n in counts.items():
            rows += [(module, None, status, "", "", "")] * n
    rows += [(module, None, status, function, before, after)
             for module, function, before, after, status in results["survivors"]]
    return rows


def merge(kept, rows):
    """Kept rows updated by a targeted run's ``rows``: each re-checked mutant replaces the kept
    survivor with the same module, function and change; the others stay as they were."""
    kept = list(kept)
    index = defaultdict(list)
    for i, (module, _key, status, function, before, after) in enumerate(kept):
        if status not in DETECTED:
            index[(module, function, before, after)].append(i)
    for module, key, status, function, before, after in rows:
        if status == "not checked":
            continue
        slots = index.get((module, function, before, after))
        if slots:
            kept[slots.pop()] = (module, key, status, function, before, after)
    return kept


def load_equivalents():
    """``{(function, before, after): (reason, undetectable)}`` from reliability/equivalent_mutants.json.

    A group marked ``"undetectable": true`` holds mutants that are not equivalent in exact
    arithmetic but that no float64 observation can separate (the rounding allowances of the
    certified bounds); the report gives the score with them counted both ways.
    """
    if not EQUIVALENTS.exists():
        return {}
    out = {}
    for group in json.loads(EQUIVALENTS.read_text(encoding="utf-8"))["groups"]:
        for function, before, after in group["mutants"]:
            out[(function, before, after)] = (group["reason"], bool(group.get("undetectable", False)))
    return out


def render(rows, equivalents):
    by_module = defaultdict(Counter)
    explained, unexplained = [], []
    for module, key, status, function, before, after in rows:
        by_module[module][status] += 1
        if status in DETECTED or status == "not checked":
            continue
        reason, undetectable = equivalents.get((function, before, after), (None, False))
        if reason:
            by_module[module]["equivalent"] += 1
            by_module[module]["undetectable"] += undetectable
            explained.append((function, before, after, reason, status))
        else:
            unexplained.append((function, before, after, status, key))
    total = Counter()
    for counts in by_module.values():
        total.update(counts)
    n = sum(v for k, v in total.items() if k not in CLASSES)

    def score(counts):
        all_ = sum(v for k, v in counts.items() if k not in CLASSES)
        detected = sum(counts[s] for s in DETECTED)
        checked = all_ - counts["not checked"]
        against = checked - counts["equivalent"]
        return (f"{detected / checked:.1%}" if checked else "–", f"{detected / against:.1%}" if against else "–")

    lines = ["# Mutation testing", "",
             "Generated by `python reliability/mutation_report.py` after `mutmut run --max-children 2`",
             "(configuration: `[tool.mutmut]` in pyproject.toml; method in the script's docstring and in",
             "\"How the run is set up\" below).", ""]
    not_checked = total["not checked"]
    overall, adjusted = score(total)
    status = (f"**{n - not_checked} of {n} mutants checked.** " if not_checked else f"**All {n} mutants checked.** ")
    status += (f"Detected: {overall} of the checked mutants; {adjusted} of those that are not equivalent "
               f"(target ≥ {TARGET:.0%}). Survivors: {len(explained)} explained as equivalent, "
               f"{len(unexplained)} not explained.")
    if total["undetectable"]:
        strict = Counter(total)
        strict["equivalent"] -= total["undetectable"]
        status += (f" Of the explained, {total['undetectable']} are undetectable rather than equivalent "
                   f"(rounding allowances that no float64 observation separates); counted as survivors, "
                   f"the score on the rest is {score(strict)[1]}.")
    lines += [status, "",
              "| module | mutants | killed | timeout | survived | no tests | not checked | equivalent | detected | detected, non-equivalent |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for module in sorted(by_module):
        c = by_module[module]
        all_ = sum(v for k, v in c.items() if k not in CLASSES)
        s1, s2 = score(c)
        lines.append(f"| `theory/{module.replace('.', '/')}.py` | {all_} | {c['killed']} | {c['timeout']} | {c['survived']} "
                     f"| {c['no tests']} | {c['not checked']} | {c['equivalent']} | {s1} | {s2} |")
    s1, s2 = score(total)
    lines.append(f"| **all** | {n} | {total['killed']} | {total['timeout']} | {total['survived']} "
                 f"| {total['no tests']} | {total['not checked']} | {total['equivalent']} | {s1} | {s2} |")
    lines += ["", "## Survivors not explained", ""]
    if unexplained:
        lines += [f"- **`{function}`** ({status}): `{before}` → `{after}`" for function, before, after, status, _
                  in unexplained]
    else:
        lines.append("None.")
    lines += ["", "## Equivalent mutants", "",
              "Mutants that no check can detect, grouped by the reason (reliability/equivalent_mutants.json).", ""]
    groups = defaultdict(list)
    for function, before, after, reason, status in explained:
        groups[reason].append((function, before, after, status))
    for reason, items in groups.items():
        lines += [f"### {reason}", ""]
        lines += [f"- `{function}`: `{before}` → `{after}`" for function, before, after, _ in items]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n", unexplained


def results_rows():
    """The rows to report, from mutants/ and the kept results (see the module docstring); keeps them."""
    kept = from_results(json.loads(RESULTS.read_text(encoding="utf-8"))) if RESULTS.exists() else None
    sample = load_sample()
    if MUTANTS.exists():
        rows = collect()
        if sample is not None:  # a sampled run: its rows alone, the sample's estimate in the report
            keys = {key for keys in sample["sample"].values() for key in keys}
            rows = [row for row in rows if row[1] in keys]
        elif kept is not None and any(status == "not checked" for _m, _k, status, *_ in rows):
            rows = merge(kept, rows)
        RESULTS.write_text(json.dumps(to_results(rows), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return rows
    if kept is None:
        sys.exit("no mutants/ folder and no reliability/mutation_results.json: "
                 "run `mutmut run --max-children 2` first")
    return kept


def provenance_lines(rows):
    """The checked rows counted by the commit of the checks they ran against (reliability/mutation_ledger.py).

    Only rows read from mutants/ carry their change; rows from the kept results give no line.
    """
    ledger_module = _sibling("mutation_ledger")
    ledger = ledger_module.load()
    if not ledger or any(key is None for _m, key, *_ in rows):
        return ""
    counts = ledger_module.provenance(rows, ledger)
    return ("\nResults by the commit of the checks they ran against (kills kept across commits, every other "
            "result re-run; `reliability/mutation_ledger.py`): "
            + ", ".join(f"{commit}: {n}" for commit, n in counts.most_common()) + ".\n")


def main(argv=None):
    rows = results_rows()
    text, unexplained = render(rows, load_equivalents())
    sample = load_sample()
    if sample is not None:
        head, rest = text.split("\n## Survivors not explained", 1)
        text = head + "\n## The sample's estimate\n\n" + "\n".join(sample_lines(rows, sample, load_equivalents())) + \
            provenance_lines(rows) + "\n## Survivors not explained" + rest
    setup = ROOT / "reliability" / "mutation_setup.md"
    if setup.exists():
        text += "\n" + setup.read_text(encoding="utf-8")
    REPORT.write_text(text, encoding="utf-8")
    print(text.split("\n## Survivors not explained")[0])
    if "--list" in (argv or sys.argv[1:]):
        for function, before, after, status, key in unexplained:
            print(json.dumps([function, before, after]), "#", status, key)


if __name__ == "__main__":
    main()
