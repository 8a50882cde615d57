r"""PGD with a very large step: the fixed-point map δ ↦ −ε ∂L(δ)/‖∂L(δ)‖ and its distance bound.

With a step η far above Theorem 3.1's η_max, one PGD step leaves the ball by
far, and the projection keeps only the direction of the gradient:
:math:`P_B(\delta - \eta\,\partial L(\delta)) \approx T(\delta) = -\varepsilon\,\partial L(\delta)/\|\partial L(\delta)\|`.
When :func:`theory.certificates.uniqueness.uniqueness_certificate` holds, T is a contraction of
the ball whose fixed point is the unique local minimum δ* of L on the sphere,
so PGD reaches δ* geometrically fast without η < ε².
:func:`fixed_point_distance_bound` states this with explicit constants.
"""

from __future__ import annotations

import numpy as np

from theory._validation import check_positive_float, check_positive_int
from theory.certificates.uniqueness import uniqueness_certificate
from theory.problem import check_problem

__all__ = ["fixed_point_distance_bound"]


def fixed_point_distance_bound(problem, eta, steps, *, step_error=0.0):
    r"""Bounds on ‖δ_t − δ*‖, t = 0 .. ``steps``, for PGD with a constant step η (any start in the ball).

    Parameters
    ----------
    problem : Problem
        d >= 2.
    eta : float
        The constant step size, > 0.
    steps : int
        The last t, >= 0.
    step_error : float
        A bound e >= 0 on the rounding error of one computed step (the
        computed δ_{t+1} is within e of the exact step from the computed δ_t).

    Returns
    -------
    ndarray, shape (steps + 1,)
        :math:`D_t = q^t\,2\varepsilon + (r + e)(1 - q^t)/(1 - q)`, or inf for
        every t when the hypotheses below fail (no certificate, or
        :math:`\eta\,g < 2\varepsilon`).

    Notes
    -----
    **Derivation.** Let :math:`q = \varepsilon H/B_l < 1` be the contraction
    constant of the certificate and :math:`g = \mathcal{L}_f B_l`, a certified lower
    bound on :math:`\|\partial L\| = |L_f|\|\partial f\|` over the ball
    (``dloss_lower`` times the gradient floor). The certificate's derivation
    shows that :math:`T(\delta) = -\varepsilon\,\partial L/\|\partial L\|` is
    q-Lipschitz on the ball with the unique local minimum δ* on the sphere as its
    fixed point. For δ in the ball write :math:`a = -\eta\,\partial L(\delta)`, so that
    :math:`\|a\| \ge \eta g \ge 2\varepsilon` and :math:`\|\delta + a\| \ge \|a\| - \varepsilon \ge \varepsilon`:
    the projection is active and the PGD step is
    :math:`S(\delta) = \varepsilon(a + \delta)/\|a + \delta\|`. For unit vectors,
    :math:`\|(a+\delta)/\|a+\delta\| - a/\|a\|\| \le 2\|\delta\|/\|a\|`, hence

    .. math::
        \|S(\delta) - T(\delta)\| \le r = \frac{2\varepsilon^2}{\eta g}.

    With :math:`D_t = \|\delta_t - \delta^*\|` and :math:`T(\delta^*) = \delta^*`,
    :math:`D_{t+1} \le \|S(\delta_t) - T(\delta_t)\| + \|T(\delta_t) - T(\delta^*)\| + e \le r + e + q D_t`,
    and :math:`D_0 \le 2\varepsilon` (δ_0 in the ball, δ* on the sphere), which
    gives the closed form above. The bound beats the sphere's diameter 2ε as soon
    as :math:`q^t + (r + e)/(2\varepsilon(1 - q)) < 1`; it tends to
    :math:`(r + e)/(1 - q)`, of order ε²/(η g), not to 0: a constant large step
    ends near δ*, not at it.
    """
    check_problem(problem)
    eta = check_positive_float("eta", eta)
    steps = check_positive_int("steps", steps, minimum=0)
    if not (isinstance(step_error, (int, float, np.floating)) and step_error >= 0.0 and np.isfinite(step_error)):
        raise ValueError(f"step_error must be a finite float >= 0, got {step_error!r}")
    if problem.d < 2:
        raise ValueError(f"d must be >= 2 (the certificate needs a connected sphere), got d={problem.d}")
    eps = problem.eps
    cert = uniqueness_certificate(problem)
    floor = cert.dloss_lower * cert.gradient_floor
    t = np.arange(steps + 1, dtype=float)
    if not cert.certified or not eta * floor >= 2.0 * eps:
        return np.full(t.shape, np.inf)
    q = cert.contraction
    r = 2.0 * eps * eps / (eta * floor)
    return q ** t * 2.0 * eps + (r + float(step_error)) * (1.0 - q ** t) / (1.0 - q)
