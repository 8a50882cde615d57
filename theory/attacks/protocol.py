r"""What a third-party L2 PGD must expose to be checked against the paper's algorithm.

The paper's PGD (section 3, minimisation form :math:`L = -\ell`, ℓ the adversarial loss):
:math:`\delta_0` uniform in the open ball :math:`\mathbb B(0, \varepsilon)` (Lemma 4.5's
hypothesis), then :math:`\delta_{t+1} = \mathcal P_{\mathbb B(0,\varepsilon)}[\delta_t - \eta\,\partial L(\delta_t)]`
with the raw gradient and the Euclidean projection (Lemma 4.2), for an input x anywhere
in :math:`\mathbb R^d`. An attack is checked through four operations on a
:class:`theory.problem.Problem` (network, x, y, ε, loss), all in perturbation
coordinates δ = x_adv − x, arrays of shape (n, d):

``start(problem, n, seed)``
    n starts δ_0 drawn by the attack's own random start, seeded by ``seed``.
``step(problem, delta, eta)``
    One iteration of the attack from x + δ (its projection centred at x), with its step-size
    parameter set to ``eta``.
``run(problem, n, eta, steps, seed)``
    The attack's whole iteration from its own start: δ_0, ..., δ_steps, shape (steps + 1, n, d).

and three attributes: ``name`` (the library and the class, e.g. ``torchattacks.PGDL2``),
``version`` (of the library) and ``step_size_parameter`` (the library's name for η).
``rtol`` is the relative rounding of the attack's arithmetic (float64: :data:`FLOAT64_RTOL`;
a float32 attack: :data:`FLOAT32_RTOL`), which the properties allow in their comparisons.

A class need not inherit :class:`L2Attack`: any object with these members fits
(:func:`check_attack` says what is missing).
"""

from __future__ import annotations

import numpy as np

__all__ = ["L2Attack", "FLOAT64_RTOL", "FLOAT32_RTOL", "REQUIRED", "check_attack"]

#: Relative rounding allowed for an attack computing in float64: a few hundred ulps of the
#: operations of one step (a forward and a backward pass, a norm, a projection) on d <= 10^3.
FLOAT64_RTOL = 1e-10

#: The same for float32 arithmetic (unit roundoff 2^-24 ≈ 6e-8): a few dozen roundings.
FLOAT32_RTOL = 1e-5

#: The members an attack must have.
REQUIRED = ("name", "version", "step_size_parameter", "rtol", "start", "step", "run")


class L2Attack:
    """Base for attacks behind the protocol (module docstring); subclasses implement the three operations."""

    name = ""
    version = ""
    step_size_parameter = "eta"
    rtol = FLOAT64_RTOL

    def start(self, problem, n, seed):  # pragma: no cover - overridden
        raise NotImplementedError

    def step(self, problem, delta, eta):  # pragma: no cover - overridden
        raise NotImplementedError

    def run(self, problem, n, eta, steps, seed):
        """Default: :meth:`start`, then :meth:`step` ``steps`` times."""
        deltas = [np.asarray(self.start(problem, n, seed), dtype=np.float64)]
        for _ in range(steps):
            deltas.append(np.asarray(self.step(problem, deltas[-1], eta), dtype=np.float64))
        return np.stack(deltas)

    def __repr__(self):
        return f"{type(self).__name__}({self.name} {self.version})"


def check_attack(attack):
    """``attack`` if it has every member of :data:`REQUIRED`; TypeError naming the missing ones otherwise."""
    missing = [name for name in REQUIRED if not hasattr(attack, name)]
    if missing:
        raise TypeError(f"attack must have {', '.join(REQUIRED)}; {type(attack).__name__} lacks {', '.join(missing)}")
    for name in ("start", "step", "run"):
        if not callable(getattr(attack, name)):
            raise TypeError(f"attack.{name} must be callable, got {type(getattr(attack, name)).__name__}")
    return attack
