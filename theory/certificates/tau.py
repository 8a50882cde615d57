r"""The certified uniqueness radius τ_ε of one draw (Theorem 5.1): the best certificate for its dimension.

The fold-free annulus for d = 2 (:mod:`theory.certificates.annulus`), the fold-free
shell for d = 3 (:mod:`theory.certificates.shell`), the contraction radius otherwise
(:mod:`theory.certificates.uniqueness`).
"""


from __future__ import annotations

from theory._validation import check_positive_float, check_positive_int
from theory.certificates.uniqueness import TAU_EPS_CAP_SCALE, contraction_tau_eps
from theory.geometry import vector_norm
from theory.certificates.shell import SHELL_MAX_BOXES, shell_tau_eps
from theory.certificates.annulus import (
    ANNULUS_INITIAL_ARCS, ANNULUS_MAX_BOXES, ANNULUS_MIN_ARC, ANNULUS_RTOL, check_d2, cover_annulus, fold_free_annulus,
)
from theory.problem import check_problem

__all__ = ["certified_tau_eps", "annulus_tau_eps", "TAU_METHODS"]

#: Methods of :func:`certified_tau_eps`.
TAU_METHODS = ("auto", "contraction", "annulus", "shell")



def certified_tau_eps(problem, *, eps_cap=None, method="auto", max_boxes=None, rtol=ANNULUS_RTOL) -> float:
    r"""The certified uniqueness radius τ_ε of one draw (Theorem 5.1): for every ε < τ_ε exactly one local minimum.

    ``"contraction"``: :func:`theory.certificates.uniqueness.contraction_tau_eps`, the largest radius
    τ_0 of the contraction certificate (any d >= 2). ``"annulus"`` (d = 2): from
    τ_0, the radius reached by the fold-free annulus of :func:`annulus_tau_eps`
    (module docstring: the count of minima is 1 at τ_0 and cannot change in a
    fold-free annulus), never below τ_0. ``"shell"`` (d = 3): the same on the sphere
    :math:`\mathbb S^2` by cube-sphere charts (:func:`theory.certificates.shell.shell_tau_eps`).
    ``"auto"``: the annulus for d = 2, the shell for d = 3, the contraction otherwise.
    The family is ``problem`` with only ε varied (network, input, label and loss
    fixed); its own ε is not used.

    Parameters
    ----------
    problem : Problem
        d >= 2.
    eps_cap : float, optional
        Largest radius tried (default :data:`theory.certificates.uniqueness.TAU_EPS_CAP_SCALE` · (‖x‖ + 1));
        returned when certified there.
    method : {"auto", "contraction", "annulus", "shell"}
    max_boxes : int, optional
        Budget of the cover (default :data:`ANNULUS_MAX_BOXES`, or
        :data:`theory.certificates.shell.SHELL_MAX_BOXES` for the shell).
    rtol : float
        Resolution in ε of the cover, relative.

    Returns
    -------
    float
        0.0 when the contraction certifies no radius (see
        :func:`theory.certificates.uniqueness.contraction_tau_eps`).

    Notes
    -----
    Measured (``python -m theory.experiments.threshold_sweep --ratios``: d = 2, m = 8, 32, 128, seeds 0-49,
    n = 150, input scale 1, cap 20): the first radius with two minima (known to 10⁻³,
    relative) over the annulus τ_ε has median 1.0010 and max 1.0020, never below 1; over
    the contraction radius (``--method contraction``) median 9.10 (95 % CI 6.62 to 11.37)
    and 10 % quantile 3.28. The cover stops at the first fold it cannot pass (or at its
    budget), so τ_ε lands within about ``rtol`` of the threshold. At d = 3 (the shell,
    ``--ratios --dim 3 --widths 8,32 --draws 20 --scan-ratio 1.1``, n = 40): median 1.44
    (95 % CI 1.02 to 1.79), against 12.97 for the contraction (:mod:`theory.certificates.shell`).
    """
    check_problem(problem)
    if method not in TAU_METHODS:
        raise ValueError(f"method must be one of {TAU_METHODS}, got {method!r}")
    if method == "annulus" and problem.d != 2:
        raise ValueError(f"method 'annulus' needs d = 2, got d={problem.d}")
    if method == "shell" and problem.d != 3:
        raise ValueError(f"method 'shell' needs d = 3, got d={problem.d}")
    if method == "auto":
        method = {2: "annulus", 3: "shell"}.get(problem.d, "contraction")
    if max_boxes is None:
        max_boxes = SHELL_MAX_BOXES if method == "shell" else ANNULUS_MAX_BOXES
    max_boxes = check_positive_int("max_boxes", max_boxes)
    rtol = check_positive_float("rtol", rtol)
    if eps_cap is None:
        eps_cap = TAU_EPS_CAP_SCALE * (float(vector_norm(problem.x)) + 1.0)
    eps_cap = check_positive_float("eps_cap", eps_cap)
    if method == "contraction":
        return contraction_tau_eps(problem, eps_cap=eps_cap)
    if method == "shell":
        return shell_tau_eps(problem, eps_cap, max_boxes=max_boxes, rtol=rtol)
    return _annulus_tau(problem, eps_cap, max_boxes=max_boxes, rtol=rtol)


def _annulus_tau(problem, eps_cap, *, max_boxes=ANNULUS_MAX_BOXES, rtol=ANNULUS_RTOL, bound_factor=1.0):
    """τ_ε of the ``"annulus"`` method; ``bound_factor`` < 1 scales the box bounds wrongly (controls only)."""
    tau0 = contraction_tau_eps(problem, eps_cap=eps_cap)
    if tau0 == 0.0 or tau0 >= eps_cap:
        return tau0
    cover = cover_annulus(problem, tau0, eps_cap, max_boxes=max_boxes, rtol=rtol, min_arc=ANNULUS_MIN_ARC,
                   arcs=ANNULUS_INITIAL_ARCS, bound_factor=bound_factor)
    return max(cover.reached, tau0)


def annulus_tau_eps(problem, eps_lo, eps_cap, *, max_boxes=ANNULUS_MAX_BOXES, rtol=ANNULUS_RTOL):
    r"""Grow a fold-free annulus from ε₀ towards ``eps_cap``; the radius it reaches (d = 2).

    The cover of :func:`fold_free_annulus` on :math:`[\varepsilon_0, \text{eps\_cap}]`,
    smallest radii first: the returned radius τ is such that every
    :math:`\varepsilon_0 \le \varepsilon < \tau` lies in a proved box. When L has exactly
    one local minimum on the circle of radius ε₀ and every critical point there
    is non-degenerate (as the contraction certificate proves), it has exactly one
    at every radius of :math:`[\varepsilon_0, \tau)` (module docstring).

    Parameters
    ----------
    problem : Problem
        d = 2.
    eps_lo, eps_cap : float
        :math:`0 < \varepsilon_0 \le` ``eps_cap``.
    max_boxes, rtol
        As in :func:`fold_free_annulus`.

    Returns
    -------
    AnnulusCover
        ``reached`` is τ.
    """
    check_d2(problem)
    eps_lo = check_positive_float("eps_lo", eps_lo)
    eps_cap = check_positive_float("eps_cap", eps_cap)
    if eps_cap < eps_lo:
        raise ValueError(f"eps_cap must be >= eps_lo, got eps_lo={eps_lo}, eps_cap={eps_cap}")
    return fold_free_annulus(problem, eps_lo, eps_cap, max_boxes=max_boxes, rtol=rtol)
