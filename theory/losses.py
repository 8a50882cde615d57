r"""Losses in the paper's minimisation form, with their derivatives in f.

The adversary maximises an original loss :math:`\ell(y, f)`; following section 3
we minimise :math:`L = -\ell` instead, so adversarial maxima of :math:`\ell` are
minima of :math:`L`, throughout the library.

* **Quadratic** (section 3): :math:`\ell = (y - f)^2`, :math:`L = -(y-f)^2`,
  :math:`\partial L/\partial f = 2(y - f)`, :math:`\partial^2 L/\partial f^2 = -2`.
* **Cross-entropy** (section 5.2, last display): with :math:`s(f) = e^f/(1+e^f)`,
  :math:`\ell = -y\log s(f) - (1-y)\log(1-s(f)) = \operatorname{softplus}(f) - y f`,
  :math:`L = y f - \operatorname{softplus}(f)
  = -[y\operatorname{softplus}(-f) + (1-y)\operatorname{softplus}(f)]`,
  :math:`\partial L/\partial f = y - s(f) = y\,s(-f) - (1-y)\,s(f)`
  (the second forms are the ones computed: no cancellation),
  :math:`\partial^2 L/\partial f^2 = -s(f)(1-s(f))`.
  The paper states the derivatives of :math:`\ell`: :math:`s(f) - y` and
  :math:`s(1-s)`; they are ours with the sign flipped. Its assumptions
  (:math:`\mathcal L < |\partial L/\partial f| < \mathcal U`,
  :math:`|\partial^2 L/\partial f^2| \le \mathcal B`) concern absolute values,
  so the sign does not matter there.

The chain rule of section 5.2,
:math:`\partial L/\partial\delta = L_f\,\partial f` and
:math:`\partial^2 L/\partial\delta^2 = L_f\,\partial^2 f + L_{ff}\,\partial f\,\partial f^\top`,
is applied in :mod:`theory.problem`.

All methods are elementwise in ``f`` (any shape) and stable for large ``|f|``.
"""

from __future__ import annotations

import numpy as np

from theory._validation import as_float_array, check_finite_float
from theory.network import SIGMOID_RTOL, SOFTPLUS2_RTOL, SOFTPLUS_RTOL, activations, sigmoid, softplus
from theory._floats import SUBNORMAL_SPACING, UNIT_ROUNDOFF
from theory.activations import SOFTPLUS_FOURTH_MAX, SOFTPLUS_THIRD_MAX

__all__ = ["Loss", "QuadraticLoss", "CrossEntropyLoss", "LOSSES", "get_loss", "SOFTPLUS_THIRD_MAX",
           "SOFTPLUS_FOURTH_MAX"]


