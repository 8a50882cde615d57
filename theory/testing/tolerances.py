r"""Every numerical tolerance used by the checks, in one table, each with its justification.

Statistical significance levels are here too: a statistical check is a
tolerance on a random quantity.

==========================  =========  ======================================================
name                        value      where it comes from
==========================  =========  ======================================================
FD_INITIAL_STEP             1e-2       first step of scipy's Richardson extrapolation
FD_STEP_PER_MAGNITUDE       ~4.8e-6    smallest first step per unit of |z|/|v| (huge arguments)
FD_RTOL                     1e-7       relative agreement analytic vs finite difference
FD_ERROR_FACTOR             10         multiple of scipy's own error estimate allowed
FD_DEFAULT_VALUE_ULPS       8          default rounding of a value with no derived bound, in u|F|
FD_ARGUMENT_FACTOR          2          first-order argument rounding, its (1 + u) and remainder
FD_FORMULA_ULPS             12         rounding of the difference formula, in u sum |w_k F_k|
higham_gamma(n)             n u/(1-nu) Higham's gamma_n: error of an n-term sum, relative to sum |t_i|
ELEMENTARY_ULPS             4          exp, log, log1p, cos, sin: error in ulps (2u|x| per ulp)
SUBNORMAL_SPACING           2^-1074    absolute error of a rounding below the normal range
IDENTITY_RTOL               1e-12      two exact rewritings of one formula
FEW_OPS_RTOL                64 u       a few correctly rounded operations on short vectors
PROJECTION_RTOL             1e-12      idempotence / non-expansiveness of the projection
KS_ALPHA                    1e-6       significance of the Kolmogorov–Smirnov sampler tests
KS_SAMPLES                  computed   sample size of those tests (power 1 − 1e-6 at distance 0.1)
BOUND_SHARPNESS_RTOL        1e-9       excess of a certified bound where it is exact (rounding only)
summation_rtol(n)           2 n u      two summation orders of one n-term dot product
spectral_norm_rtol(n)       8 n u      backward error of a computed singular value / eigenvalue
one_unit_bound_rtols(d)     4 u,       a one-unit third-derivative bound vs its exact sup
                            32(d+2) u  (below, above)
global_cap_rtol(m, d)       16(m+d) u  the gradient range's cap vs ‖W‖₂‖a‖₂ computed apart
shifted_exp_rtol(s)         u|s|       e^{fl(a − b)} against e^{a − b}, s = a − b: the rounded shift
==========================  =========  ======================================================

See each constant's comment for the derivation.
"""

from __future__ import annotations


from theory._floats import ELEMENTARY_ULPS, SUBNORMAL_SPACING, UNIT_ROUNDOFF, higham_gamma
from theory._validation import check_finite_float, check_positive_int
from theory.testing.statistics import ks_samples

#: The floating-point facts (theory._floats) are re-exported with the checks' tolerances built on them.
__all__ = [
    "ELEMENTARY_ULPS",
    "SUBNORMAL_SPACING",
    "UNIT_ROUNDOFF",
    "higham_gamma",
    "FD_INITIAL_STEP",
    "FD_RTOL",
    "FD_ERROR_FACTOR",
    "FD_ORDER",
    "FD_STEP_FACTOR",
    "central_difference_stencil",
    "FD_WEIGHT_SUM",
    "FD_STEP_PER_MAGNITUDE",
    "FD_DEFAULT_VALUE_ULPS",
    "FD_ARGUMENT_FACTOR",
    "FD_FORMULA_ULPS",
    "IDENTITY_RTOL",
    "FEW_OPS_RTOL",
    "PROJECTION_RTOL",
    "KS_ALPHA",
    "KS_DISTANCE",
    "KS_POWER",
    "KS_SAMPLES",
    "SUBNORMAL_ATOL",
    "BOUND_SHARPNESS_RTOL",
    "summation_rtol",
    "shifted_exp_rtol",
    "spectral_norm_rtol",
    "one_unit_bound_rtols",
    "global_cap_rtol",
]

#: Initial step of the central differences of :func:`scipy.differentiate.derivative`.
#: The functions checked vary on the scale of one unit of pre-activation
#: :math:`w_r^\top z`, and :math:`\|w_r\| \approx 1` at Xavier initialisation, so a
#: first step of 1e-2 along a unit direction is already in the asymptotic regime of
#: the order-8 formula; scipy then halves it until its error estimate converges.
FD_INITIAL_STEP = 1e-2

#: Relative tolerance of an analytic directional derivative against finite
#: differences, relative to the Cauchy–Schwarz scale of the quantity
#: (:math:`\|\partial f\|\|v\|` for :math:`\partial f^\top v`). scipy stops when its
#: error estimate is below :math:`\sqrt{\epsilon_{mach}} \approx 1.5\times10^{-8}`
#: relative; the analytic side carries rounding of relative order
#: :math:`m u \le 10^{-11}` for m <= 10^5. 1e-7 is about 7x scipy's stopping
#: tolerance: loose enough for both error sources, and five orders of magnitude below
#: the relative error of any real bug (a missing factor or term is an O(1) error).
FD_RTOL = 1e-7

