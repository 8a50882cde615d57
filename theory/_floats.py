r"""Facts of float64 arithmetic that the mathematics relies on (the bottom layer).

Every bound of the library that must hold for *computed* values is built from
these: the unit roundoff, the error of the elementary functions, Higham's
:math:`\gamma_n` for sums, and the floors below which floating point has
absolute rather than relative precision. The checks' own tolerances
(:mod:`theory.testing.tolerances`) are built on top of them; nothing here
depends on the checks.
"""

from __future__ import annotations

import numpy as np

from theory._validation import check_positive_int

__all__ = ["UNIT_ROUNDOFF", "ELEMENTARY_ULPS", "ELEMENTARY_RTOL", "SUBNORMAL_SPACING", "NORMAL_MIN",
           "SCALING_FLOOR", "SCALING_CEILING", "higham_gamma"]

#: Unit roundoff of float64, u = 2^-53: a correctly rounded operation has relative error at most u.
UNIT_ROUNDOFF = float(np.finfo(np.float64).eps / 2.0)

#: Error of numpy's float64 elementary functions (exp, log1p, cos, sin), in ulps:
#: the scalar libm (glibc) is within 1 ulp, numpy's AVX-512 (SVML) loops are
#: documented within 4 ulps for every function they provide. An ulp of x is at most
#: 2u|x|, so one call has relative error at most 2 * ELEMENTARY_ULPS * u = 8u.
#: ``checks/numerics/test_numerics_losses.py`` measures the losses built on them against a
#: 60-digit evaluation.
ELEMENTARY_ULPS = 4.0

#: Relative error of one elementary function call, 2 · ELEMENTARY_ULPS · u.
ELEMENTARY_RTOL = 2.0 * ELEMENTARY_ULPS * UNIT_ROUNDOFF

#: The spacing of the floats below the normal range, 2^-1074: a rounding whose
#: result is subnormal has an absolute (not relative) error of at most half of it,
#: whatever the relative bounds say. Bounds that must hold where results underflow
#: add one spacing per rounding that can underflow.
SUBNORMAL_SPACING = float(np.finfo(np.float64).smallest_subnormal)

#: The smallest normal float64, 2^-1022 (≈ 2.2e-308). A value computed as 0 or as a
#: subnormal is below it, so "computed + NORMAL_MIN" bounds a quantity that underflowed.
NORMAL_MIN = float(np.finfo(np.float64).tiny)

#: 2^-1000 (≈ 9.3e-302): far above the subnormals (times any factor of an evaluation),
#: far below any quantity of a natural scale. Norms rescale below it (their squares
#: would underflow), and the certified scans never take a sign of a quantity smaller
#: than this times its natural scale as certain.
SCALING_FLOOR = 2.0 ** -1000

#: 2^1000: norms rescale above it (their squares would overflow).
SCALING_CEILING = 2.0 ** 1000


def higham_gamma(n: int) -> float:
    r"""Higham's :math:`\gamma_n = n u/(1 - n u)`: a computed n-term sum (or dot product) is within :math:`\gamma_n\sum_i|t_i|` of the exact one.

    *Accuracy and Stability of Numerical Algorithms*, eq. (3.4), for any summation order.
    n must be a positive integer with :math:`n u < 1` (ValueError otherwise: the bound holds only there).
    """
    nu = check_positive_int("n", n) * UNIT_ROUNDOFF
    if nu >= 1.0:
        raise ValueError(f"n must satisfy n u < 1 (n < 2**53), got n={n}")
    return nu / (1.0 - nu)
