r"""The conformance report: per attack and property, ``conforms``, ``deviates`` or ``not applicable``.

For each attack (the four libraries' adapters that can run, :func:`theory.attacks.libraries.available_attacks`,
or any attack given) and each property of :data:`theory.attacks.properties.PROPERTIES`, Hypothesis
searches the draws of :func:`theory.attacks.strategies.attack_cases` for one where the property
fails (``hypothesis.find``, derandomized: the same draws every run). Found: ``deviates``, with the
shrunk draw (the smallest d, m and input scale that still deviate), the message and the call that
reproduces it. Not found in the budget: ``conforms``, with the number of draws and the evidence of
the last one. A property that does not apply to any draw (the projection, where no step rule was
identified): ``not applicable``.

``python -m theory.conformance`` writes ``conformance.md`` and ``conformance.json`` (schema
:data:`SCHEMA_PATH`) into ``--out`` (default ``report/``). ``--examples N`` sets the budget of the
single-step properties (the convergence properties, thousands of steps each, get a fifth of it and
draws up to d = 64),
``--attack module:Class`` adds an attack of your own (any class that fits the protocol).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import sys
from pathlib import Path

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

import numpy as np

from theory.attacks.properties import BREAKS, PROPERTIES, check_stays_in_ball
from theory.attacks.protocol import check_attack
from theory.attacks.strategies import cases_for

__all__ = ["STATUSES", "SCHEMA_PATH", "DEFAULT_EXAMPLES", "SLOW_PROPERTIES", "run_property", "conformance",
           "markdown", "validate", "write", "load_attack", "main"]

#: The three verdicts.
STATUSES = ("conforms", "deviates", "not applicable")
#: JSON schema of ``conformance.json``.
SCHEMA_PATH = Path(__file__).with_name("conformance.schema.json")
#: Draws searched per single-step property.
DEFAULT_EXAMPLES = 30
#: Properties that run thousands of steps per draw: a fifth of the budget, and d <= 64.
SLOW_PROPERTIES = ("ends_at_critical_point", "same_optimum")


def _call(attack, name, problem, seed):
    if name == "stays_in_ball":
        return check_stays_in_ball(attack, problem, seed, 0.25 * problem.eps)
    return PROPERTIES[name](attack, problem, seed)


def run_property(attack, name, *, examples=DEFAULT_EXAMPLES):
    """The verdict of one property for one attack: a dict with ``status``, ``examples``, ``evidence``, ``reproducer``."""
    slow = name in SLOW_PROPERTIES
    budget = max(2, examples // 5) if slow else examples
    cases = cases_for(name, d=st.integers(2, 64)) if slow else cases_for(name)
    seen = {"applied": 0, "evidence": None}

    def deviates(case):
        try:
            evidence = _call(attack, name, *case)
        except Exception:  # a failed property, or an attack that raises on a valid draw
            return True
        if evidence is not None:
            seen["applied"] += 1
            seen["evidence"] = evidence
        return False

    config = settings(max_examples=budget, derandomize=True, database=None, deadline=None,
                      suppress_health_check=list(HealthCheck), report_multiple_bugs=False, phases=(Phase.explicit, Phase.generate, Phase.shrink))
    try:
        problem, seed = find(cases, deviates, settings=config)
    except NoSuchExample:
        status = "conforms" if seen["applied"] else "not applicable"
        return {"status": status, "examples": budget, "evidence": _plain(seen["evidence"]), "reproducer": None}
    try:
        _call(attack, name, problem, seed)
        message = "deviates on this draw"  # it failed in the search, not on the replay: not deterministic
    except AssertionError as error:
        message = str(error)
    except Exception as error:
        message = f"the attack raised {type(error).__name__}: {error}"
    check = PROPERTIES[name].__name__
    cls = type(attack)
    extra = f", {0.25 * problem.eps!r}" if name == "stays_in_ball" else ""
    call = (f"from {cls.__module__} import {cls.__name__}; from theory.attacks.properties import {check}; "
            f"from theory.problem import make_problem; {check}({cls.__name__}(), {problem!r}, {seed}{extra})")
    return {"status": "deviates", "examples": budget, "evidence": None,
            "reproducer": {"problem": repr(problem), "d": problem.d, "m": problem.net.m, "seed": seed,
                           "input_norm": float(np.linalg.norm(problem.x)), "eps": float(problem.eps),
                           "message": message, "breaks": BREAKS[name], "call": call}}


def _plain(value):
    """JSON-ready evidence (floats, lists, dicts, strings)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return float(value)


