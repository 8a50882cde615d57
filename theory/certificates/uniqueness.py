r"""The contraction certificate of one draw: a unique minimum on the sphere for every ε ≤ τ_0 (Theorem 5.1).

From the network bounds of :mod:`theory.bounds`: with H an upper bound on the
Hessian of L on the ball and G a floor of the gradient norm, the map
δ ↦ ε ∂L(δ)/‖∂L(δ)‖ is a contraction when ε H / G < 1, so the sphere carries
exactly one local minimum of L. :func:`contraction_tau_eps` bisects for the
largest such radius.
"""


from __future__ import annotations

import math
from dataclasses import dataclass


from theory._validation import check_positive_float
from theory.geometry import vector_norm
from theory.bounds import gradient_norm_range, local_hessian_bound, value_variation_bound
from theory.problem import check_problem

__all__ = [
    "UniquenessCertificate",
    "uniqueness_certificate",
    "contraction_tau_eps",
    "TAU_BISECTION_RTOL",
    "TAU_EPS_CAP_SCALE",
    "TAU_GIVE_UP_RATIO",
]


@dataclass(frozen=True)
class UniquenessCertificate:
    r"""The outcome of :func:`uniqueness_certificate` for one draw and one radius.

    Attributes
    ----------
    eps : float
        The radius certified (or not).
    hessian_bound : float
        :math:`H(\varepsilon)` (:func:`local_hessian_bound`).
    gradient_floor : float
        Certified :math:`B_l(\varepsilon) \le \min_{\text{ball}}\|\partial f\|`.
    dloss_lower : float
        Certified lower bound on :math:`|\partial L/\partial f|` over the ball.
    contraction : float
        :math:`\varepsilon H(\varepsilon)/B_l(\varepsilon)` (inf when the floor is 0):
        the Lipschitz constant of the map T of the derivation.
    certified : bool
        ``contraction < 1`` and ``dloss_lower > 0``: exactly one local minimum
        (and one local maximum) of L on the sphere, both strict.
    """

    eps: float
    hessian_bound: float
    gradient_floor: float
    dloss_lower: float
    contraction: float
    certified: bool


def _problem_parts(problem):
    check_problem(problem)
    return problem.net, problem.x, problem.y, problem.loss


def uniqueness_certificate(problem, eps=None) -> UniquenessCertificate:
    r"""Certify, for one draw, that L has exactly one local minimum on the sphere of radius ε (Theorem 5.1).

    Parameters
    ----------
    problem : Problem
        Its network, input, label and loss are used; d >= 2 (for d = 1 the
        sphere is two isolated points, both local minima).
    eps : float, optional
        The radius to certify; default ``problem.eps``.

    Returns
    -------
    UniquenessCertificate

    Notes
    -----
    **Derivation.** Write :math:`L_f = \partial L/\partial f` and suppose
    :math:`L_f \ne 0` on the ball (certified by ``dloss_lower > 0``; for the
    quadratic loss this is assumption 3), so its sign s is constant there, and
    :math:`\|\partial f\| \ge B_l > 0`. Let :math:`n(\delta) = \partial f/\|\partial f\|`.
    As :math:`\partial L = L_f\,\partial f`, the descent direction is
    :math:`-\partial L/\|\partial L\| = -s\,n(\delta)`, whatever the loss.

    *Critical points.* δ on the sphere is critical iff ∂L is parallel to δ, i.e.
    :math:`\delta = \pm\varepsilon n(\delta)`. Type (i):
    :math:`\delta = T(\delta) := -s\varepsilon n(\delta)` (descent cosine
    ∠[−∂L, δ] = +1); type (ii): :math:`\delta = -T(\delta)` (cosine −1).

    *T is a contraction of the closed ball.* Its Jacobian is
    :math:`-s\varepsilon(I - nn^\top)\partial^2 f/\|\partial f\|`, of norm at most
    :math:`\varepsilon H/B_l` (the loss cancels: only the direction of ∂f moves),
    and the ball is convex, so T is :math:`\varepsilon H/B_l`-Lipschitz. When
    :math:`\varepsilon H < B_l`, Banach's theorem gives exactly one fixed point;
    T maps into the sphere, so it lies on the sphere. Hence exactly one type (i)
    point; likewise (−T) exactly one type (ii) point.

    *Types.* The Riemannian Hessian of L on the sphere at a critical point, on a
    unit tangent t (t ⊥ δ ∥ ∂f, so :math:`t^\top\partial f = 0` and the
    :math:`L_{ff}\,\partial f\partial f^\top` term drops), is
    :math:`t^\top\partial^2 L\,t - \partial L^\top\delta/\varepsilon^2
    = L_f\,t^\top\partial^2 f\,t \pm |L_f|\,\|\partial f\|/\varepsilon`, with + at
    type (i) and − at type (ii). As :math:`|t^\top\partial^2 f t| \le H < B_l/\varepsilon
    \le \|\partial f\|/\varepsilon`, type (i) is a strict local minimum and type (ii)
    a strict local maximum. For d >= 2 a strict local maximum is not a local
    minimum, so L has exactly one local minimum on the sphere (its global
    minimum) and exactly one local maximum.

    The condition is :math:`\varepsilon H(\varepsilon) < B_l(\varepsilon)` with
    :math:`B_l(\varepsilon) = \|\partial f(x)\| - \varepsilon H(\varepsilon)` (minus rounding), i.e.
    roughly :math:`\varepsilon < \|\partial f(x)\|/(2H)`. This is sharper than the
    contraction of :math:`\delta \mapsto \varepsilon u/\|u\|` bounded through
    :math:`\|\partial^2 L\|/\|\partial L\|`, which would carry the loss curvature
    :math:`L_{ff}\|\partial f\|^2` and the ratio 𝓤/𝓛.
    """
    net, x, y, loss = _problem_parts(problem)
    if net.d < 2:
        raise ValueError(f"d must be >= 2 to certify a unique minimum on the sphere, got d={net.d}")
    eps = problem.eps if eps is None else check_positive_float("eps", eps)
    h = local_hessian_bound(net, x, eps)
    floor, _ = gradient_norm_range(net, x, eps)
    f0 = float(net.value(x))
    radius = value_variation_bound(net, x, eps)
    dloss_lower, _ = loss.dvalue_abs_range(y, f0 - radius, f0 + radius)
    contraction = eps * h / floor if floor > 0.0 else float("inf")
    return UniquenessCertificate(eps=eps, hessian_bound=h, gradient_floor=floor,
                                 dloss_lower=float(dloss_lower), contraction=float(contraction),
                                 certified=bool(contraction < 1.0 and dloss_lower > 0.0))


