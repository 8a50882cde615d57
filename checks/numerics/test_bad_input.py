"""Bad input to every public entry point raises a clear ValueError or TypeError naming the argument.

One row per (entry point, bad argument); the table is also the page
``docs/bad_input.md`` ("Bad input"), linked from the README. The negative
control runs the same assertion on an unvalidated function and shows that it
fails (the function returns NaN).

The page's table and these rows are kept in step by a test: every row names
a function called here, and every function called here is named in a row (its
control adds an untested row and drops a listed function; both are caught).
"""

import re
from pathlib import Path

import numpy as np
import pytest

from ..support import assert_rejects, evidence, needs_source_tree
from theory.report.claims import test_kind
from theory._kernel import LossGradKernel
from theory.losses import get_loss
from theory.report.build import build_report
from theory.report.files import write_atomically
from theory.constrained import (
    constrained_hessian, delta_eta_region, descent_cosine, lagrange_multiplier, tangent_gradient,
)
from theory.testing.diffcheck import curve_derivative, first_steps, gradient_agreement
from theory.geometry import (
    cosine, great_circle, on_sphere, project_ball, project_tangent, uniform_ball, uniform_sphere,
    vector_norm,
)
from theory.network import TwoLayerNet, check_input, draw_network
from theory.bounds import (
    ball_derivative_bounds, certified_gradient_floor, evaluation_error_bounds, gradient_norm_range,
    local_hessian_bound, third_derivative_bound, value_variation_bound,
)
from theory.certificates.uniqueness import contraction_tau_eps, uniqueness_certificate
from theory.certificates.tau import annulus_tau_eps, certified_tau_eps
from theory._compiled import kernel_choice
from theory.attacks import check_attack
from theory.attacks.conformance import load_attack
from theory.certificates.annulus import annulus_derivatives, box_derivative_bounds, fold_free_annulus
from theory.certificates.shell import (
    chart_points, fold_free_shell, shell_box_bounds, shell_derivatives, shell_tau_eps,
)
from theory.landscape.sphere_scan import sphere_critical_points
from theory.landscape.circle import circle_critical_points
from theory.landscape.worst_case import condition_6, min_gradient_norm
from theory.landscape.search import critical_points, local_extrema
from theory.landscape.threshold import minima_threshold, scan_threshold
from theory.landscape.critical import newton_on_sphere, tangent_basis
from theory.experiments.findings import compute as findings_compute
from theory.experiments.rate_models import compare_rate_models
from theory.certificates.fixed_point import fixed_point_distance_bound
from theory.testing.statistics import (
    ks_critical, ks_power_lower_bound, ks_samples, mean_ci, median_ci, paired_sign_test_draws,
    paired_sign_test_power, per_run_false_fail, proportion_ci, sign_test_critical, sign_test_draws,
    sign_test_power,
)
from theory.pgd import (
    constant_schedule, equation_3_holds, output_criterion, pgd, pgd_until, remark3_schedule, schedule_steps,
    step_product,
)
from theory.problem import Problem, make_problem
from theory.testing.regimes import (
    definiteness_margin, gradient_failure_probability, gradient_lower_bound, interior_decrease_constant, min_width,
    regime,
)
from theory.experiments.scale import count_minima, escape_steps
from theory.experiments.threshold_sweep import (
    blind_spots, count_changes, fit_log_exponent, tau_ratio_distribution,
)
from theory.testing.tolerances import (
    central_difference_stencil, global_cap_rtol, higham_gamma, one_unit_bound_rtols, spectral_norm_rtol,
    shifted_exp_rtol, summation_rtol,
)

NET = draw_network(3, 5, seed=0)
PROB = make_problem(3, 5, seed=0, ratio=0.1)
PROB2 = make_problem(2, 5, seed=0, ratio=0.1)
GOOD = np.ones((2, 3)) * 0.01
_KERNEL = LossGradKernel(PROB, 2)


def kernel_call(delta, **kwargs):
    """A kernel sized for 2 rows (a named function: the test ids must not carry an object's address)."""
    return _KERNEL(delta, **kwargs)


