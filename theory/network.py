r"""The two-layer softplus network of section 2 and its Xavier draw.

The network (Deng et al. 2020, section 2, display after eq. (2)) is

.. math::  f(a, W, z) = \sum_{r=1}^m a_r\,\sigma(w_r^\top z), \qquad z = x + \delta,

with the softplus activation :math:`\sigma(t) = \log(1 + e^t)`. Its derivatives in
the input are

.. math::
    \partial f(z) = W^\top (a \odot \sigma'(Wz)), \qquad
    \partial^2 f(z) = W^\top \operatorname{diag}(a \odot \sigma''(Wz))\, W,

with :math:`\sigma' = \operatorname{sigmoid}` and
:math:`\sigma'' = \operatorname{sigmoid}\,(1 - \operatorname{sigmoid}) \in (0, 1/4]`.

Every method is batched over the leading dimensions of its input ``z`` of shape
``(..., d)`` through matrix products; there is no Python loop over points.

The activations and their rounding are in :mod:`theory.activations`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory._validation import as_float_array, as_points, check_positive_float, check_positive_int, check_seed
from theory.activations import SIGMOID_RTOL, SOFTPLUS2_RTOL, SOFTPLUS_RTOL, activations, sigmoid, softplus
from theory._validation import check_instance

__all__ = ["softplus", "sigmoid", "activations", "TwoLayerNet", "draw_network", "check_net", "check_input", "SOFTPLUS_RTOL",
           "SIGMOID_RTOL", "SOFTPLUS2_RTOL"]

@dataclass(frozen=True, eq=False)
class TwoLayerNet:
    r"""The two-layer softplus network :math:`f(z) = \sum_r a_r \sigma(w_r^\top z)`.

    Parameters
    ----------
    W : array_like, shape (m, d)
        Hidden-layer weights; row ``r`` is :math:`w_r`.
    a : array_like, shape (m,)
        Output weights :math:`a_r`.

    Notes
    -----
    The arrays are copied and made read-only, so a network is immutable.
    """

    W: np.ndarray
    a: np.ndarray

    def __post_init__(self):
        W = as_float_array("W", self.W)
        a = as_float_array("a", self.a)
        if W.ndim != 2 or W.shape[0] < 1 or W.shape[1] < 1:
            raise ValueError(f"W must have shape (m, d) with m, d >= 1, got shape {W.shape}")
        if a.shape != (W.shape[0],):
            raise ValueError(f"a must have shape (m,) = ({W.shape[0]},) to match W, "
                             f"got shape {a.shape}")
        W = W.copy()
        a = a.copy()
        W.flags.writeable = False
        a.flags.writeable = False
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "a", a)

    @property
    def d(self) -> int:
        """Input dimension."""
        return self.W.shape[1]

    @property
    def m(self) -> int:
        """Width (number of hidden units)."""
        return self.W.shape[0]

    def _inputs(self, z, name="z"):
        return as_points(name, z, self.d)

    def preactivations(self, z):
        """Pre-activations ``W z``, shape (..., m), for ``z`` of shape (..., d)."""
        return self._inputs(z) @ self.W.T

    def value(self, z):
        """Network output.

        Parameters
        ----------
        z : array_like, shape (..., d)

        Returns
        -------
        ndarray, shape (...)
        """
        return softplus(self._inputs(z) @ self.W.T) @ self.a

    def grad(self, z):
        r"""Input gradient :math:`\partial f(z) = W^\top(a \odot \sigma'(Wz))`.

        Parameters
        ----------
        z : array_like, shape (..., d)

        Returns
        -------
        ndarray, shape (..., d)
        """
        return (sigmoid(self._inputs(z) @ self.W.T) * self.a) @ self.W

    def value_and_grad(self, z):
        """``(value(z), grad(z))`` from one forward pass (one exponential per unit).

        Returns
        -------
        value : ndarray, shape (...)
        grad : ndarray, shape (..., d)
        """
        sig, dsig, _ = activations(self._inputs(z) @ self.W.T, second=False)
        return sig @ self.a, (dsig * self.a) @ self.W

    def hessian(self, z):
        r"""Input Hessian :math:`\partial^2 f(z) = W^\top \operatorname{diag}(a\odot\sigma''(Wz)) W`.

        Parameters
        ----------
        z : array_like, shape (..., d)

        Returns
        -------
        ndarray, shape (..., d, d)
            Symmetric.
        """
        _, _, d2sig = activations(self._inputs(z) @ self.W.T)
        c = d2sig * self.a                               # (..., m)
        return (self.W.T * c[..., None, :]) @ self.W     # (..., d, m) @ (m, d)

    def hvp(self, z, v):
        r"""Hessian-vector product :math:`\partial^2 f(z)\, v` without forming the Hessian.

        Parameters
        ----------
        z : array_like, shape (..., d)
        v : array_like, shape (..., d)
            Broadcastable against ``z``.

        Returns
        -------
        ndarray, shape (broadcast of z and v)
        """
        z = self._inputs(z)
        v = self._inputs(v, "v")
        try:
            np.broadcast_shapes(z.shape, v.shape)
        except ValueError:
            raise ValueError(f"v must broadcast against z: shapes {v.shape} and {z.shape}") from None
        _, _, d2sig = activations(z @ self.W.T)
        return (d2sig * self.a * (v @ self.W.T)) @ self.W

    def term_magnitudes(self, z, *, acts=None):
        r"""Sums of the absolute values of the terms of f, ∂f and ∂²f at z.

        :math:`\sum_r |a_r|\sigma(t_r)`, :math:`\sum_r |a_r|\sigma'(t_r)|w_r|` and
        :math:`\sum_r |a_r|\sigma''(t_r)|w_r||w_r|^\top` (entrywise absolute values),
        with :math:`t_r = w_r^\top z`. A computed sum differs from the exact one by at
        most a multiple of these (see :func:`theory.bounds.rounding_allowance`), so
        they are the right scales for comparing two computations of f, ∂f or ∂²f.

        Parameters
        ----------
        z : array_like, shape (..., d)
        acts : tuple of ndarray, optional
            ``activations(z @ W.T)`` when the caller already has it (saves the pass).

        Returns
        -------
        value_scale : ndarray, shape (...)
        grad_scale : ndarray, shape (..., d)
        hessian_scale : ndarray, shape (..., d, d)
        """
        sig, dsig, d2sig = activations(self._inputs(z) @ self.W.T) if acts is None else acts
        abs_a, abs_W = np.abs(self.a), np.abs(self.W)
        return (sig @ abs_a, (dsig * abs_a) @ abs_W,
                (abs_W.T * (d2sig * abs_a)[..., None, :]) @ abs_W)

    def __repr__(self):
        return f"TwoLayerNet(d={self.d}, m={self.m})"


def check_net(value, name: str = "net") -> TwoLayerNet:
    """Return ``value`` after checking that it is a :class:`TwoLayerNet` (TypeError naming ``name`` otherwise)."""
    return check_instance(name, value, TwoLayerNet)


def check_input(net, x, name: str = "x") -> np.ndarray:
    """Check ``net`` (a :class:`TwoLayerNet`) and return ``x`` as one finite float input of shape (d,).

    The (network, input) validation shared by :class:`theory.problem.Problem` and the
    bounds around one input (:mod:`theory.bounds`); a ValueError names ``name``.
    """
    check_net(net)
    x = as_points(name, x, net.d)
    if x.ndim != 1:
        raise ValueError(f"{name} must have shape ({net.d},), got shape {x.shape}")
    return x


def draw_network(d, m, *, seed, kappa=None, gamma=None) -> TwoLayerNet:
    r"""Draw a network with the paper's initialisation (section 2, settings 1-2).

    :math:`w_r \sim \mathcal N(0, \kappa^2 I_d)` i.i.d. and :math:`a_r = \pm\gamma`
    with probability 1/2 each. The defaults are Xavier initialisation as in the
    paper: :math:`\kappa = d^{-1/2}`, :math:`\gamma = m^{-1/2}`.

    Parameters
    ----------
    d : int
        Input dimension, >= 1.
    m : int
        Width, >= 1.
    seed : int
        Non-negative seed; the same seed gives the same network.
    kappa, gamma : float, optional
        Positive scales overriding the Xavier defaults. (The paper requires
        0 < kappa <= 1 for its theorems; other values are allowed here so that
        controls can leave the regime.)

    Returns
    -------
    TwoLayerNet
        With ``W`` of shape (m, d) and ``a`` of shape (m,).
    """
    d = check_positive_int("d", d)
    m = check_positive_int("m", m)
    seed = check_seed("seed", seed)
    kappa = d ** -0.5 if kappa is None else check_positive_float("kappa", kappa)
    gamma = m ** -0.5 if gamma is None else check_positive_float("gamma", gamma)
    rng = np.random.default_rng(seed)
    W = kappa * rng.standard_normal((m, d))
    a = gamma * np.where(rng.random(m) < 0.5, -1.0, 1.0)
    return TwoLayerNet(W, a)
