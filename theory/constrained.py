r"""Constrained quantities of section 4: :math:`\lambda^*`, Γ, Ξ, the descent cosine and the sets :math:`\Delta_\eta^\pm`.

With the constraint :math:`c(\delta) = \|\delta\|^2 - \varepsilon^2` (section 3),
:math:`\partial c = 2\delta` and :math:`\partial^2 c = 2I`, the paper defines

.. math::
    \lambda^*(\delta) = \arg\min_\lambda \|\partial L(\delta) - \lambda\,\partial c(\delta)\|
        = \frac{\partial L(\delta)^\top\delta}{2\|\delta\|^2},

    \Gamma(\delta) = \partial L(\delta) - \lambda^*(\delta)\,\partial c(\delta)
        = \mathcal P_{\mathcal T(\delta)}\,\partial L(\delta),

    \Xi(\delta) = \partial^2 L(\delta) - \lambda^*(\delta)\,\partial^2 c(\delta)
        = \partial^2 L(\delta) - 2\lambda^*(\delta)\, I .

The closed form of :math:`\lambda^*` is the least-squares solution of a
one-column problem; it is undefined at δ = 0, where these functions raise.

**Scaling of Γ.** The paper also writes ":math:`\Gamma(\delta)` is actually the
tangent component of :math:`\partial f(\delta)`". With the definition above,
:math:`\Gamma = L_f\,\mathcal P_{\mathcal T}\partial f` (for the quadratic loss
:math:`L_f = 2(y - f)`): the two agree up to the scalar factor :math:`L_f`, which
is what Lemma 4.3's :math:`\mathcal L B_l` accounts for. :func:`tangent_gradient`
implements the definition; ``project_tangent(delta, problem.net.grad(x+delta))``
gives the tangent component of ∂f.

**Descent cosine and the sets** :math:`\Delta_\eta^\pm` (the library's convention). The paper writes the sets with :math:`\angle[\partial f(\delta), \delta]`
and an implicit sign. We define them through the descent direction:
:math:`\cos_-(\delta) = \angle[-\partial L(\delta), \delta]`, which is ≈ +1 near
local minima of L on the sphere (the descent direction points out of the ball,
so PGD's projection holds the iterate there) and ≈ -1 near local maxima. Since
:math:`-\partial L = -L_f\,\partial f`,

.. math::  \cos_-(\delta) = -\operatorname{sgn}(L_f)\,\angle[\partial f(\delta), \delta],

so for the quadratic loss the paper's :math:`\angle[\partial f, \delta]` equals
:math:`\cos_-` when y < f and :math:`-\cos_-` when y > f. With a constant
``lb`` standing for the paper's :math:`\mathcal L B_l`:

.. math::
    \Delta_\eta^+ = \{\delta \in \varepsilon\mathbb S^{d-1} : \cos_-(\delta) \ge 1 - \sqrt\eta/\mathrm{lb}\},\quad
    \Delta_\eta^- = \{\delta \in \varepsilon\mathbb S^{d-1} : \cos_-(\delta) \le -1 + \sqrt\eta/\mathrm{lb}\}.
"""

from __future__ import annotations

import numpy as np

from theory._validation import as_points, check_positive_float
from theory.geometry import SPHERE_RTOL, cosine, on_sphere, vector_norm
from theory.problem import check_problem
from theory.geometry import tangent_component

__all__ = [
    "lagrange_multiplier",
    "tangent_gradient",
    "constrained_hessian",
    "descent_cosine",
    "delta_eta_region",
]


def _args(problem, delta):
    check_problem(problem)
    delta = as_points("delta", delta, problem.d)
    norm = vector_norm(delta)
    if np.any(norm == 0.0):
        raise ValueError("delta must be non-zero: lambda*, Gamma and Xi are undefined at delta = 0")
    return delta, norm


def _multiplier(grad, delta, norm):
    # dL.delta / (2 |delta|^2), written with the unit normal so that tiny or huge
    # delta neither underflows nor overflows.
    return np.einsum("...i,...i->...", grad, delta / norm[..., None]) / (2.0 * norm)


def lagrange_multiplier(problem, delta):
    r"""The multiplier :math:`\lambda^*(\delta) = \partial L^\top\delta / (2\|\delta\|^2)` (section 4).

    Parameters
    ----------
    problem : Problem
    delta : array_like, shape (..., d)
        Non-zero perturbations.

    Returns
    -------
    ndarray, shape (...)
    """
    delta, norm = _args(problem, delta)
    return _multiplier(problem.loss_grad(delta), delta, norm)


