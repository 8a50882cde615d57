"""The calibrations the docstrings of ``theory/`` quote, recomputed: ``python -m theory.experiments.calibration``.

Each experiment of :mod:`theory.experiments.calibration` runs at the size its quote
states, and the quote, rebuilt from the recomputed numbers with the quote's rounding,
must appear in the module that quotes it (whitespace and ``#:`` comment prefixes
ignored). Where a constant is calibrated against a measured number, the side it must
be on is checked too (H_ref above the largest ‖∂²f‖, γ below the smallest
eigenvalue). Experiment 6 runs seeded Hypothesis draws. They change with Hypothesis's
version, and with the code loaded: Hypothesis mixes literal constants of the local
modules in ``sys.modules`` into its draws (about 1 draw in 20), so the test modules a
pytest run imports, or a mutated copy of ``theory/``, change them. It therefore runs in a
subprocess, as the command runs it, and its quotes are compared under the locked version
and on the unmutated code only; what holds on any draws (sizes, intervals, the second
share a part of the first) is checked everywhere.
Controls: a quote with one number changed, and the experiment at another size, are
caught.
"""

import json
import os
import re
import subprocess
import sys

import hypothesis
import numpy as np
import pytest

import theory.attacks.properties as properties
import theory.experiments.scale as scale
import theory.testing.regimes as regimes
from theory.experiments import calibration
from theory.experiments.calibration import (definiteness, gradient_at_x, hessian_at_x, near_critical_points,
                                            section_5_1, tau_eps)

from ..support import SOURCE_TREE


def quoted_text(module):
    """The source of ``module`` (a module, or a page of docs/ by name) as one line: runs of whitespace
    and ``#:`` prefixes become one space."""
    if isinstance(module, str):
        if SOURCE_TREE is None:
            pytest.skip("the documentation pages are in the source tree")
        path = SOURCE_TREE / "docs" / module
    else:
        path = module.__file__
    with open(path, encoding="utf-8") as source:
        return re.sub(r"\s*\n\s*(#:)?\s*|\s+", " ", source.read())


def pct(k, n):
    return f"{100 * k / n:.0f} %"


def gradient_quotes(r):
    return [f"{r['n']} draws at d = {r['d']}, m = {r['widths'][0]}..{r['widths'][1]}): the smallest ‖∂f(x)‖ "
            f"observed was {r['min']:.3f} and the 0.1 % quantile {r['q001']:.3f}",
            f"({r['min']:.3f}: the smallest ‖∂f(x)‖ of the calibration)"]


def hessian_quotes(r):
    return [f"max {r['max']:.2f} over {r['n']} draws at d = 6..8, median {r['median']:.2f}",
            f"max {r['max']:.2f} in {r['n']} draws"]


def definiteness_quotes(r):
    return [f"Calibration ({r['n']} draws at d = 7, 8 and ε = 0.99 ε_max",
            f"smallest value {r['min']:.1f}, 1 % quantile {r['q01']:.1f}"]


def tau_quotes(rows):
    first = {row["d"]: row["first"] for row in rows}
    return [f"at ε ≈ {first[2]:g} for d = 2 and ε ≈ {first[6]:g} for d = 6, "
            f"{first[2] / regimes.EPS_REFERENCE:.0f} to {first[6] / regimes.EPS_REFERENCE:.0f} times EPS_REFERENCE"]


def escape_quotes(rows):
    small, one, large = rows
    return [f"r = 1, {small['n']} seeds",
            f"at ‖x‖ = 0.01 the loss drop after 10 steps is {small['min']:.3f} to {small['max']:.3f} of the range "
            f"for every seed (10 % to 90 % quantile {small['q10']:.3f} to {small['q90']:.3f}); at ‖x‖ = 1 and 100 "
            f"its median is lower ({one['median']:.3f}, {large['median']:.3f}) but its spread is wide "
            f"(10 % quantiles {one['q10']:.3f} and {large['q10']:.3f}, 90 % quantiles {one['q90']:.3f} and "
            f"{large['q90']:.3f})"]


def floor_quotes(rows):
    positive, meets = rows
    ci = [f"{100 * v:.0f} %" for v in (*positive["ci95"], *meets["ci95"])]
    return [f"{positive['n']} seeded draws of the convergence properties",
            f"the floor is positive for {pct(positive['successes'], positive['n'])} of them (95 % CI {ci[0]} to {ci[1]})",
            f"for {pct(meets['successes'], meets['n'])} ({ci[2]} to {ci[3]})"]


def floor_page_quotes(rows):
    meets = rows[1]
    return [f"{pct(meets['successes'], meets['n'])} of {meets['n']} seeded draws, 95 % CI "
            f"{100 * meets['ci95'][0]:.0f} % to {100 * meets['ci95'][1]:.0f} %"]