#: W = 0: f is constant, so ∂L(δ) = 0 at every δ and the descent cosine is undefined.
FLAT = Problem(TwoLayerNet(np.zeros((5, 3)), np.ones(5)), np.ones(3), 0.0, 0.1)
NAN = np.array([[np.nan, 0.0, 0.0]])
QUADRATIC, CROSS_ENTROPY = get_loss("quadratic"), get_loss("cross_entropy")

CASES = [
    # (call, args, kwargs, argument named in the message)
    (draw_network, (0, 5), dict(seed=0), "d"),
    (draw_network, (3, -1), dict(seed=0), "m"),
    (draw_network, (3.5, 5), dict(seed=0), "d"),
    (draw_network, (3, 5), dict(seed=-1), "seed"),
    (draw_network, (3, 5), dict(seed=0, kappa=0.0), "kappa"),
    (draw_network, (3, 5), dict(seed=0, gamma=np.nan), "gamma"),
    (TwoLayerNet, (np.ones((5, 3)), np.ones(4)), {}, "a"),
    (TwoLayerNet, (np.ones(3), np.ones(3)), {}, "W"),
    (TwoLayerNet, (np.full((5, 3), np.inf), np.ones(5)), {}, "W"),
    (TwoLayerNet, (np.ones((0, 3)), np.ones(0)), {}, "W"),
    (TwoLayerNet, (np.ones((5, 3)), ["a"] * 5), {}, "a"),
    (check_input, ("net", np.ones(3)), {}, "net"),
    (check_input, (NET, np.ones((2, 3))), {}, "x"),
    (check_input, (NET, np.ones(4)), {}, "x"),
    (NET.value, (np.ones((2, 4)),), {}, "z"),
    (NET.grad, (NAN,), {}, "z"),
    (NET.hessian, ("abc",), {}, "z"),
    (NET.hvp, (GOOD, np.ones((3, 3))), {}, "v"),
    (NET.hvp, (GOOD, np.ones(4)), {}, "v"),
    (NET.hvp, (GOOD, NAN), {}, "v"),
    (make_problem, (0, 5), dict(seed=0, ratio=0.1), "d"),
    (make_problem, (3, 0), dict(seed=0, ratio=0.1), "m"),
    (make_problem, (3, 5), dict(seed=0), "eps"),
    (make_problem, (3, 5), dict(seed=0, eps=-1.0), "eps"),
    (make_problem, (3, 5), dict(seed=0, ratio=0.0), "ratio"),
    (make_problem, (3, 5), dict(seed=0, ratio=0.1, input_scale=-2.0), "input_scale"),
    (make_problem, (3, 5), dict(seed=0, ratio=0.1, loss="hinge"), "loss"),
    (make_problem, (3, 5), dict(seed=0, ratio=0.1, y=np.nan), "y"),
    (make_problem, (3, 5), dict(seed=0, ratio=0.1, label_gap=0.0), "label_gap"),
    (Problem, (NET, np.ones(4), 0.0, 0.1), {}, "x"),
    (Problem, (NET, np.ones(3), 2.0, 0.1, "cross_entropy"), {}, "y"),
    (Problem, (NET, np.ones(3), 0.0, 0.0), {}, "eps"),
    (Problem, ("net", np.ones(3), 0.0, 0.1), {}, "net"),
    (PROB.loss_grad, (NAN,), {}, "delta"),
    (PROB.loss_hessian, (np.ones(2),), {}, "delta"),
    (PROB.loss_hvp, (GOOD, NAN), {}, "v"),
    (vector_norm, (None,), {}, "x"),
    (vector_norm, (3.0,), {}, "x"),
    (vector_norm, (NAN,), {}, "x"),
    (vector_norm, (np.array([[np.inf, 1.0]]),), dict(axis=0), "x"),
    (project_ball, (GOOD, 0.0), {}, "eps"),
    (project_ball, (NAN, 1.0), {}, "delta"),
    (project_ball, (0.5, 1.0), {}, "delta"),
    (project_tangent, (np.zeros(3), np.ones(3)), {}, "delta"),
    (project_tangent, (NAN, np.ones(3)), {}, "delta"),
    (project_tangent, (np.ones(3), np.ones(4)), {}, "v"),
    (project_tangent, (np.ones(3), np.array([np.nan, 0.0, 0.0])), {}, "v"),
    (on_sphere, (NAN, 1.0), {}, "delta"),
    (on_sphere, (GOOD, 0.0), {}, "eps"),
    (on_sphere, (GOOD, 1.0), dict(rtol=0.0), "rtol"),
    (uniform_ball, (0, 0, 3, 1.0), {}, "n"),
    (uniform_ball, (0, 4, 3, -1.0), {}, "eps"),
    (uniform_ball, ("seed", 4, 3, 1.0), {}, "rng"),
    (uniform_ball, (0, 4, 0, 1.0), {}, "d"),
    (uniform_sphere, (0, 4, 0, 1.0), {}, "d"),
    (uniform_sphere, ("seed", 4, 3, 1.0), {}, "rng"),
    (uniform_sphere, (0, 0, 3, 1.0), {}, "n"),
    (uniform_sphere, (0, 4, 3, -1.0), {}, "eps"),
    (cosine, (np.zeros(3), np.ones(3)), {}, "u"),
    (cosine, (np.ones(3), np.zeros(3)), {}, "v"),
    (cosine, (NAN, np.ones(3)), {}, "u"),
    (cosine, (np.ones(3), np.ones(4)), {}, "v"),
    (cosine, (np.ones(3), NAN), {}, "v"),
    (lagrange_multiplier, (PROB, np.zeros(3)), {}, "delta"),
    (tangent_gradient, (PROB, np.ones(4)), {}, "delta"),
    (constrained_hessian, ("p", np.ones(3)), {}, "problem"),
    (descent_cosine, (PROB, NAN), {}, "delta"),
    (descent_cosine, (FLAT, GOOD), {}, "delta"),
    (delta_eta_region, (PROB, GOOD), dict(eta=0.0, gradient_lower_bound=1.0), "eta"),
    (delta_eta_region, (PROB, GOOD), dict(eta=0.1, gradient_lower_bound=-1.0), "gradient_lower_bound"),
    (delta_eta_region, (PROB, GOOD), dict(eta=0.1, lb=-1.0), "lb"),
    (delta_eta_region, (PROB, GOOD), dict(eta=0.1, lb=1.0, gradient_lower_bound=1.0), "gradient_lower_bound"),
    (delta_eta_region, (PROB, GOOD), dict(eta=0.1, lb=1.0, cosine=np.zeros(7)), "cosine"),
    (pgd, (PROB, GOOD), dict(eta=-0.1, steps=3), "eta"),
    (pgd, (PROB, GOOD), dict(eta=0.1, steps=-1), "steps"),
    (pgd, (PROB, GOOD * 1e3), dict(eta=0.1, steps=3), "delta0"),
    (pgd, (PROB, GOOD), dict(eta=0.1, schedule=[0.1], steps=1), "eta"),
    (pgd, (PROB, GOOD), dict(schedule=[0.1, -0.1], steps=2), "schedule"),
    (pgd, (PROB, GOOD), dict(schedule=[0.1], steps=2), "schedule"),
    (pgd, ("p", GOOD), dict(eta=0.1, steps=1), "problem"),
    (pgd, (PROB, NAN), dict(eta=0.1, steps=1), "delta0"),
    (pgd, (PROB, np.full((2, 4), 0.01)), dict(eta=0.1, steps=1), "delta0"),
    (fixed_point_distance_bound, (PROB, 0.0, 2), {}, "eta"),
    (fixed_point_distance_bound, (PROB, 1.0, -1), {}, "steps"),
    (fixed_point_distance_bound, (PROB, 1.0, 2), dict(step_error=-1.0), "step_error"),
    (fixed_point_distance_bound, ("p", 1.0, 2), {}, "problem"),
    (equation_3_holds, ([0.1, 0.1], 0.0, 2), {}, "beta"),
    (equation_3_holds, ([0.1, 0.1], 1.0, 0), {}, "steps"),
    (equation_3_holds, ([0.1, 0.1], 30.0, 2), {}, "schedule"),
    (step_product, ([0.1, -0.1], 1.0, 2), {}, "schedule"),
    (step_product, ([0.1, 0.1], -1.0, 2), {}, "beta"),
    (findings_compute, (["no_such_finding"],), {}, "keys"),
    (sign_test_critical, (10, 1.5), {}, "alpha"),
    (sign_test_critical, (-1, 0.01), {}, "n"),
    (sign_test_power, (10, 0.01, 2.0), {}, "q"),
    (sign_test_draws, (0.01, 0.9, 0.4), {}, "q"),
    (sign_test_draws, (0.01, 0.9, 0.5), {}, "q"),
    (sign_test_draws, (0.01, 0.9, 1.5), {}, "q"),
    (paired_sign_test_power, (0, 0.01, 0.5, 0.8), {}, "draws"),
    (paired_sign_test_draws, (0.01, 1.0, 0.5, 0.8), {}, "power"),
    (paired_sign_test_draws, (0.01, 0.5, 0.5, 0.8), dict(max_draws=0), "max_draws"),
    (ks_critical, (0, 0.01), {}, "n"),
    (ks_power_lower_bound, (10, 0.01, 0.0), {}, "distance"),
    (ks_samples, (0.01, 0.0, 0.1), {}, "power"),
    (proportion_ci, (5, 3), {}, "successes"),
    (proportion_ci, (1, 3), dict(level=1.0), "level"),
    (median_ci, ([],), {}, "values"),
    (mean_ci, ([1.0],), {}, "values"),
    (mean_ci, ([1.0, 2.0],), dict(level=1.5), "level"),
    (per_run_false_fail, (0.0, 10), {}, "alpha"),
    (compare_rate_models, ([0.1, 0.01], [1.0, 2.0]), {}, "etas"),
    (compare_rate_models, ([0.1, 0.01, 2.0], [1.0, 2.0, 3.0]), {}, "etas"),
    (compare_rate_models, ([0.1, 0.01, 0.0], [1.0, 2.0, 3.0]), {}, "etas"),
    (compare_rate_models, ([0.1, 0.01, 0.001], [1.0, 0.0, 3.0]), {}, "times"),
    (compare_rate_models, ([0.1, 0.01, 0.001], [1.0, 2.0]), {}, "times"),
    (remark3_schedule, (0.0, 10), {}, "beta"),
    (remark3_schedule, (1.0, np.inf), {}, "z"),
    (constant_schedule, (0.0,), {}, "eta"),
    (schedule_steps, ([0.1], -1), {}, "steps"),
    (schedule_steps, ([0.1, np.nan], 2), {}, "schedule"),
    (schedule_steps, ([0.1, 0.0], 2), {}, "schedule"),
    (schedule_steps, (lambda s: np.full(s.shape, np.nan), 2), {}, "schedule"),
    (pgd_until, (PROB, GOOD, 0.0, lambda dl: np.ones(2, bool)), dict(max_steps=3), "eta"),
    (pgd_until, (PROB, GOOD, 0.1, lambda dl: np.ones(2, bool)), dict(max_steps=-1), "max_steps"),
    (pgd_until, (PROB, GOOD * 1e3, 0.1, lambda dl: np.ones(2, bool)), dict(max_steps=3), "delta0"),
    (output_criterion, (PROB, -1.0), {}, "eta"),
    (output_criterion, (PROB, 0.1), dict(power=0.0), "power"),
    (min_width, (0,), {}, "d"),
    (regime("theorem_3_1").eps_max, (2,), {}, "m"),
    (regime("theorem_3_1").eta_max, (100, np.nan), {}, "eps"),
    (regime("lemma_4_3").eta_max, (100, 0.1), {}, "step size"),
    (regime("theorem_3_1").eta_max, (2, 0.1), {}, "m"),
    (regime, ("lemma_9_9",), {}, "claim"),
    (gradient_failure_probability, (3,), dict(floor=0.0), "floor"),
    (gradient_lower_bound, (1.0,), dict(floor=0.0), "floor"),
    (interior_decrease_constant, (1.0,), dict(floor=-1.0), "floor"),
    (definiteness_margin, (-1.0,), {}, "dloss_lower"),
    (certified_gradient_floor, (NET, np.ones(4), 0.1), {}, "x"),
    (certified_gradient_floor, (NET, np.ones(3), 0.0), {}, "eps"),
    (critical_points, (PROB,), dict(n_starts=0), "n_starts"),
    (local_extrema, (PROB2,), dict(n_starts=0), "n_starts"),  # the circle scan ignores it; still checked
    (critical_points, (make_problem(1, 3, seed=0, eps=0.1),), {}, "d"),
    (newton_on_sphere, (PROB, np.ones(4)), {}, "delta"),
    (tangent_basis, (np.zeros(3),), {}, "delta"),
    (tangent_basis, (np.array([np.nan, 1.0]),), {}, "delta"),
    (min_gradient_norm, ("p",), {}, "problem"),
    (condition_6, (PROB, 0.0, 1.0), {}, "eta"),
    (condition_6, (PROB, 0.1, np.nan), {}, "gradient_lower_bound"),
    (escape_steps, ("p", 0), {}, "problem"),
    (local_hessian_bound, (NET, np.ones(3), -1.0), {}, "eps"),
    (local_hessian_bound, (NET, "x", 0.1), {}, "x"),
    (value_variation_bound, (NET, np.ones(2), 0.1), {}, "x"),
    (evaluation_error_bounds, (NET, "z"), {}, "z"),
    (evaluation_error_bounds, (NET, np.ones((2, 4))), {}, "z"),
    (third_derivative_bound, ("net",), {}, "net"),
    (gradient_norm_range, (NET, np.ones((2, 3)), 0.1), {}, "x"),
    (uniqueness_certificate, (make_problem(1, 3, seed=0, eps=0.1),), {}, "d"),
    (uniqueness_certificate, (PROB,), dict(eps=np.nan), "eps"),
    (certified_tau_eps, ("p",), {}, "problem"),
    (certified_tau_eps, (PROB,), dict(eps_cap=0.0), "eps_cap"),
    (circle_critical_points, (PROB,), {}, "d"),
    (circle_critical_points, (make_problem(2, 5, seed=0, ratio=0.1),), dict(initial_points=2), "initial_points"),
    (critical_points, (PROB,), dict(method="exhaustive"), "method"),
    (minima_threshold, (PROB,), dict(rtol=0.0), "rtol"),
    (minima_threshold, (PROB2,), dict(max_boxes=0), "max_boxes"),
    (scan_threshold, (PROB,), dict(ratio=1.0), "ratio"),
    (scan_threshold, (PROB,), dict(ratio=np.nan), "ratio"),
    (scan_threshold, (PROB,), dict(eps_cap=-1.0), "eps_cap"),
    (minima_threshold, (PROB2,), dict(eps_cap=0.0), "eps_cap"),
    (scan_threshold, (PROB,), dict(eps_lo=-1.0), "eps_lo"),
    (certified_tau_eps, (PROB2,), dict(method="bisection"), "method"),
    (certified_tau_eps, (PROB,), dict(method="annulus"), "method"),
    (certified_tau_eps, (PROB2,), dict(max_boxes=0), "max_boxes"),
    (certified_tau_eps, (PROB2,), dict(rtol=np.nan), "rtol"),
    (contraction_tau_eps, ("p",), {}, "problem"),
    (contraction_tau_eps, (PROB,), dict(eps_cap=-1.0), "eps_cap"),
    (ball_derivative_bounds, (NET, np.ones((2, 3)), -np.ones(2)), {}, "rho"),
    (ball_derivative_bounds, (NET, np.ones((2, 4)), np.ones(2)), {}, "z"),
    (annulus_derivatives, (PROB, [1.0], [0.0]), {}, "d"),
    (annulus_derivatives, (PROB2, [1.0], [np.nan]), {}, "theta"),
    (annulus_derivatives, (PROB2, [0.0], [1.0]), {}, "eps"),
    (annulus_derivatives, (PROB2, [1.0, 2.0], [0.0]), {}, "eps"),  # eps and theta of different lengths
    (box_derivative_bounds, (PROB2, [1.0], [0.5], [0.0], [0.1]), {}, "eps_lo"),
    (fold_free_annulus, ("p", 1.0, 2.0), {}, "problem"),
    (fold_free_annulus, (PROB2, 1.0, 0.5), {}, "eps_hi"),
    (fold_free_annulus, (PROB2, 0.0, 1.0), {}, "eps_lo"),
    (fold_free_annulus, (PROB2, 1.0, 2.0), dict(max_boxes=0), "max_boxes"),
    (annulus_tau_eps, (PROB2, 1.0, 0.5), {}, "eps_cap"),
    (certified_tau_eps, (PROB2,), dict(method="shell"), "method"),
    (chart_points, ([7], [0.0], [0.0]), {}, "face"),
    (chart_points, ([0], [np.nan], [0.0]), {}, "a"),
    (shell_derivatives, (PROB2, [0], [1.0], [0.0], [0.0]), {}, "d"),
    (shell_derivatives, (PROB, [0], [0.0], [0.0], [0.0]), {}, "eps"),
    (shell_box_bounds, (PROB, [0], [1.0], [0.5], [0.0], [0.1], [0.0], [0.1]), {}, "eps_lo"),
    (shell_box_bounds, (PROB, [0], [0.0], [0.5], [0.0], [0.1], [0.0], [0.1]), {}, "eps_lo"),  # eps_lo = 0
    (fold_free_shell, (PROB, 1.0, 0.5), {}, "eps_hi"),
    (fold_free_shell, (PROB, 0.5, 1.0), dict(rtol=0.0), "rtol"),
    (fold_free_shell, (PROB2, 1.0, 2.0), {}, "d"),
    (shell_tau_eps, (PROB, -1.0), {}, "eps_cap"),
    (sphere_critical_points, (PROB2,), {}, "d"),
    (sphere_critical_points, ("p",), {}, "problem"),
    (sphere_critical_points, (PROB,), dict(max_boxes=0), "max_boxes"),
    (sphere_critical_points, (PROB,), dict(min_side=-1.0), "min_side"),
    (tau_ratio_distribution, (), dict(draws=0), "draws"),
    (tau_ratio_distribution, (), dict(method="exact"), "method"),
    (tau_ratio_distribution, (), dict(d=1), "d"),
    (blind_spots, (), dict(input_scale=0.0), "input_scale"),
    (blind_spots, (), dict(widths=[0]), "widths"),
    (blind_spots, (), dict(seed=-1), "seed"),
    (count_changes, (PROB2, 1.0, 2.0), dict(steps=1), "steps"),
    (count_changes, (PROB, 1.0, 2.0), {}, "d"),
    (count_minima, ("p",), {}, "problem"),
    (fit_log_exponent, ([8, 8], [1.0, 2.0]), {}, "widths"),
    (fit_log_exponent, ([8, 64], [1.0, np.nan]), {}, "values"),
    (build_report, ([],), dict(meta={}), "results"),
    (build_report, ({"records": []},), dict(meta=None), "meta"),
    (write_atomically, ("report", "not callable"), {}, "build"),
    (write_atomically, (__file__, lambda tmp: None), {}, "out"),
    (test_kind, (None,), {}, "name"),
    (evidence, ("proved",), {}, "level"),
    (LossGradKernel, ("p", 4), {}, "problem"),
    (LossGradKernel, (PROB, 0), {}, "batch"),
    (LossGradKernel, (PROB, 4), dict(threads=0), "threads"),
    (LossGradKernel, (PROB, 4), dict(block_units=0), "block_units"),
    (kernel_call, (np.zeros((3, 3)),), {}, "delta"),
    (kernel_call, (np.zeros((2, 4)),), {}, "delta"),
    (pgd, (PROB, GOOD), dict(eta=0.01, steps=1, threads=0), "threads"),
    (kernel_call, (NAN,), {}, "delta"),
    (kernel_call, (GOOD,), dict(grad_out=np.zeros((3, 3))), "grad_out"),
    (QUADRATIC.value, (0.0, np.array([1.0, np.nan])), {}, "f"),
    (QUADRATIC.dvalue, (np.inf, 1.0), {}, "y"),
    (CROSS_ENTROPY.d2value, (0.5, "f"), {}, "f"),
    (CROSS_ENTROPY.value_and_dvalue, (1.5, 0.0), {}, "y"),
    (CROSS_ENTROPY.value, (np.nan, 0.0), {}, "y"),
    (CROSS_ENTROPY.value_and_dvalue, (1.0, np.array([np.inf])), {}, "f"),
    (get_loss, (3,), {}, "loss"),
    (summation_rtol, (0,), {}, "n"),
    (shifted_exp_rtol, (float("nan"),), {}, "shift"),
    (spectral_norm_rtol, (np.nan,), {}, "n"),
    (one_unit_bound_rtols, (2.5,), {}, "d"),
    (global_cap_rtol, (-1, 3), {}, "m"),
    (global_cap_rtol, (4, 0), {}, "d"),
    (higham_gamma, (0,), {}, "n"),
    (higham_gamma, (2 ** 53,), {}, "n"),
    (central_difference_stencil, (7,), {}, "order"),
    (central_difference_stencil, (0,), {}, "order"),
    (central_difference_stencil, (8, 1), {}, "factor"),
    (QUADRATIC.value_error, (0.0, np.array([np.nan])), {}, "f"),
    (CROSS_ENTROPY.dvalue_error, (1.5, 0.0), {}, "y"),
    (CROSS_ENTROPY.d2value_error, (0.5, "f"), {}, "f"),
    (PROB.hvp_error_bounds, (NAN, GOOD), {}, "delta"),
    (PROB.hvp_error_bounds, (GOOD, np.ones((2, 4))), {}, "v"),
    (great_circle, (GOOD, GOOD, 0.0, 0.0), {}, "eps"),
    (great_circle, (GOOD, GOOD, 0.1, "t"), {}, "t"),
    (great_circle, (NAN, GOOD[:1], 0.1, 0.0), {}, "delta"),
    (gradient_agreement, (NET.value, NET.grad, GOOD, np.ones((2, 2))), {}, "z"),
    (first_steps, (GOOD, np.zeros((2, 3))), {}, "v"),
    (first_steps, (GOOD, GOOD), dict(initial_step=0.0), "initial_step"),
    (curve_derivative, (lambda t, i: t, 2), dict(initial_step=-1.0), "initial_step"),
    (kernel_choice, ({"THEORY_KERNEL": "gpu"},), {}, "THEORY_KERNEL"),
    (check_attack, (object(),), {}, "attack"),
    (load_attack, ("no_colon",), {}, "attack"),
]