#: Relative width of the final bracket of :func:`contraction_tau_eps`'s bisection.
TAU_BISECTION_RTOL = 1e-6

#: Default largest radius :func:`contraction_tau_eps` tries, in units of ‖x‖ + 1.
#: It only sets where the halving bracket starts; calibration: over make_problem
#: draws with d in {2, 3, 6, 20}, m in {5, 50, 500} and seeds 0-4, the certified
#: τ_ε / (‖x‖ + 1) ranged over [0.12, 0.84], so a cap 10³ times larger is never the
#: answer for such draws and costs ~10 extra certificate evaluations.
TAU_EPS_CAP_SCALE = 1e3

#: :func:`contraction_tau_eps` gives up (returns 0.0) once its halving bracket falls
#: below this fraction of the cap (about 40 halvings). As ε → 0 the certificate's
#: conditions tend to ∂L/∂f(x) ≠ 0 and ∂f(x) ≠ 0, so a draw not certified at
#: 10⁻⁹ (‖x‖ + 1), ~10⁹ times below the calibrated τ_ε (:data:`TAU_EPS_CAP_SCALE`),
#: has one of them zero to within the rounding allowance.
TAU_GIVE_UP_RATIO = 1e-12


def contraction_tau_eps(problem, *, eps_cap=None) -> float:
    r"""The uniqueness radius τ_ε of one draw certified by the contraction argument (Theorem 5.1).

    The largest ε (to :data:`TAU_BISECTION_RTOL`, rounded down) at which
    :func:`uniqueness_certificate` holds. :func:`theory.certificates.certified_tau_eps`
    (also importable from here) starts from it and, for d = 2, extends it. The certificate's condition is
    monotone in ε (:math:`H(\varepsilon)` and the loss range grow, :math:`B_l(\varepsilon)`
    shrinks), so it holds at every radius below the returned value, which is
    therefore a certified threshold: for every ε < τ_ε this draw has exactly one
    local minimum on the sphere.

    For the quadratic loss the label of ``problem`` is kept fixed, so at radii
    where f reaches y the certificate fails (assumption 3).

    Parameters
    ----------
    problem : Problem
        d >= 2.
    eps_cap : float, optional
        Largest radius tried (default :data:`TAU_EPS_CAP_SCALE` · (‖x‖ + 1)); returned
        when certified there.

    Returns
    -------
    float
        0.0 when no radius down to :data:`TAU_GIVE_UP_RATIO` · ``eps_cap`` is certified.
        The bracket lives on the powers of two, not on the cap, so a smaller cap gives
        the smaller of that cap and the larger cap's answer (when that is not 0.0).
    """
    net, x, _, _ = _problem_parts(problem)
    if eps_cap is None:
        cap = TAU_EPS_CAP_SCALE * (float(vector_norm(x)) + 1.0)
    else:
        cap = check_positive_float("eps_cap", eps_cap)
    if uniqueness_certificate(problem, cap).certified:
        return cap
    # Bracket from below on the powers of two (a grid that does not depend on the cap,
    # so that a smaller cap gives min(cap, the same answer)): halve until certified.
    lo = math.ldexp(1.0, math.frexp(cap)[1] - 1)  # the largest power of two <= cap
    while not uniqueness_certificate(problem, lo).certified:
        lo /= 2.0
        if lo < TAU_GIVE_UP_RATIO * cap:
            return 0.0
    hi = 2.0 * lo
    while hi - lo > TAU_BISECTION_RTOL * lo:
        mid = 0.5 * (lo + hi)
        if mid < cap and uniqueness_certificate(problem, mid).certified:
            lo = mid
        else:
            hi = mid
    return lo