#: Each experiment: how to run it at its quoted size, and the quotes it must reproduce with where they are.
EXPERIMENTS = {
    "gradient_at_x": (lambda: gradient_at_x(400), [(gradient_quotes, regimes)]),
    "hessian_at_x": (lambda: hessian_at_x(400), [(hessian_quotes, regimes)]),
    "definiteness": (lambda: definiteness(200), [(definiteness_quotes, regimes)]),
    "tau_eps": (tau_eps, [(tau_quotes, regimes)]),
    "section_5_1": (section_5_1, [(escape_quotes, scale)]),
    "conformance_floor": (lambda: as_the_command_runs("conformance_floor(200)"),
                          [(floor_quotes, properties), (floor_page_quotes, "conformance.md")]),
}


def as_the_command_runs(call):
    """``call`` of :mod:`theory.experiments.calibration` in a fresh interpreter (as the command runs it), its result."""
    code = f"import json; from theory.experiments.calibration import *; print(json.dumps({call}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def missing(quotes, module):
    text = quoted_text(module)
    return [quote for quote in quotes if quote not in text]


def locked_hypothesis():
    """The Hypothesis version of the lock (requirements/dev.lock), or None outside the source tree."""
    lock = SOURCE_TREE / "requirements" / "dev.lock" if SOURCE_TREE else None
    if lock is None or not lock.exists():
        return None
    return re.search(r"^hypothesis==(\S+)", lock.read_text(encoding="utf-8"), re.M).group(1)


def draws_differ_here():
    """Why experiment 6's draws here are not the command's, or None (the module docstring)."""
    if hypothesis.__version__ != locked_hypothesis():
        return f"seeded draws of Hypothesis {hypothesis.__version__}, quoted for {locked_hypothesis()}"
    if "MUTANT_UNDER_TEST" in os.environ:
        return "a mutated copy of theory/ has other literal constants, so Hypothesis draws other examples"
    return None


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_each_calibration_recomputed_at_its_quoted_size_is_the_number_its_docstring_quotes(name):
    if name == "conformance_floor" and draws_differ_here():
        pytest.skip(draws_differ_here())
    run, quoted = EXPERIMENTS[name]
    result = run()
    rows = result if isinstance(result, list) else [result]
    assert all(row["line"].startswith(f"{calibration_number(name)}. ") for row in rows)
    assert [quote for quotes, where in quoted for quote in missing(quotes(result), where)] == []


def calibration_number(name):
    return list(EXPERIMENTS).index(name) + 1


def test_the_conformance_shares_count_their_draws_and_the_second_is_part_of_the_first():
    positive, meets = calibration.conformance_floor(40)
    assert positive["n"] == meets["n"] == 40
    assert meets["successes"] <= positive["successes"]  # the KAPPA_MAX rule needs a positive floor
    for share in (positive, meets):
        assert share["ci95"][0] <= share["successes"] / share["n"] <= share["ci95"][1]
        assert share["line"].startswith(f"6. conformance draws with a {share['name']}: {share['successes']}/40 = ")


def test_the_calibrated_references_are_on_the_safe_side_of_what_was_measured():
    assert regimes.HESSIAN_REFERENCE >= hessian_at_x(400)["max"]
    assert regimes.DEFINITENESS_MARGIN <= definiteness(200)["min"] / 3  # "a factor 3 below"
    assert regimes.GRADIENT_FLOOR <= gradient_at_x(400)["min"] / 2  # "leaves a factor 2"


def test_the_command_prints_every_experiment_in_order(capsys):
    assert calibration.main(["--draws", "4"]) == 0
    numbers = [line.split(".")[0] for line in capsys.readouterr().out.splitlines()]
    assert numbers == ["1", "2", "3", "4", "4", "5", "5", "5", "6", "6"]


def test_the_command_rejects_fewer_than_one_draw(capsys):
    with pytest.raises(SystemExit) as stop:
        calibration.main(["--draws", "0"])
    assert stop.value.code == 2 and "--draws" in capsys.readouterr().err


@pytest.mark.negative_control
def test_control_a_changed_quote_and_another_size_are_caught():
    result = gradient_at_x(400)
    changed = [quote.replace(f"{result['min']:.3f}", f"{result['min'] + 0.001:.3f}") for quote in gradient_quotes(result)]
    assert missing(changed, regimes)
    assert missing(gradient_quotes(gradient_at_x(100)), regimes)


def test_the_near_critical_points_lie_on_the_sphere_at_the_cosine_either_way():
    from theory.geometry import unit
    from theory.testing.regimes import NEAR_CRITICAL_COSINE

    rng = np.random.default_rng(0)
    g = unit(rng.standard_normal(7))
    pts = near_critical_points(g, rng, 16, 0.3)
    assert pts.shape == (32, 7)
    np.testing.assert_allclose(np.linalg.norm(pts, axis=1), 0.3, rtol=1e-12)
    np.testing.assert_allclose(pts @ g / 0.3, np.repeat([NEAR_CRITICAL_COSINE, -NEAR_CRITICAL_COSINE], 16), atol=1e-12)
    tangent = pts - np.outer(pts @ g, g)
    np.testing.assert_allclose(tangent[:16], tangent[16:], atol=1e-12)
    assert np.linalg.matrix_rank(tangent[:16]) == 6, "the tangent parts span the tangent space"
