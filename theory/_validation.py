"""Argument validation shared by every public function of :mod:`theory`.

Every public entry point validates its arguments before computing anything, so
that bad input raises a :class:`ValueError` or :class:`TypeError` whose message
names the argument and shows the offending value; no function returns NaN
silently.
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

__all__ = [
    "as_float_array",
    "check_positive_int",
    "check_positive_float",
    "check_finite_float",
    "check_seed",
    "check_last_dim",
    "as_rng",
    "check_instance",
]


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_positive_int(name: str, value, *, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` after checking that it is an integer >= ``minimum``.

    Booleans are rejected (``True`` is an ``int`` in Python, but never a dimension).
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)} "
                        f"of type {type(value).__name__}")
    value = operator.index(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_finite_float(name: str, value) -> float:
    """Return ``value`` as a finite Python float, or raise naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)} "
                        f"of type {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_positive_float(name: str, value) -> float:
    """Return ``value`` as a finite float > 0, or raise naming ``name``."""
    value = check_finite_float(name, value)
    if value <= 0.0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_positive_array(name: str, value) -> np.ndarray:
    """Return ``value`` as a float64 array of finite values > 0, or raise naming ``name``."""
    value = as_float_array(name, value)
    if np.any(value <= 0.0):
        raise ValueError(f"{name} must be > 0, got min {value.min()}")
    return value


def check_seed(name: str, value) -> int:
    """A seed is a non-negative integer (what :func:`numpy.random.default_rng` accepts)."""
    return check_positive_int(name, value, minimum=0)


def as_float_array(name: str, value, *, min_ndim: int = 0) -> np.ndarray:
    """Convert ``value`` to a float64 array, rejecting non-numeric, complex and non-finite input.

    float32 (or integer) input is promoted to float64: every computation of the
    package runs in double precision.
    """
    if type(value) is np.ndarray and value.dtype == np.float64:  # the common case, without the dtype tests
        if value.ndim < min_ndim:
            raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {value.shape}")
        return check_finite(name, value)
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy raises for ragged input
        raise TypeError(f"{name} must be array_like of real numbers: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating)
                                   or np.issubdtype(arr.dtype, np.integer)
                                   or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if arr.dtype == np.bool_:
        raise TypeError(f"{name} must be an array of real numbers, got dtype bool")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), "
                         f"got shape {arr.shape}")
    return check_finite(name, arr)


def check_finite(name: str, arr: np.ndarray) -> np.ndarray:
    """Return the float array ``arr`` after checking that every entry is finite (the ValueError names ``name``)."""
    if not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite, found {bad} NaN or infinite entr"
                         f"{'y' if bad == 1 else 'ies'}")
    return arr


def check_last_dim(name: str, arr: np.ndarray, d: int) -> np.ndarray:
    """Check that ``arr`` has shape ``(..., d)``."""
    if arr.ndim < 1 or arr.shape[-1] != d:
        raise ValueError(f"{name} must have shape (..., {d}), got shape {arr.shape}")
    return arr


def as_points(name: str, value, d: int) -> np.ndarray:
    """Convert ``value`` to a float64 array of shape ``(..., d)`` (points of R^d, batch dimensions leading).

    The errors name ``name``: non-numeric input is a TypeError; non-finite
    entries, a scalar or a last axis other than ``d`` a ValueError.
    """
    return check_last_dim(name, as_float_array(name, value), d)


def as_rng(name: str, value) -> np.random.Generator:
    """Accept a :class:`numpy.random.Generator` or a seed (non-negative int)."""
    if isinstance(value, np.random.Generator):
        return value
    return np.random.default_rng(check_seed(name, value))


def check_instance(name: str, value, cls):
    """Return ``value`` after checking that it is an instance of ``cls`` (the caller names the class)."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be a {cls.__name__}, got {type(value).__name__}")
    return value