def conformance(attacks, missing=None, *, examples=DEFAULT_EXAMPLES, progress=None):
    """The report as a dict (the schema of :data:`SCHEMA_PATH`)."""
    results = []
    for attack in attacks:
        check_attack(attack)
        verdicts = {}
        for name in PROPERTIES:
            if progress:
                progress(f"{attack.name}: {name} ...")
            verdicts[name] = run_property(attack, name, examples=examples)
        results.append({"attack": attack.name, "version": str(attack.version),
                        "step_size_parameter": attack.step_size_parameter, "rtol": attack.rtol,
                        "properties": verdicts})
    return {"schema_version": 1, "generated": datetime.date.today().isoformat(), "properties": list(PROPERTIES),
            "attacks": results, "missing": dict(missing or {})}


def markdown(report):
    """``conformance.md``: one table (attacks × properties), then every deviation's reproducer."""
    names = report["properties"]
    out = ["# Conformance of L2 PGDs with the paper's algorithm", "",
           "Per attack and property (`theory/attacks/properties.py`): conforms, deviates (with the shrunk "
           "draw that shows it) or not applicable. The paper's PGD: a start uniform in the open ball, the raw "
           "gradient step, the Euclidean projection, for any x in R^d.", "",
           "| attack | version | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for entry in report["attacks"]:
        cells = [entry["properties"][n]["status"] for n in names]
        out.append(f"| {entry['attack']} | {entry['version']} | " + " | ".join(cells) + " |")
    for module, why in report["missing"].items():
        out.append(f"| {module} | — | " + " | ".join("not run" for _ in names) + " |")
    if report["missing"]:
        out += ["", "Not run:"] + [f"- {module}: {why}" for module, why in report["missing"].items()]
    out += ["", "## Deviations", ""]
    for entry in report["attacks"]:
        for name in names:
            verdict = entry["properties"][name]
            if verdict["status"] == "deviates":
                r = verdict["reproducer"]
                out += [f"### {entry['attack']}: {name}", "", f"- draw: `{r['problem']}`, seed {r['seed']} "
                        f"(d = {r['d']}, m = {r['m']}, ‖x‖ = {r['input_norm']:.4g}, ε = {r['eps']:.4g}; shrunk by "
                        f"Hypothesis over {verdict['examples']} draws)",
                        f"- {r['message']}", f"- breaks {r['breaks']}", f"- reproduce: `{r['call']}`", ""]
    return "\n".join(out).rstrip() + "\n"


def validate(report):
    """Validate ``report`` against :data:`SCHEMA_PATH` (jsonschema, the ``dev`` extra); returns why not, or None."""
    try:
        import jsonschema
    except ImportError:
        return "jsonschema is not installed"
    jsonschema.validate(report, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    return None


def write(report, out):
    """Validate ``report`` (:func:`validate`), then write ``conformance.json`` and ``conformance.md`` into ``out``."""
    skipped = validate(report)
    if skipped:
        print(f"note: conformance.json not validated against the schema: {skipped}", file=sys.stderr)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = out / "conformance.json", out / "conformance.md"
    paths[0].write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    paths[1].write_text(markdown(report), encoding="utf-8")
    return paths


def load_attack(spec):
    """An attack from ``module:Class`` (instantiated without arguments); ValueError for a malformed spec."""
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise ValueError(f"attack must be 'module:Class', got {spec!r}")
    module, name = spec.split(":")
    return check_attack(getattr(importlib.import_module(module), name)())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m theory.conformance", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="report", help="folder for conformance.md and conformance.json")
    parser.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES, help="draws per single-step property")
    parser.add_argument("--attack", action="append", default=[], metavar="MODULE:CLASS",
                        help="check this attack too (repeatable)")
    parser.add_argument("--no-libraries", action="store_true", help="only the attacks given with --attack")
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error("--examples must be >= 1")
    from theory.attacks.libraries import available_attacks

    attacks, missing = ([], {}) if args.no_libraries else available_attacks()
    try:
        attacks += [load_attack(spec) for spec in args.attack]
    except (ValueError, ImportError, AttributeError, TypeError) as error:
        parser.error(f"--attack: {error}")
    for module, why in missing.items():
        print(f"note: {module} not run: {why}", file=sys.stderr)
    report = conformance(attacks, missing, examples=args.examples,
                         progress=lambda line: print(line, file=sys.stderr, flush=True))
    for path in write(report, args.out):
        print(path)
    return 0
