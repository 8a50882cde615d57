r"""Every numerical tolerance used by the checks, in one table, each with its justification.

Statistical significance levels are here too: a statistical check is a
tolerance on a random quantity.

==========================  =========  ======================================================
name                        value      where it comes from
==========================  =========  ======================================================
FD_INITIAL_STEP             1e-2       first step of scipy's Richardson extrapolation
FD_RTOL                     1e-7       relative agreement analytic vs finite difference
FD_ERROR_FACTOR             10         multiple of scipy's own error estimate allowed
FD_NOISE_ULPS               64         rounding floor of a difference quotient, in ulps of |F|
IDENTITY_RTOL               1e-12      two exact rewritings of one formula
FEW_OPS_RTOL                64 u       a few correctly rounded operations on short vectors
PROJECTION_RTOL             1e-12      idempotence / non-expansiveness of the projection
KS_ALPHA                    1e-6       significance of the Kolmogorov–Smirnov sampler tests
KS_SAMPLES                  4000       sample size of those tests
BOUND_SHARPNESS_RTOL        1e-9       excess of a certified bound where it is exact (rounding only)
==========================  =========  ======================================================

See each constant's comment for the derivation.
"""

from __future__ import annotations

import numpy as np

#: Unit roundoff of float64, u = 2^-53.
UNIT_ROUNDOFF = np.finfo(np.float64).eps / 2.0

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

#: Rounding floor of a finite difference. Values of a function F of size |F| are
#: computed with an error of a few ulps of |F| (more when F is a sum with
#: cancellation); a difference quotient with step h turns that into
#: ``u |F| / h`` times the sum of the formula's weights (about 2.4 for the
#: order-8 central formula). 64 ulps covers both factors. This floor matters only
#: when the derivative is tiny next to F (saturated softplus units at large input
#: scale: sigma'' ~ e^-24 while the gradient is O(1)); scipy's own estimate, the
#: difference of two extrapolations, can miss it by chance.
FD_NOISE_ULPS = 64.0

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

#: Significance level of the Kolmogorov–Smirnov tests of the samplers. A correct
#: sampler is rejected with probability KS_ALPHA per example; across the 20-seed
#: sweep of the ``thorough`` profile (4000 examples per property) that is below
#: 0.01 false alarms in total. With KS_SAMPLES = 4000 the test still has power ~1
#: against a uniform-radius sampler for d >= 2, whose KS distance from uniform is
#: :math:`\sup_u |u^{1/d} - u| \ge 1/4`: the rejection p-value is below
#: :math:`2 e^{-2 n D^2} = 2e^{-500}`.
KS_ALPHA = 1e-6

#: Sample size of the KS tests (see :data:`KS_ALPHA`).
KS_SAMPLES = 4000

#: Absolute tolerance below the normal range: a result that underflows into the
#: subnormals (σ'(z) ~ e^{-700} at input scale 10^3) has an absolute spacing of
#: 2^-1074, and each of the handful of operations that produce it (an exponential,
#: a division, the products by a, W and L_f) may round by one spacing, whatever
#: the relative tolerance says. 64 spacings (about 3e-322) cover them.
SUBNORMAL_ATOL = 64 * float(np.finfo(np.float64).smallest_subnormal)

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