class Loss:
    """Interface of a loss in minimisation form. Subclasses implement the four methods."""

    #: Short name used by :func:`get_loss` and :func:`theory.problem.make_problem`.
    name: str = ""

    def check_label(self, y: float) -> float:  # pragma: no cover - overridden
        """Validate a label; return it as a float."""
        raise NotImplementedError

    def value(self, y, f):
        """:math:`L(y, f)` (minimisation form), elementwise."""
        return self._value(*self._arguments(y, f))

    def dvalue(self, y, f):
        r""":math:`\partial L / \partial f`, elementwise."""
        return self._dvalue(*self._arguments(y, f))

    def d2value(self, y, f):
        r""":math:`\partial^2 L / \partial f^2`, elementwise."""
        return self._d2value(*self._arguments(y, f))

    def value_and_dvalue(self, y, f):
        r"""``(value(y, f), dvalue(y, f))`` together, bit for bit (PGD's hot path).

        Subclasses may share work between the two; the results must equal the
        separate calls exactly (``checks/numerics/test_numerics_losses.py``).
        """
        return self.value_and_dvalue_unchecked(*self._arguments(y, f))

    def _arguments(self, y, f):
        """The label checked by :meth:`check_label` and ``f`` as a finite float64 array (else ValueError/TypeError)."""
        return self.check_label(y), as_float_array("f", f)

    # Implementations, on checked arguments: f is a finite float64 array (from
    # _arguments, or PGD's kernel, which calls value_and_dvalue_unchecked on its own f).
    # Subclasses implement the first three.
    def _value(self, y, f):  # pragma: no cover - overridden
        raise NotImplementedError

    def _dvalue(self, y, f):  # pragma: no cover - overridden
        raise NotImplementedError

    def _d2value(self, y, f):  # pragma: no cover - overridden
        raise NotImplementedError

    def value_and_dvalue_unchecked(self, y, f):
        """:meth:`value_and_dvalue` on a checked label and a finite float64 array ``f``, without the checks (PGD's kernel)."""
        return self._value(y, f), self._dvalue(y, f)

    def value_error(self, y, f):
        """Bound on the absolute rounding error of the computed :meth:`value` at the float ``f``, elementwise.

        A certified bound for every finite f (derivation in each subclass), including
        where results underflow into the subnormals.
        """
        return self._value_error(*self._arguments(y, f))

    def dvalue_error(self, y, f):
        """Bound on the absolute rounding error of the computed :meth:`dvalue`, elementwise."""
        return self._dvalue_error(*self._arguments(y, f))

    def d2value_error(self, y, f):
        """Bound on the absolute rounding error of the computed :meth:`d2value`, elementwise."""
        return self._d2value_error(*self._arguments(y, f))

    def _value_error(self, y, f):  # pragma: no cover - overridden
        raise NotImplementedError

    def _dvalue_error(self, y, f):  # pragma: no cover - overridden
        raise NotImplementedError

    def _d2value_error(self, y, f):  # pragma: no cover - overridden
        raise NotImplementedError

    def dvalue_abs_range(self, y, f_lo, f_hi):
        r"""Exact range of :math:`|\partial L/\partial f|` for f in the interval ``[f_lo, f_hi]``.

        Returns
        -------
        (lower, upper) : tuple of float
        """
        raise NotImplementedError

    def curvature_bounds(self, y, f_lo, f_hi):
        r"""Upper bounds on :math:`|\partial^2 L/\partial f^2|` and :math:`|\partial^3 L/\partial f^3|` for f in ``[f_lo, f_hi]``.

        Used by the certified scan of :func:`theory.landscape.circle_critical_points`.

        Returns
        -------
        (second, third) : tuple of float
        """
        raise NotImplementedError

    def adversarial_value(self, y, f):
        r"""The original (maximised) loss :math:`\ell = -L`."""
        return -self.value(y, f)

    def __repr__(self):
        return f"{type(self).__name__}()"


class QuadraticLoss(Loss):
    r"""Quadratic loss in minimisation form, :math:`L(y, f) = -(y - f)^2` (section 3)."""

    name = "quadratic"

    def check_label(self, y):
        return check_finite_float("y", y)

    def _value(self, y, f):
        r = y - f
        return -(r * r)

    def _dvalue(self, y, f):
        return 2.0 * (y - f)

    def _d2value(self, y, f):
        return np.full(np.shape(f), -2.0)

    # Rounding (u = 2^-53; each correctly rounded operation has relative error <= u,
    # or an absolute error <= SUBNORMAL_SPACING / 2 where its result is subnormal):
    # r = fl(y - f) = (y - f)(1 + θ1) and fl(r r) = r²(1 + θ2), so
    # |ΔL| <= ((1 + u)³ - 1)|L| <= 3.001 u |L|, and 4u of the computed |L| covers it;
    # a subnormal r² adds half a spacing (a subtraction with a subnormal result is exact).
    # ∂L/∂f = 2 fl(y - f): one rounding (the doubling is exact), 2u of the computed value.
    # ∂²L/∂f² = -2 exactly.

    def _value_error(self, y, f):
        return 4.0 * UNIT_ROUNDOFF * np.abs(self._value(y, f)) + SUBNORMAL_SPACING

    def _dvalue_error(self, y, f):
        return 2.0 * UNIT_ROUNDOFF * np.abs(self._dvalue(y, f))

    def _d2value_error(self, y, f):
        return np.zeros(np.shape(f))

    def dvalue_abs_range(self, y, f_lo, f_hi):
        # |2(y - f)| on [f_lo, f_hi]: maximal at an endpoint, minimal at the
        # endpoint nearest y, or 0 when y lies inside the interval.
        hi = 2.0 * max(abs(y - f_lo), abs(y - f_hi))
        lo = 0.0 if f_lo <= y <= f_hi else 2.0 * min(abs(y - f_lo), abs(y - f_hi))
        return lo, hi

    def curvature_bounds(self, y, f_lo, f_hi):
        # L_ff = -2 and L_fff = 0 everywhere.
        return 2.0, 0.0


