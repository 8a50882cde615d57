r"""An adversarial problem: a network, an input x, a label y, a radius ε and a loss.

Section 2 of the paper fixes the setting: perturbations δ in the ball
:math:`\mathbb B(0, \varepsilon)` around an input x, the network
:math:`f(\delta) = f(a, W, x + \delta)`, and the loss in minimisation form
:math:`L(\delta) = L(y, f(\delta))` (section 3 for the quadratic loss, section 5.2
for general losses). Derivatives in δ follow the chain rule of section 5.2:

.. math::
    \partial L = L_f\,\partial f, \qquad
    \partial^2 L = L_f\,\partial^2 f + L_{ff}\,\partial f\,\partial f^\top .

**Input scale and ratio (section 5.1).** :func:`make_problem` draws x as
``input_scale`` times a uniform unit vector, so :math:`\|x\|` is exactly the input
scale, and takes :math:`\varepsilon = r\,\|x\|` for a perturbation ratio r.

**Label (assumption 3 of section 2).** The paper assumes
:math:`\mathcal L < |y - f(\delta)| < \mathcal U` on the whole ball. For the
quadratic loss :func:`make_problem` puts the label at
:math:`y = f(0) \pm (R + g)` where R is the certified variation bound of
:func:`theory.bounds.value_variation_bound` and :math:`g` is ``label_gap``
(default :data:`DEFAULT_LABEL_GAP`), so that :math:`|y - f| \ge g` holds on the
whole ball by construction. :attr:`Problem.bounds` reports the certified
:math:`\mathcal L, \mathcal U` for any label, including one given explicitly.
For the cross-entropy loss the label is 0 or 1 (drawn from the seed) and the
paper's constants bound :math:`|\partial L/\partial f|` instead (section 5.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from theory._compiled import compiled_step
from theory._kernel import LossGradKernel
from theory._validation import (
    as_points, check_finite_float, check_positive_float, check_positive_int, check_seed,
)
from theory.bounds import evaluation_error_bounds, value_variation_bound
from theory.geometry import unit_directions
from theory.losses import Loss, QuadraticLoss, get_loss
from theory.network import activations, draw_network
from theory._floats import UNIT_ROUNDOFF, higham_gamma
from theory._validation import check_instance
from theory.network import check_input

__all__ = ["DEFAULT_LABEL_GAP", "LabelBounds", "Problem", "make_problem", "check_problem", "ReferenceStep"]

#: Default certified lower bound :math:`\mathcal L` on :math:`|y - f|` over the ball
#: for the quadratic loss. At Xavier initialisation f(x) is O(1) (a sum of m terms
#: of size :math:`\gamma = m^{-1/2}` with random signs), so a label O(1) away from
#: every value of f on the ball models the paper's "initial phase", in which the
#: prediction is far from the label (sections 2 and 5.2). Its value only scales
#: the loss; the landscape's critical points do not depend on it.
DEFAULT_LABEL_GAP = 1.0


@dataclass(frozen=True)
class LabelBounds:
    r"""Certified bounds for assumption 3 (section 2) and its section 5.2 form.

    Attributes
    ----------
    f_center : float
        f at δ = 0, i.e. f(x).
    f_radius : float
        Certified bound on :math:`|f(x + \delta) - f(x)|` over the closed ball.
    lower, upper : float
        The paper's :math:`\mathcal L, \mathcal U`: bounds on :math:`|y - f|` for the
        quadratic loss (assumption 3), on :math:`|\partial L/\partial f|` for any
        other loss (section 5.2). They hold (non-strictly) for every δ in the ball.
    dloss_lower, dloss_upper : float
        Bounds on :math:`|\partial L/\partial f|` over the ball, for every loss
        (for the quadratic loss they are ``2 * lower`` and ``2 * upper``).
    quantity : str
        What ``lower`` and ``upper`` bound.
    """

    f_center: float
    f_radius: float
    lower: float
    upper: float
    dloss_lower: float
    dloss_upper: float
    quantity: str

    @property
    def certified(self) -> bool:
        """True when the lower bound is positive, i.e. assumption 3 is certified for this draw."""
        return self.lower > 0.0


class Problem:
    r"""A network plus input x, label y, radius ε and loss, as functions of the perturbation δ.

    Parameters
    ----------
    net : TwoLayerNet
    x : array_like, shape (d,)
        The clean input.
    y : float
        The label (any real for the quadratic loss, in [0, 1] for cross-entropy).
    eps : float
        Radius of the perturbation ball, > 0.
    loss : str or Loss
        ``"quadratic"`` (default) or ``"cross_entropy"``.

    Notes
    -----
    Methods take perturbations ``delta`` of shape (..., d) and are batched over
    the leading dimensions. They are defined for every δ, inside the ball or not.
    """

    def __init__(self, net, x, y, eps, loss="quadratic"):
        x = check_input(net, x).copy()
        x.flags.writeable = False
        self.net = net
        self.x = x
        self.loss: Loss = get_loss(loss)
        self.y = self.loss.check_label(y)
        self.eps = check_positive_float("eps", eps)

    @property
    def d(self) -> int:
        return self.net.d

    def _delta(self, delta, name="delta"):
        return as_points(name, delta, self.d)

    def _forward(self, delta, *, second=True):
        """Pre-activations' activations at x + delta: (sigma, sigma', sigma'' or None), each (..., m)."""
        return activations((self.x + self._delta(delta)) @ self.net.W.T, second=second)

    def _chain(self, delta):
        """One forward pass: (d2sigma, ∂f, L_f, L_ff) for the second-order chain rule."""
        sig, dsig, d2sig = self._forward(delta)
        f = sig @ self.net.a
        df = (dsig * self.net.a) @ self.net.W
        return d2sig, df, self.loss.dvalue(self.y, f), self.loss.d2value(self.y, f)

    def f(self, delta):
        """Network output f(x + δ), shape (...) for δ of shape (..., d)."""
        return self.net.value(self.x + self._delta(delta))

    def loss_value(self, delta):
        """L(δ) = L(y, f(x + δ)) in minimisation form, shape (...)."""
        return self.loss.value(self.y, self.f(delta))

    def loss_grad(self, delta):
        r""":math:`\partial L/\partial\delta = L_f\,\partial f` (section 5.2), shape (..., d)."""
        return self.value_and_grad(delta)[1]

    def value_and_grad(self, delta):
        """``(loss_value(δ), loss_grad(δ))`` from one forward pass.

        Returns
        -------
        value : ndarray, shape (...)
        grad : ndarray, shape (..., d)
        """
        sig, dsig, _ = self._forward(delta, second=False)
        a, W = self.net.a, self.net.W
        f = sig @ a
        grad = (self.loss.dvalue(self.y, f)[..., None] * (dsig * a)) @ W
        return self.loss.value(self.y, f), grad

    def step_evaluator(self, rows, *, threads=1):
        """What PGD evaluates L and ∂L with, for batches of up to ``rows`` points: a context manager.

        The object has ``value_and_grad_into(delta, grad)`` (``delta`` of shape (B, d),
        float64 and C-contiguous, B <= ``rows``; the gradient is written into ``grad``;
        returns ``(value, grad)``) and ``values_into(delta)`` (the value alone) and is
        closed by ``with``. A Problem steps with the
        fused kernel (:class:`theory._kernel.LossGradKernel`: one pass, in place, to
        rounding equal to :meth:`value_and_grad`), or, for few rows with the optional
        extra ``fast``, its compiled counterpart (:class:`theory._compiled.CompiledStep`,
        which also runs whole PGD loops; :func:`theory._compiled.compiled_step` says when).
        A subclass that changes
        :meth:`value_and_grad` overrides this to return ``ReferenceStep(self)``, so
        that PGD runs its change.
        """
        if rows == 0:
            return ReferenceStep(self)
        compiled = compiled_step(self, rows, threads)
        return compiled if compiled is not None else LossGradKernel(self, rows, threads=threads)

    def loss_hessian(self, delta):
        r""":math:`\partial^2 L = L_f\,\partial^2 f + L_{ff}\,\partial f\,\partial f^\top` (section 5.2), shape (..., d, d)."""
        d2sig, df, lf, lff = self._chain(delta)
        a, W = self.net.a, self.net.W
        hf = (W.T * (lf[..., None] * d2sig * a)[..., None, :]) @ W
        return hf + lff[..., None, None] * (df[..., :, None] * df[..., None, :])

    def loss_hvp(self, delta, v):
        r"""Hessian-vector product :math:`\partial^2 L(\delta)\,v` without forming the Hessian, shape (..., d)."""
        delta = self._delta(delta)
        v = self._delta(v, "v")
        try:
            np.broadcast_shapes(delta.shape, v.shape)
        except ValueError:
            raise ValueError(f"v must broadcast against delta: shapes {v.shape} and {delta.shape}") from None
        d2sig, df, lf, lff = self._chain(delta)
        a, W = self.net.a, self.net.W
        hfv = (d2sig * a * (v @ W.T)) @ W
        return lf[..., None] * hfv + (lff * np.einsum("...i,...i->...", df, v))[..., None] * df

    def evaluation_error_bounds(self, delta):
        r"""First-order bounds on the rounding error of the computed L(δ) and ∂L(δ).

        Propagates :func:`theory.bounds.evaluation_error_bounds` of the network
        through the loss, with the loss's own rounding
        (:meth:`theory.losses.Loss.value_error`, ``dvalue_error``):
        :math:`|\Delta L| \le |L_f||\Delta f| + e_L` and
        :math:`|\Delta\partial L| \le |L_f||\Delta\partial f| + (|L_{ff}||\Delta f| + e_{L_f})|\partial f|
        + 4u|L_f||\partial f|` (componentwise; the last term for the product by
        :math:`L_f`; second-order terms are negligible). The rounding of z = x + δ
        (:math:`u|z_j|` per coordinate, moving each pre-activation by at most
        :math:`u|w_r|^\top|z|`) lies inside the network's allowance for the
        pre-activations, :math:`4\gamma_{d+4}|w_r|^\top|z|`, which exceeds the dot
        product's own :math:`\gamma_d|w_r|^\top|z|` by more than that.

        Returns
        -------
        value_error : ndarray, shape (...)
        grad_error : ndarray, shape (..., d)
        """
        delta = self._delta(delta)
        z = self.x + delta
        f_err, df_err, _ = evaluation_error_bounds(self.net, z)
        f, df = self.net.value_and_grad(z)
        return self._loss_error_bounds(f, df, f_err, df_err)

    def _loss_error_bounds(self, f, df, f_err, df_err):
        """:meth:`evaluation_error_bounds` from the network's f, ∂f and their error bounds (shared with the certificates)."""
        lf = np.abs(self.loss.dvalue(self.y, f))
        lff = np.abs(self.loss.d2value(self.y, f))
        value_error = lf * f_err + self.loss.value_error(self.y, f)
        lf_error = lff * f_err + self.loss.dvalue_error(self.y, f)
        grad_error = (lf[..., None] * df_err + lf_error[..., None] * np.abs(df)
                      + 4.0 * UNIT_ROUNDOFF * lf[..., None] * np.abs(df))
        return value_error, grad_error

    def hvp_error_bounds(self, delta, v):
        r"""First-order bound on the rounding error of the computed :math:`\partial^2L(\delta)\,v`, componentwise.

        Valid for both :meth:`loss_hvp` and :meth:`loss_hessian` contracted with v
        (the sums are bounded through their absolute terms, which covers either
        order). With :math:`\partial^2 L\,v = L_f\,\partial^2 f\,v + L_{ff}(\partial f^\top v)\,\partial f`,
        :math:`S = |\partial^2 f|\,|v|` (:meth:`theory.network.TwoLayerNet.term_magnitudes`)
        and :math:`P = |\partial f|^\top|v|`:

        .. math::
            |L_f|\,E_H|v| + e_{L_f} S + |L_{ff}|\big((E_g^\top|v|)|\partial f| + P E_g\big)
            + e_{L_{ff}} P|\partial f| + 4\gamma_{d+4}\big(|L_f| S + |L_{ff}| P |\partial f|\big),

        :math:`E_g, E_H` the network's gradient and Hessian error bounds
        (:func:`theory.bounds.evaluation_error_bounds`; E_H covers the inner d-term sums of
        a Hessian-vector product), :math:`e_{L_f} = |L_{ff}||\Delta f| + ` the loss's
        ``dvalue_error``, :math:`e_{L_{ff}} = \sup|L_{fff}|\,|\Delta f| +` its ``d2value_error``;
        the last term takes the products, the dot product :math:`\partial f^\top v` and
        the final sum.

        Parameters
        ----------
        delta : array_like, shape (..., d)
        v : array_like, broadcast against delta

        Returns
        -------
        ndarray, shape of the broadcast (..., d)
        """
        delta = self._delta(delta)
        v = np.abs(self._delta(v, "v"))
        z = self.x + delta
        f_err, df_err, h_err = evaluation_error_bounds(self.net, z)
        f, df = self.net.value_and_grad(z)
        _, _, h_scale = self.net.term_magnitudes(z)
        return self._hvp_error_bounds(f, df, f_err, df_err, h_err, h_scale, v)

    def _hvp_error_bounds(self, f, df, f_err, df_err, h_err, h_scale, v):
        """:meth:`hvp_error_bounds` from the network's f, ∂f, their error bounds, the Hessian's and |v| (shared with the certificates)."""
        lf = np.abs(self.loss.dvalue(self.y, f))[..., None]
        lff = np.abs(self.loss.d2value(self.y, f))[..., None]
        third = self.loss.curvature_bounds(self.y, 0.0, 0.0)[1]  # the global sup of |L_fff|
        lf_err = lff * f_err[..., None] + self.loss.dvalue_error(self.y, f)[..., None]
        lff_err = third * f_err[..., None] + self.loss.d2value_error(self.y, f)[..., None]
        abs_df = np.abs(df)
        s = np.einsum("...ij,...j->...i", h_scale, v)
        p = np.einsum("...i,...i->...", abs_df, v)[..., None]
        dot_err = np.einsum("...i,...i->...", df_err, v)[..., None]
        products = lf * s + lff * p * abs_df
        return (lf * np.einsum("...ij,...j->...i", h_err, v) + lf_err * s
                + lff * (dot_err * abs_df + p * df_err) + lff_err * p * abs_df
                + 4.0 * higham_gamma(self.d + 4) * products)

    @cached_property
    def bounds(self) -> LabelBounds:
        """Certified :class:`LabelBounds` for this problem (computed once)."""
        f0 = float(self.net.value(self.x))
        radius = value_variation_bound(self.net, self.x, self.eps)
        lo, hi = self.loss.dvalue_abs_range(self.y, f0 - radius, f0 + radius)
        lo, hi, radius = float(lo), float(hi), float(radius)
        if isinstance(self.loss, QuadraticLoss):
            return LabelBounds(f0, radius, lo / 2.0, hi / 2.0, lo, hi, "|y - f|")
        return LabelBounds(f0, radius, lo, hi, lo, hi, "|dL/df|")

    def __repr__(self):
        recipe = getattr(self, "_recipe", None)
        if recipe is not None:  # drawn by make_problem: show the call that replays it
            return recipe
        return (f"Problem(d={self.d}, m={self.net.m}, |x|={np.linalg.norm(self.x):.3g}, "
                f"y={self.y:.6g}, eps={self.eps:.3g}, loss={self.loss.name!r})")