def tangent_gradient(problem, delta):
    r"""Γ(δ) = ∂L(δ) − λ*(δ) ∂c(δ), the tangent component of ∂L (section 4).

    Parameters
    ----------
    problem : Problem
    delta : array_like, shape (..., d)
        Non-zero perturbations.

    Returns
    -------
    ndarray, shape (..., d)
    """
    delta, norm = _args(problem, delta)
    grad = problem.loss_grad(delta)
    normal = delta / norm[..., None]
    # = grad - 2 lambda* delta, in the form that cannot overflow.
    return tangent_component(grad, normal)


def constrained_hessian(problem, delta):
    r"""Ξ(δ) = ∂²L(δ) − λ*(δ) ∂²c = ∂²L(δ) − 2λ*(δ) I (section 4).

    Parameters
    ----------
    problem : Problem
    delta : array_like, shape (..., d)
        Non-zero perturbations.

    Returns
    -------
    ndarray, shape (..., d, d)
        Symmetric.
    """
    delta, norm = _args(problem, delta)
    lam = _multiplier(problem.loss_grad(delta), delta, norm)
    return problem.loss_hessian(delta) - (2.0 * lam)[..., None, None] * np.eye(problem.d)


def descent_cosine(problem, delta):
    r"""The descent cosine :math:`\angle[-\partial L(\delta), \delta]` (see the module docstring).

    Parameters
    ----------
    problem : Problem
    delta : array_like, shape (..., d)
        Non-zero perturbations at which ∂L is non-zero.

    Returns
    -------
    ndarray, shape (...)
        In [-1, 1]; ≈ +1 near local minima of L on the sphere, ≈ −1 near local maxima.
    """
    delta, _ = _args(problem, delta)
    grad = problem.loss_grad(delta)
    if np.any(np.all(grad == 0.0, axis=-1)):
        raise ValueError("the loss gradient vanishes at delta: the descent cosine is undefined there")
    return cosine(-grad, delta)


def delta_eta_region(problem, delta, *, eta, gradient_lower_bound=None, lb=None, rtol=SPHERE_RTOL, cosine=None):
    r"""Membership in :math:`\Delta_\eta^+` (+1), :math:`\Delta_\eta^-` (−1) or neither (0).

    Section 4, before Lemma 4.5, written with the descent cosine (module docstring).
    Points off the sphere (relative tolerance ``rtol``) belong to neither set.

    Parameters
    ----------
    problem : Problem
    delta : array_like, shape (..., d)
        Non-zero perturbations.
    eta : float
        Step size, > 0.
    gradient_lower_bound : float
        The constant standing for :math:`\mathcal L B_l` (what
        :func:`theory.testing.regimes.gradient_lower_bound` computes), > 0.
    lb : float, optional
        The same, by its short name (pass one of the two).
    rtol : float
        Relative tolerance for "on the sphere" (default :data:`theory.geometry.SPHERE_RTOL`).
    cosine : ndarray, shape (...), optional
        ``descent_cosine(problem, delta)`` when the caller already has it (saves the
        gradient pass).

    Returns
    -------
    ndarray of int8, shape (...)
        +1, −1 or 0. When :math:`\sqrt\eta/\mathcal L B_l \ge 1` the two sets overlap;
        a point in both is reported as +1.
    """
    eta = check_positive_float("eta", eta)
    if (gradient_lower_bound is None) == (lb is None):
        raise TypeError("pass exactly one of gradient_lower_bound and lb (the same constant)")
    if gradient_lower_bound is None:
        lb = check_positive_float("lb", lb)
    else:
        lb = check_positive_float("gradient_lower_bound", gradient_lower_bound)
    delta, _ = _args(problem, delta)
    if cosine is None:
        cos = descent_cosine(problem, delta)
    else:
        cos = np.asarray(cosine, dtype=np.float64)
        if cos.shape != delta.shape[:-1]:
            raise ValueError(f"cosine must have the batch shape {delta.shape[:-1]} of delta, got {cos.shape}")
    width = np.sqrt(eta) / lb
    sphere = on_sphere(delta, problem.eps, rtol=rtol)
    region = np.zeros(cos.shape, dtype=np.int8)
    region[sphere & (cos <= -1.0 + width)] = -1
    region[sphere & (cos >= 1.0 - width)] = 1
    return region