def case_id(case):
    call, _, _, name = case
    return f"{getattr(call, '__qualname__', call)}-{name}"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_bad_input_raises_a_clear_error_naming_the_argument(case):
    call, args, kwargs, name = case
    assert_rejects(call, *args, name=name, **kwargs)


@pytest.mark.parametrize("case", [c for c in CASES if c[3] == "problem"],
                         ids=[case_id(c) for c in CASES if c[3] == "problem"])
def test_a_rejected_problem_is_described_by_its_type(case):
    call, args, kwargs, _ = case
    assert args[0] == "p"
    with pytest.raises(TypeError, match=r"^problem must be a Problem, got str$"):
        call(*args, **kwargs)


def test_rejected_types_shapes_and_values_are_described():
    """Beyond naming the argument: a wrong type is named by its type, a wrong shape by the one expected,
    a zero δ by what is undefined there, non-finite entries by their number; a bool or a string is
    not a real number."""
    with pytest.raises(TypeError, match=r"^loss must be a loss name or a Loss instance, got int$"):
        get_loss(3)
    with pytest.raises(ValueError, match=r"^a must have shape \(m,\) = \(5,\) to match W, got shape \(4,\)$"):
        TwoLayerNet(np.ones((5, 3)), np.ones(4))
    with pytest.raises(ValueError, match=r"^delta must be non-zero: lambda\*, Gamma and Xi are undefined at delta = 0$"):
        lagrange_multiplier(PROB, np.zeros(3))
    with pytest.raises(TypeError, match=r"^build must be a callable build\(tmp\), got str$"):
        write_atomically("report", "not callable")
    with pytest.raises(TypeError, match=r"^eps must be a real number, got True of type bool$"):
        make_problem(3, 5, seed=0, eps=True)
    with pytest.raises(TypeError, match=r"^eps must be a real number, got '0\.1' of type str$"):
        make_problem(3, 5, seed=0, eps="0.1")
    with pytest.raises(ValueError, match=r"^W must be finite, found 1 NaN or infinite entry$"):
        TwoLayerNet(np.array([[np.nan, 1.0]]), np.ones(1))
    with pytest.raises(ValueError, match=r"^W must be finite, found 2 NaN or infinite entries$"):
        TwoLayerNet(np.array([[np.nan, np.inf]]), np.ones(1))