#: Multiple of scipy's returned error estimate (the difference of the last two
#: Richardson iterates) that is added to the allowed discrepancy. The estimate is of
#: the right order but not a bound; a factor 10 covers its usual underestimation.
FD_ERROR_FACTOR = 10.0

#: Order of scipy's central differences and the factor by which it reduces the
#: step between iterations; :mod:`theory.testing.diffcheck` passes both explicitly, so
#: the stencil below is the one scipy uses.
FD_ORDER = 8
FD_STEP_FACTOR = 2


def central_difference_stencil(order: int = FD_ORDER, factor: int = FD_STEP_FACTOR):
    r"""Nodes and exact weights of scipy's central difference formula, as fractions.

    :func:`scipy.differentiate.derivative` estimates :math:`F'(0)` with step h as
    :math:`\frac1h\sum_k w_k F(s_k h)` over the nodes :math:`s_k = \pm\,\text{factor}^{-j}`,
    j = 0, ..., order/2 − 1 (the largest node is ±h; the centre has weight 0), the weights
    solving the Vandermonde system that makes the formula exact for polynomials of
    degree <= order. Solved here exactly in rational arithmetic; scipy solves it in
    floating point (:func:`theory.testing.diffcheck.scipy_stencil_weights` reads back the
    weights it actually uses).

    Returns
    -------
    nodes, weights : tuple of tuple of Fraction, length order + 1
        In scipy's order: innermost negative node first, the centre in the middle.
    """
    from fractions import Fraction

    half = check_positive_int("order", order) // 2
    if order % 2:
        raise ValueError(f"order must be even, got {order}")
    factor = Fraction(check_positive_int("factor", factor, minimum=2))
    nodes = [Fraction(0) if i == 0 else (1 if i > 0 else -1) / factor ** (abs(i) - 1)
             for i in range(-half, half + 1)]
    size = len(nodes)
    rows = [[node ** k for node in nodes] + [Fraction(int(k == 1))] for k in range(size)]
    for col in range(size):  # Gauss-Jordan elimination, exact
        pivot = next(r for r in range(col, size) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(size):
            if r != col and rows[r][col] != 0:
                ratio = rows[r][col] / rows[col][col]
                rows[r] = [a - ratio * b for a, b in zip(rows[r], rows[col])]
    weights = [rows[k][size] / rows[k][k] for k in range(size)]
    return tuple(nodes), tuple(weights)


#: Sum of the absolute weights of the stencil, 13.514... = 38304/2835: how much a
#: difference quotient with step h amplifies an error of the values, W/h. (Not the
#: 2.4 of the textbook order-8 formula on equally spaced nodes: scipy's nodes
#: shrink geometrically towards the centre, so the inner weights are large.)
FD_WEIGHT_SUM = float(sum(abs(w) for w in central_difference_stencil()[1]))

#: Smallest first step of the differences per unit of ``|z|_inf / |v|_inf``.
#: The computed point z + t v carries a rounding of up to u |z_j| per coordinate
#: (:mod:`theory.testing.diffcheck`), which a difference quotient with step h amplifies to
#: about :math:`W\,2u\,|\partial F|\,|z| / h` (W = 13.5, the sum of the stencil's
#: weights). Keeping that below a tenth of the accuracy the check needs,
#: :math:`W\,2u\,|z|/h \le (\mathrm{FD\_RTOL}/10)\,|v|`, after scipy has halved
#: the step up to 4 times (a factor 16), gives h >= 16 * 20 W u / FD_RTOL * |z| / |v|,
#: about 4.8e-6 |z| / |v|.
#: For the network checks (|z| <= 10^3) this is below FD_INITIAL_STEP and changes
#: nothing; it matters for scalar functions checked at |f| up to 1e300, where a
#: fixed step of 1e-2 is below the spacing of the floats around f and the
#: differences would carry no information.
FD_STEP_PER_MAGNITUDE = 16.0 * 20.0 * FD_WEIGHT_SUM * UNIT_ROUNDOFF / FD_RTOL

#: Rounding of a computed value F(p) assumed by :mod:`theory.testing.diffcheck` when the
#: caller gives no derived bound: 8 u |F(p)|, the error of a handful of correctly
#: rounded operations without cancellation. Callers with a certified bound
#: (:func:`theory.bounds.evaluation_error_bounds`, :meth:`theory.losses.Loss.value_error`)
#: pass it instead; a function that cancels must.
FD_DEFAULT_VALUE_ULPS = 8.0

#: Factor on the first-order effect of the rounding of the argument,
#: :math:`|F(\hat p) - F(p)| \le \sum_j |\partial_j F(\xi)|\,|\hat p_j - p_j|` for some
#: ξ between p and the computed :math:`\hat p`, with :math:`|\hat p_j - p_j| \le
#: u(|z_j| + 2|t||v_j|)(1 + u)`. Evaluating ∂F at :math:`\hat p` instead of ξ changes it
#: by :math:`\|\partial^2 F\|\,3u|p|`, far below :math:`|\partial F|` unless the
#: curvature exceeds the slope by a factor 1/(3u|p|) ~ 10^15/|p|; a factor 2 covers
#: the (1 + u) and that remainder.
FD_ARGUMENT_FACTOR = 2.0

#: Rounding of the difference formula itself, in units of :math:`u\sum_k|w_k||\hat F_k|`:
#: scipy computes :math:`\frac1h\sum_k w_k (\hat F_k/c)` and multiplies by c (c the
#: row's unit, :mod:`theory.testing.diffcheck`): the dot product of FD_ORDER + 1 terms (γ_9,
#: any summation order), one rounding of each value divided by c, and the division
#: by h and the product by c (two roundings of the result, whose size is at most
#: :math:`\sum_k|w_k||\hat F_k|/h`): 9 + 1 + 2 = 12 for order 8, up to the
#: second-order terms of γ_9 (below 10^-14 of it).
FD_FORMULA_ULPS = FD_ORDER + 4.0

#: Two algebraically identical computations of one quantity (e.g. Γ from its
#: definition and as a tangent projection, a batched and a per-point evaluation)
#: differ only by rounding: a few operations of relative error u on terms of the
#: size of the result, amplified by at most the length of the dot products
#: (d, m <= 10^5 gives m u ~ 1e-11). 1e-12 relative to the natural scale of the
#: terms plus the m-dependent part is applied as ``IDENTITY_RTOL * (1 + m + d)``.
IDENTITY_RTOL = 1e-12

#: Relative error of a result that takes a handful of correctly rounded operations
#: on vectors of length d <= 50 (a norm, a normalisation, a dot product, a
#: product or quotient of such): each contributes at most (d/2 + 2) u for a
#: pairwise sum and u otherwise, so 64 u (about 7e-15) covers them. Used for the
#: cosine, the tangent projection, the norm, ||x|| = input_scale and the schedules.
FEW_OPS_RTOL = 64 * UNIT_ROUNDOFF

#: Projection onto the ball: idempotence and non-expansiveness hold exactly in real
#: arithmetic; numerically the projected point carries the relative error of one
#: norm and one scaling (see :data:`theory.geometry.SPHERE_RTOL`), so comparisons are
#: made with this relative tolerance times ε.
PROJECTION_RTOL = 1e-12

#: Significance level of the Kolmogorov–Smirnov tests of the samplers: a correct
#: sampler fails one example with probability KS_ALPHA; across the 20-seed sweep of
#: the ``thorough`` profile (4000 examples per property) at most
#: :func:`theory.testing.statistics.per_run_false_fail` (1e-6, 4000) = 0.004 false alarms per
#: property in all.
KS_ALPHA = 1e-6

#: The named alternative of the KS tests: a sampler whose law is at sup-distance
#: KS_DISTANCE from the right one. The uniform-radius ball sampler (the control's
#: bug) is at :math:`\sup_u |u^{1/d} - u| \ge 1/4` for d >= 2; 1/10 covers subtler bugs.
KS_DISTANCE = 0.1

#: Power required against that alternative, per example.
KS_POWER = 1.0 - 1e-6

#: Sample size of the KS tests: the smallest n whose DKW lower bound on the power
#: (:func:`theory.testing.statistics.ks_power_lower_bound`) reaches KS_POWER at KS_ALPHA
#: against KS_DISTANCE (:func:`theory.testing.statistics.ks_samples`).
KS_SAMPLES = ks_samples(KS_ALPHA, KS_POWER, KS_DISTANCE)

#: Absolute tolerance below the normal range: a result that underflows into the
#: subnormals (σ'(z) ~ e^{-700} at input scale 10^3) has an absolute spacing of
#: 2^-1074, and each of the handful of operations that produce it (an exponential,
#: a division, the products by a, W and L_f) may round by one spacing, whatever
#: the relative tolerance says. 64 spacings (about 3e-322) cover them.
SUBNORMAL_ATOL = 64 * SUBNORMAL_SPACING

#: How far a certified bound of :mod:`theory.bounds` may exceed the exact value it
#: bounds, relative to that value, in the closed-form cases where the bound is exact
#: in real arithmetic (equal output weights at z = 0, one unit, orthogonal rows of W,
#: a vanishing radius). The excess is then only the bound's rounding allowances:
#: factors 1 + c n u with c <= 32 and n <= m + d + 4 <= 200 for the sizes drawn
#: (< 1e-12 each), and 4 gamma_n sums of absolute terms no larger than the bounded
#: value times the condition of the sum (< 1e-11 for the draws of these checks).
#: 1e-9 leaves two orders of magnitude of headroom, while a wrong constant in a bound
#: (a factor 2, a /4 written *4, a Frobenius norm for a spectral one, u written 1/u)
#: moves it by far more than 1e-9 on all but measure-zero draws. Finer slips (a
#: rounding factor 8 u written 9 u) are below any float64 observation and are listed
#: as such in MUTATION.md.
BOUND_SHARPNESS_RTOL = 1e-9


def summation_rtol(n: int) -> float:
    r"""Relative (to :math:`\sum_i |t_i|`) distance between two computed orders of one n-term sum, 2 n u.

    Each order is within :math:`\gamma_n \sum_i|t_i| \approx n u \sum_i|t_i|` of the exact sum (Higham,
    *Accuracy and Stability of Numerical Algorithms*, eq. (3.4)), so two orders are within 2 n u of
    each other. Used for the preactivations :math:`w_r^\top z` computed batched and by ``einsum``.
    n, the number of terms, must be a positive integer.
    """
    return 2 * check_positive_int("n", n) * UNIT_ROUNDOFF


def spectral_norm_rtol(n: int) -> float:
    r"""Relative error allowed for a computed singular value or extreme eigenvalue of a matrix of size n, 8 n u.

    LAPACK's SVD and symmetric eigensolvers are backward stable: they return the exact values of
    A + E with :math:`\|E\|_2 \le c\, n\, u\, \|A\|_2` for a modest c, and by Weyl's inequality each
    value moves by at most :math:`\|E\|_2`. c = 8 is the constant :mod:`theory.bounds` inflates its
    own norms by (``_spectral_norm_upper`` with n = m + d, ``_psd_norm_upper`` with n = d), so a check
    that deflates an observed norm by this much is consistent with the bound it checks.
    n must be a positive integer.
    """
    return 8.0 * check_positive_int("n", n) * UNIT_ROUNDOFF


def one_unit_bound_rtols(d: int) -> tuple[float, float]:
    r"""How far the computed third-derivative bound of a one-unit network may fall below and exceed its exact sup.

    For m = 1 the bound :math:`|a|\,\max|\sigma^{(3)}|\,\|w\|^3` is the supremum itself (at
    u = w/‖w‖ and the z where :math:`\sigma^{(3)}` peaks). Below: the independently computed sup is a
    product of four rounded factors, within 4 u. Above: the bound's rounding allowances, ‖w‖'s
    4 (d + 2) u, ``eigvalsh``'s 8 d u (:func:`spectral_norm_rtol`) and the Gram matrix's sums (a few
    u for one unit), all inside 32 (d + 2) u.

    Returns
    -------
    (below, above) : tuple of float
    """
    return 4.0 * UNIT_ROUNDOFF, 32.0 * (check_positive_int("d", d) + 2) * UNIT_ROUNDOFF


def global_cap_rtol(m: int, d: int) -> float:
    r"""Relative distance allowed between the gradient range's cap and :math:`\|W\|_2 \|a\|_2`, 16 (m + d) u.

    The cap inside :func:`theory.bounds.gradient_norm_range` and the check's own
    :math:`\|W\|_2\|a\|_2` differ by the SVD's allowance, 8 (m + d) u (:func:`spectral_norm_rtol`), and
    the products' and ‖a‖'s, 4 (m + 2) u: both inside 16 (m + d) u.
    """
    return 16.0 * (check_positive_int("m", m) + check_positive_int("d", d)) * UNIT_ROUNDOFF


def shifted_exp_rtol(shift: float) -> float:
    r"""Relative error of :math:`e^{\mathrm{fl}(a - b)}` against :math:`e^{a - b}` from the rounded shift, u|s|(1 + u|s|).

    A shift s = a − b of two floats rounds to s(1 + δ) with |δ| ≤ u, and exp turns that
    argument error into the relative error :math:`e^{|s|u} - 1 \le u|s|(1 + u|s|)` for
    u|s| ≤ 1: the conditioning of exp, |s|, times u, whatever exp's own rounding
    (ELEMENTARY_ULPS, counted apart). A log-sum-exp of such terms is 1-Lipschitz in the
    shifts, so it inherits at most u max|s_k| absolutely. Used for the cross-entropy of
    logits hundreds apart (the real-data CNN), where u|s| reaches 800 u.
    shift must be a finite real number.
    """
    s = abs(check_finite_float("shift", shift))
    return UNIT_ROUNDOFF * s * (1.0 + UNIT_ROUNDOFF * s)