class CrossEntropyLoss(Loss):
    r"""Binary cross-entropy on the logit f, minimisation form :math:`L = y f - \operatorname{softplus}(f)` (section 5.2).

    Labels lie in [0, 1] (the paper uses y in {0, 1}).
    """

    name = "cross_entropy"

    def check_label(self, y):
        y = check_finite_float("y", y)
        if not 0.0 <= y <= 1.0:
            raise ValueError(f"y must lie in [0, 1] for the cross-entropy loss, got {y}")
        return y

    # y f - softplus(f) and y - s(f) cancel catastrophically when the prediction
    # is confident and right (y = 1, f >> 0: 1 - s(f) loses all digits of e^-f).
    # The forms below use softplus(f) - f = softplus(-f) and 1 - s(f) = s(-f) and
    # are accurate to a few ulp for every f and every y in [0, 1].

    def _value(self, y, f):
        return -(y * softplus(-f) + (1.0 - y) * softplus(f))

    def _dvalue(self, y, f):
        return y * sigmoid(-f) - (1.0 - y) * sigmoid(f)

    def value_and_dvalue_unchecked(self, y, f):
        # value and dvalue share one e = exp(-|f|) (= exp(-|-f|)): the same
        # expressions as softplus(+-f) and sigmoid(+-f) in theory.network, so the
        # results are those of value() and dvalue() bit for bit.
        e = np.exp(-np.abs(f))
        log_term = np.log1p(e)
        one_plus_e = 1.0 + e
        value = -(y * (np.maximum(-f, 0.0) + log_term) + (1.0 - y) * (np.maximum(f, 0.0) + log_term))
        dvalue = (y * (np.where(f <= 0.0, 1.0, e) / one_plus_e)
                  - (1.0 - y) * (np.where(f >= 0.0, 1.0, e) / one_plus_e))
        return value, dvalue

    def _d2value(self, y, f):
        # s(1 - s) is softplus'' : computed as e/(1+e)^2, accurate for any |f|.
        return -activations(f)[2]

    # Rounding, from the activations' relative errors (theory.network: SOFTPLUS_RTOL,
    # SIGMOID_RTOL, SOFTPLUS2_RTOL) and u per other operation:
    # * L = -(y sp(-f) + (1 - y) sp(f)): the products add u (and 1 - y another u),
    #   the sum of two non-negative terms u: |ΔL| <= (SOFTPLUS_RTOL + 3u)|L|; one more u
    #   to take it relative to the computed |L|.
    # * ∂L/∂f = y s(-f) - (1 - y) s(f) is a difference of two non-negative terms
    #   A and B, each within SIGMOID_RTOL + 2u of its value: |Δ| <= (SIGMOID_RTOL + 2u)
    #   (A + B) + u |A - B| <= (SIGMOID_RTOL + 3u)(A + B), plus u for the computed
    #   terms: relative to the *sum* A + B, not to |∂L/∂f| (they cancel where
    #   y = s(f) with 0 < y < 1, and there the error is not relative to the result).
    # * ∂²L/∂f² = -σ''(f): SOFTPLUS2_RTOL, plus u for the computed value.
    # Below the normal range the roundings are absolute instead: the exponential's
    # and log1p's ELEMENTARY_ULPS ulps are that many spacings each, every other
    # rounding half a spacing; 16 spacings cover the at most 2 * 4 + 8 * 1/2 of any
    # of the three.

    def _value_error(self, y, f):
        return (_CE_VALUE_RTOL * np.abs(self._value(y, f))
                + _CE_SUBNORMAL_SPACINGS * SUBNORMAL_SPACING)

    def _dvalue_error(self, y, f):
        terms = y * sigmoid(-f) + (1.0 - y) * sigmoid(f)
        return _CE_DVALUE_RTOL * terms + _CE_SUBNORMAL_SPACINGS * SUBNORMAL_SPACING

    def _d2value_error(self, y, f):
        return (_CE_D2VALUE_RTOL * activations(f)[2]
                + _CE_SUBNORMAL_SPACINGS * SUBNORMAL_SPACING)

    def dvalue_abs_range(self, y, f_lo, f_hi):
        # y - s(f) is decreasing in f, so its range is [y - s(f_hi), y - s(f_lo)].
        a = float(self.dvalue(y, f_hi))
        b = float(self.dvalue(y, f_lo))
        hi = max(abs(a), abs(b))
        lo = 0.0 if a <= 0.0 <= b else min(abs(a), abs(b))
        return lo, hi

    def curvature_bounds(self, y, f_lo, f_hi):
        # |L_ff| = s(1 - s) = softplus''(f) is unimodal with its maximum 1/4 at
        # f = 0: its sup over [f_lo, f_hi] is at 0 or at the endpoint nearest 0
        # (inflated by CURVATURE_ROUNDING for the rounding of the evaluation).
        # |L_fff| = |s(1 - s)(1 - 2s)| <= min(s(1 - s), SOFTPLUS_THIRD_MAX), since |1 - 2s| <= 1:
        # the bound on |L_ff| over the interval bounds |L_fff| there too (sharp where the
        # prediction is confident, where the global bound is off by e^|f|).
        if f_lo <= 0.0 <= f_hi:
            second = CROSS_ENTROPY_SHARP_CURVATURE
        else:
            nearest = f_lo if f_lo > 0.0 else f_hi
            second = min(float(activations(nearest)[2]) * (1.0 + CURVATURE_ROUNDING), CROSS_ENTROPY_SHARP_CURVATURE)
        return second, min(second, SOFTPLUS_THIRD_MAX)


