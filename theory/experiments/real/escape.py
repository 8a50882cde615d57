r"""Escape from local maxima of L on the sphere, for the CNN on the digits (Figures 2 and 3).

For one image x with label y, L(δ) = −ℓ(x + δ) with ℓ the cross-entropy
(:func:`theory.experiments.real.model.cross_entropy`); PGD minimises L (raises the
adversarial loss ℓ) over the ball of radius ε.

* **Local maximum** (:func:`local_maxima`): a local maximum of L on the sphere
  ‖δ‖ = ε, found by descent of the opposite objective −L = ℓ on the sphere from a
  uniform start (Riemannian gradient steps of a given angle with per-image
  backtracking), polished until the relative tangent gradient ‖Γ(δ)‖/‖∂L(δ)‖ is at
  most :data:`~theory.experiments.real.constants.MAXIMUM_TOLERANCE`; images where
  it is not reached within the iteration budget are reported and left out.
* **Start**: next to the maximum, pulled inside by a relative
  :data:`~theory.experiments.real.constants.START_OFFSET` and moved sideways by the
  same amount (an exact critical point would not move).
* **PGD** (:func:`escape_losses`): δ_{t+1} = P_B(0,ε)[δ_t − η ∂L(δ_t)] with the raw
  gradient, L recorded at every step, under a step-size convention
  (:data:`~theory.experiments.real.constants.CONVENTIONS`): ``absolute`` (one η for
  every scale and image) or ``scale_free`` (η = c ε / ‖∂L(δ_0)‖ per image: the first
  step moves c ε).
* **Escape time** (:func:`escape_times`): the first step at which L has moved
  :data:`~theory.experiments.real.constants.ESCAPE_FRACTION` of the way from L(δ_0)
  to L(δ_T); a run whose total decrease is below :func:`minimum_drop`
  (:data:`~theory.experiments.real.constants.ESCAPE_MIN_DROP` · ε ‖∂L(δ_0)‖) has not
  escaped and gets T + 1.
"""

from __future__ import annotations

import numpy as np

from theory.experiments.real import constants as C
from theory._validation import check_positive_float, check_positive_int
from theory.geometry import project_ball, vector_norm

__all__ = ["loss_and_grad", "local_maxima", "escape_starts", "step_sizes", "escape_losses", "escape_times", "minimum_drop",
           "escape_progress"]


def loss_and_grad(net, x, y, delta):
    """L(δ) = −ℓ(x + δ) (n,) and ∂L (n, d) for images x (n, 1, 8, 8), labels y (n,), δ (n, d); numpy float64."""
    import torch
    from theory.experiments.real.model import cross_entropy

    xt = torch.as_tensor(x)
    dt = torch.as_tensor(np.ascontiguousarray(delta)).requires_grad_(True)
    loss = -cross_entropy(net(xt + dt.reshape(xt.shape)), torch.as_tensor(y))
    (grad,) = torch.autograd.grad(loss.sum(), dt)
    return loss.detach().numpy(), grad.numpy()


def _tangent(delta, grad):
    """Γ: the component of ``grad`` tangent to the sphere at δ (rows), computed on unit vectors (no underflow)."""
    g = vector_norm(grad, axis=1, keepdims=True)
    gs = grad / np.where(g > 0, g, 1.0)
    u = delta / vector_norm(delta, axis=1, keepdims=True)
    return (gs - np.sum(u * gs, axis=1, keepdims=True) * u) * g


def _relative_tangent(delta, grad):
    g = vector_norm(grad, axis=1)
    t = vector_norm(_tangent(delta, grad), axis=1)
    return np.where(g > 0, t / np.where(g > 0, g, 1.0), 0.0)


def _rotate(delta, direction, angle, eps):
    """Move along the great circle from δ towards the unit tangent ``direction`` by ``angle``."""
    return eps * (np.cos(angle)[:, None] * delta / eps + np.sin(angle)[:, None] * direction)


def local_maxima(net, x, y, eps, *, seed, iterations=C.MAXIMUM_ITERATIONS, tolerance=C.MAXIMUM_TOLERANCE):
    """Local maxima of L on the sphere of radius ``eps``, one per image.

    Returns ``(delta, converged, relative_tangent)``: δ (n, d) on the sphere, whether the
    relative tangent gradient reached ``tolerance``, and its final value (n,).
    """
    eps = check_positive_float("eps", eps)
    iterations = check_positive_int("iterations", iterations)
    tolerance = check_positive_float("tolerance", tolerance)
    n, d = len(y), int(np.prod(x.shape[1:]))
    rng = np.random.default_rng([seed, 2])
    delta = rng.standard_normal((n, d))
    delta *= eps / vector_norm(delta, axis=1, keepdims=True)
    angle = np.full(n, C.MAXIMUM_FIRST_ANGLE)
    value, grad = loss_and_grad(net, x, y, delta)
    rel = _relative_tangent(delta, grad)
    for _ in range(iterations):
        active = rel > tolerance
        if not np.any(active):
            break
        # Ascent of L (descent of ℓ = −L) along the tangent gradient of L.
        tangent = _tangent(delta, grad)
        norm = vector_norm(tangent, axis=1, keepdims=True)
        direction = tangent / np.where(norm > 0, norm, 1.0)
        trial = np.where(active[:, None], _rotate(delta, direction, angle, eps), delta)
        t_value, t_grad = loss_and_grad(net, x, y, trial)
        better = active & (t_value >= value)
        delta = np.where(better[:, None], trial, delta)
        value = np.where(better, t_value, value)
        grad = np.where(better[:, None], t_grad, grad)
        angle = np.where(better, np.minimum(angle * C.MAXIMUM_GROW, C.MAXIMUM_FIRST_ANGLE),
                         np.where(active, angle * C.MAXIMUM_SHRINK, angle))
        rel = _relative_tangent(delta, grad)
    return delta, rel <= tolerance, rel


