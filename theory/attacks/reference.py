r"""The project's own PGD behind the attack protocol, and deliberately broken attacks (the controls).

:class:`ProjectPGD` is :func:`theory.pgd.pgd` with :func:`theory.geometry.uniform_ball` starts:
the paper's algorithm, which must conform on every property. Each broken attack changes one
thing, and the property meant for it must catch it:

* :class:`RadiusUniformStart`: ‖δ_0‖ uniform in [0, ε) (direction uniform), not δ_0 uniform
  in the ball; the start property catches it for d >= 2 ((‖δ_0‖/ε)^d is not uniform).
* :class:`SphereStart`: δ_0 on the sphere (‖δ_0‖ = ε); the start property catches it.
* :class:`CoordinateClip`: each coordinate of δ clipped to [−ε, ε] instead of the Euclidean
  projection; the ball and projection properties catch it.
* :class:`NormalisedStepAsRaw`: the step η ∂ℓ/‖∂ℓ‖ presented as the raw step; the step-rule
  property catches it.
* :class:`FrozenStep`: a step that does not move; the critical-point property catches it (the
  start is inside the ball, not on the sphere).
* :class:`DescentOnTheAttackLoss`: the gradient's sign flipped, descending ℓ; the same-optimum
  property catches it (it ends at another critical point than theory.pgd), and the Δη⁻ property
  (it climbs L towards a local maximum).
"""

from __future__ import annotations

import numpy as np

from theory.attacks.protocol import FLOAT64_RTOL, L2Attack
from theory.geometry import project_ball, uniform_ball, unit_directions, vector_norm
from theory.pgd import pgd

__all__ = ["ProjectPGD", "RadiusUniformStart", "SphereStart", "CoordinateClip", "NormalisedStepAsRaw",
           "FrozenStep", "DescentOnTheAttackLoss", "BROKEN_ATTACKS"]


class ProjectPGD(L2Attack):
    """:func:`theory.pgd.pgd` behind the protocol: uniform start in the ball, raw gradient, Euclidean projection."""

    name = "theory.pgd.pgd"
    step_size_parameter = "eta"
    rtol = FLOAT64_RTOL

    @property
    def version(self):
        from theory import __version__

        return __version__

    def start(self, problem, n, seed):
        return uniform_ball(seed, n, problem.d, problem.eps)

    def step(self, problem, delta, eta):
        return pgd(problem, delta, eta=eta, steps=1).deltas[1]

    def run(self, problem, n, eta, steps, seed):
        return pgd(problem, self.start(problem, n, seed), eta=eta, steps=steps).deltas


class RadiusUniformStart(ProjectPGD):
    """Injected bug: ‖δ_0‖ uniform in [0, ε), a uniform direction (dense near the centre for d >= 2)."""

    name = "control: start uniform in radius"

    def start(self, problem, n, seed):
        rng = np.random.default_rng(seed)
        return unit_directions(rng, n, problem.d) * (problem.eps * rng.random(n))[:, None]


class SphereStart(ProjectPGD):
    """Injected bug: δ_0 uniform on the sphere ‖δ‖ = ε (not in the open ball)."""

    name = "control: start on the sphere"

    def start(self, problem, n, seed):
        return unit_directions(np.random.default_rng(seed), n, problem.d) * problem.eps


class CoordinateClip(ProjectPGD):
    """Injected bug: the raw step, then each coordinate clipped to [−ε, ε] (not the Euclidean projection)."""

    name = "control: coordinate clip"

    def step(self, problem, delta, eta):
        delta = np.asarray(delta, dtype=np.float64)
        return np.clip(delta - eta * problem.loss_grad(delta), -problem.eps, problem.eps)

    def run(self, problem, n, eta, steps, seed):
        return L2Attack.run(self, problem, n, eta, steps, seed)


class NormalisedStepAsRaw(ProjectPGD):
    """Injected bug: the step η ∂ℓ/‖∂ℓ‖ (normalised gradient) where the raw η ∂ℓ is claimed."""

    name = "control: normalised step presented as raw"

    def step(self, problem, delta, eta):
        delta = np.asarray(delta, dtype=np.float64)
        grad = problem.loss_grad(delta)
        norm = vector_norm(grad, keepdims=True)
        return project_ball(delta - eta * grad / np.where(norm > 0, norm, 1.0), problem.eps)

    def run(self, problem, n, eta, steps, seed):
        return L2Attack.run(self, problem, n, eta, steps, seed)


class FrozenStep(ProjectPGD):
    """Injected bug: the step returns δ unchanged (the iteration never moves from its start)."""

    name = "control: a step that does not move"

    def step(self, problem, delta, eta):
        return np.array(delta, dtype=np.float64)

    def run(self, problem, n, eta, steps, seed):
        return L2Attack.run(self, problem, n, eta, steps, seed)


class DescentOnTheAttackLoss(ProjectPGD):
    """Injected bug: the sign of the gradient flipped, so the attack decreases ℓ (a minimum of ℓ, not of L)."""

    name = "control: descent on the attack's loss"

    def step(self, problem, delta, eta):
        delta = np.asarray(delta, dtype=np.float64)
        return project_ball(delta + eta * problem.loss_grad(delta), problem.eps)

    def run(self, problem, n, eta, steps, seed):
        return L2Attack.run(self, problem, n, eta, steps, seed)


#: Each broken attack and the properties that must catch it (names of :data:`theory.attacks.properties.PROPERTIES`).
BROKEN_ATTACKS = {
    RadiusUniformStart: ("uniform_start",),
    SphereStart: ("uniform_start",),
    CoordinateClip: ("stays_in_ball", "euclidean_projection"),
    NormalisedStepAsRaw: ("raw_gradient_step",),
    FrozenStep: ("ends_at_critical_point",),
    DescentOnTheAttackLoss: ("same_optimum", "avoids_delta_minus"),
}