def test_control_unvalidated_function_is_caught():
    """Negative control: a function without validation returns NaN, and the check fails."""

    def unvalidated_norm(delta):
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.sum(np.asarray(delta) ** 2) * np.sign(np.sum(delta)))

    with pytest.raises(AssertionError, match="accepted bad delta"):
        assert_rejects(unvalidated_norm, -np.ones(3), name="delta")


# --- the table of docs/bad_input.md and these rows agree ---------------------------------------

BAD_INPUT_PAGE = Path(__file__).resolve().parents[2] / "docs" / "bad_input.md"


def table_rows(text):
    """The first cells of the "Bad input" table of docs/bad_input.md (the entry points of each row)."""
    section = text.split("# Bad input", 1)[1].split("\n## ", 1)[0]
    return [line.split("|")[1].strip() for line in section.splitlines()
            if line.startswith("| `")]


def untested_rows(rows, cases=CASES):
    """Rows none of whose named functions (identifiers inside backticks) is called by a case.

    The command row (``python -m theory``) is tested end to end in checks/suite/test_report_command.py.
    """
    tested = {getattr(call, "__name__", "") for call, *_ in cases}
    missing = []
    for row in rows:
        if row.startswith("`python -m"):
            continue
        names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(re.findall(r"`([^`]*)`", row))))
        if not names & tested:
            missing.append(row)
    return missing


def unlisted_calls(rows, cases=CASES):
    """Names of the called functions that no row of the table mentions."""
    listed = " ".join(rows)
    names = {getattr(call, "__name__", "") for call, *_ in cases} - {"kernel_call"}
    return sorted(name for name in names if not re.search(rf"\b{name}\b", listed))


@needs_source_tree
def test_every_row_of_the_readme_table_is_tested_and_every_tested_function_is_listed():
    rows = table_rows(BAD_INPUT_PAGE.read_text())
    assert len(rows) >= 20
    assert untested_rows(rows) == []
    assert unlisted_calls(rows) == []


@needs_source_tree
def test_control_an_untested_row_and_an_unlisted_function_are_caught():
    rows = table_rows(BAD_INPUT_PAGE.read_text())
    assert untested_rows(rows + ["`frobnicate`"]) == ["`frobnicate`"]
    assert unlisted_calls([r for r in rows if "draw_network" not in r]) == ["draw_network"]