class ReferenceStep:
    """The step evaluator that calls :meth:`Problem.value_and_grad` (for subclasses that change it)."""

    def __init__(self, problem):
        self.problem = problem

    def value_and_grad_into(self, delta, grad):
        value, grad[...] = self.problem.value_and_grad(delta)
        return value, grad

    def values_into(self, delta):
        """L at the rows of ``delta``, through :meth:`Problem.value_and_grad` (which a subclass may change)."""
        return self.problem.value_and_grad(delta)[0]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def check_problem(value, name: str = "problem") -> Problem:
    """Return ``value`` after checking that it is a :class:`Problem` (TypeError naming ``name`` otherwise)."""
    return check_instance(name, value, Problem)


def make_problem(d, m, *, seed, input_scale=1.0, eps=None, ratio=None, loss="quadratic",
                 kappa=None, gamma=None, y=None, label_gap=DEFAULT_LABEL_GAP) -> Problem:
    r"""Draw a problem in the paper's setting from one seed.

    Parameters
    ----------
    d, m : int
        Input dimension and width, >= 1.
    seed : int
        Non-negative seed. The network is ``draw_network(d, m, seed=seed, ...)``;
        x and the label come from independent streams derived from the same seed.
    input_scale : float
        :math:`\|x\|`, > 0 (section 5.1 varies it).
    eps, ratio : float
        Give exactly one: the radius ε, or the perturbation ratio r with
        :math:`\varepsilon = r\cdot\text{input\_scale}` (section 5.1).
    loss : str or Loss
        ``"quadratic"`` or ``"cross_entropy"``.
    kappa, gamma : float, optional
        Overrides of the Xavier scales (see :func:`theory.network.draw_network`).
    y : float, optional
        Explicit label. By default: for the quadratic loss :math:`f(x) \pm (R + g)`
        (see the module docstring), for cross-entropy 0 or 1 with probability 1/2.
    label_gap : float
        g > 0, the certified lower bound on :math:`|y - f|` over the ball when the
        quadratic label is chosen here (ignored when ``y`` is given or for cross-entropy).

    Returns
    -------
    Problem
    """
    d = check_positive_int("d", d)
    m = check_positive_int("m", m)
    seed = check_seed("seed", seed)
    input_scale = check_positive_float("input_scale", input_scale)
    if (eps is None) == (ratio is None):
        raise ValueError("give exactly one of eps and ratio (eps = ratio * input_scale); "
                         f"got eps={eps!r}, ratio={ratio!r}")
    if eps is None:
        eps = check_positive_float("ratio", ratio) * input_scale
    eps = check_positive_float("eps", eps)
    label_gap = check_positive_float("label_gap", label_gap)
    loss = get_loss(loss)
    net = draw_network(d, m, seed=seed, kappa=kappa, gamma=gamma)
    x = input_scale * unit_directions(np.random.default_rng([seed, 1]), 1, d)[0]
    if y is None:
        rng_y = np.random.default_rng([seed, 2])
        if isinstance(loss, QuadraticLoss):
            sign = 1.0 if rng_y.random() < 0.5 else -1.0
            f0 = float(net.value(x))
            y = f0 + sign * (value_variation_bound(net, x, eps) + label_gap)
        else:
            y = float(rng_y.random() < 0.5)
        explicit_y = ""
    else:
        y = check_finite_float("y", y)
        explicit_y = f", y={y!r}"
    problem = Problem(net, x, y, eps, loss)
    extras = "".join(f", {k}={v!r}" for k, v in (("kappa", kappa), ("gamma", gamma)) if v is not None)
    if label_gap != DEFAULT_LABEL_GAP:
        extras += f", label_gap={label_gap!r}"
    # repr() is the call that rebuilds this problem, so a failing example replays by copy-paste.
    problem._recipe = (f"make_problem({d}, {m}, seed={seed}, input_scale={input_scale!r}, eps={eps!r}, "
                       f"loss={loss.name!r}{extras}{explicit_y})")
    return problem