# The cross-entropy rounding bounds of CrossEntropyLoss, relative (derivation there).
_CE_VALUE_RTOL = SOFTPLUS_RTOL + 4.0 * UNIT_ROUNDOFF
_CE_DVALUE_RTOL = SIGMOID_RTOL + 4.0 * UNIT_ROUNDOFF
_CE_D2VALUE_RTOL = SOFTPLUS2_RTOL + UNIT_ROUNDOFF
_CE_SUBNORMAL_SPACINGS = 16.0

#: Relative inflation of the evaluated σ''(f) = e/(1+e)², e = exp(−|f|), in
#: :meth:`CrossEntropyLoss.curvature_bounds`, so that the bound stays above the true
#: value: the relative error bound of the computed σ'',
#: :data:`theory.network.SOFTPLUS2_RTOL` (28u), plus u for taking the computed value: 29u.
CURVATURE_ROUNDING = _CE_D2VALUE_RTOL

#: Section 5.2's stated constants for cross-entropy: |∂L/∂f| = |s(f) − y| < 𝓤 = 1
#: and |∂²L/∂f²| = s(f)(1 − s(f)) <= 𝓑 = 1.
CROSS_ENTROPY_PAPER_UPPER = 1.0
CROSS_ENTROPY_PAPER_CURVATURE = 1.0
#: The sharp curvature bound: max of s(1 − s) = σ'' is 1/4 (at f = 0).
CROSS_ENTROPY_SHARP_CURVATURE = 0.25

#: Registered losses by name.
LOSSES = {cls.name: cls for cls in (QuadraticLoss, CrossEntropyLoss)}


def get_loss(loss) -> Loss:
    """Return a :class:`Loss` instance from a name in :data:`LOSSES` or an instance."""
    if isinstance(loss, Loss):
        return loss
    if not isinstance(loss, str):
        raise TypeError(f"loss must be a loss name or a Loss instance, got {type(loss).__name__}")
    try:
        return LOSSES[loss]()
    except KeyError:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}") from None