def escape_starts(delta_max, eps, *, seed, offset=C.START_OFFSET):
    """Starts next to the maxima: (1 − offset) δ_max plus a random tangent move of length offset · ε."""
    rng = np.random.default_rng([seed, 3])
    side = _tangent(delta_max, rng.standard_normal(delta_max.shape))
    side *= offset * eps / vector_norm(side, axis=1, keepdims=True)
    return (1.0 - offset) * delta_max + side


def step_sizes(net, x, y, eps, delta0, convention, *, absolute_eta=C.ABSOLUTE_ETA, first_step=C.FIRST_STEP_FRACTION):
    """η per image (n,) under ``convention``: ``absolute`` (the shared η) or ``scale_free`` (first step = c ε)."""
    if convention not in C.CONVENTIONS:
        raise ValueError(f"convention must be one of {C.CONVENTIONS}, got {convention!r}")
    if convention == "absolute":
        return np.full(len(y), float(absolute_eta))
    _, grad = loss_and_grad(net, x, y, delta0)
    g = vector_norm(grad, axis=1)
    with np.errstate(over="ignore"):  # a subnormal gradient: η saturates at the largest float
        eta = np.minimum(first_step * eps / np.where(g > 0, g, 1.0), np.finfo(np.float64).max)
    return np.where(g > 0, eta, 0.0)


def _pgd_step(delta, grad, eta, eps):
    """P_B(0,ε)[δ − η ∂L] without overflow: a step longer than the largest float lands at −ε ∂L/‖∂L‖."""
    g = vector_norm(grad, axis=1, keepdims=True)
    with np.errstate(over="ignore"):
        length = np.where(g > 0, eta * g, 0.0)
    unit_g = grad / np.where(g > 0, g, 1.0)
    huge = ~np.isfinite(length)
    moved = delta - np.where(huge, 0.0, length) * unit_g
    moved = np.where(huge, -eps * unit_g, moved)
    return project_ball(moved, eps)


def escape_losses(net, x, y, eps, delta0, eta, *, steps=C.ESCAPE_STEPS):
    """PGD with the raw gradient from ``delta0`` with per-image step ``eta`` (n,); L at every step, shape (steps + 1, n)."""
    steps = check_positive_int("steps", steps)
    eta = np.asarray(eta, dtype=np.float64)[:, None]
    delta = np.array(delta0, dtype=np.float64)
    losses = np.empty((steps + 1, len(y)))
    for t in range(steps + 1):
        value, grad = loss_and_grad(net, x, y, delta)
        losses[t] = value
        if t == steps:
            break
        delta = _pgd_step(delta, grad, eta, eps)
    return losses


def escape_progress(losses):
    """Share of the way from L(δ_0) to L(δ_T) reached at every step, (steps + 1, n); NaN where L did not decrease."""
    drop = losses[0] - losses[-1]
    moved = losses[0][None, :] - losses
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(drop > 0, moved / np.where(drop > 0, drop, 1.0), np.nan)


def minimum_drop(eps, grad0, *, share=C.ESCAPE_MIN_DROP):
    """The decrease of L a run needs to count as escaped: share · ε ‖∂L(δ_0)‖ per run, from ∂L(δ_0) of shape (n, d)."""
    eps = check_positive_float("eps", eps)
    return share * eps * vector_norm(np.asarray(grad0, dtype=np.float64), axis=1)


def escape_times(losses, min_drop, *, fraction=C.ESCAPE_FRACTION):
    """First step at which L has moved ``fraction`` of the way to L(δ_T); T + 1 where it did not escape (n,).

    ``min_drop`` (n,): a run escaped only if L(δ_0) − L(δ_T) > 0 and ≥ its ``min_drop`` (:func:`minimum_drop`).
    """
    steps = losses.shape[0] - 1
    drop = losses[0] - losses[-1]
    escaped = (drop > 0) & (drop >= np.asarray(min_drop, dtype=np.float64))
    progress = escape_progress(losses)
    reached = np.nan_to_num(progress, nan=-np.inf) >= fraction
    first = np.argmax(reached, axis=0)
    return np.where(escaped & reached.any(axis=0), first, steps + 1)
