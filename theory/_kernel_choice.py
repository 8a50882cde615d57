"""Which kernel PGD's steps use: the environment variable :data:`KERNEL_ENV` and whether numba is installed.

The numpy kernel (:mod:`theory._kernel`) is the reference and the default without the optional
extra ``fast`` (numba). With it, the fused kernel runs its elementwise passes compiled
(:mod:`theory._compiled_blocks`) and few-start PGD runs whole loops compiled
(:mod:`theory._compiled`), unless :data:`KERNEL_ENV` says ``numpy``.
"""

from __future__ import annotations

import importlib.util
import os

__all__ = ["AVAILABLE", "KERNEL_ENV", "KERNELS", "kernel_choice", "use_compiled"]

#: Whether numba is installed (the ``fast`` extra). It is imported, and the loops compiled (or
#: loaded from numba's cache), on first use.
AVAILABLE = importlib.util.find_spec("numba") is not None

#: Environment variable choosing PGD's kernel: ``auto`` (default: compiled where it applies),
#: ``numpy`` (always the numpy kernel) or ``compiled`` (as ``auto``, and an ImportError if
#: numba is missing).
KERNEL_ENV = "THEORY_KERNEL"
KERNELS = ("auto", "numpy", "compiled")


def kernel_choice(environ=os.environ) -> str:
    """The kernel asked for by :data:`KERNEL_ENV` (``auto`` when unset); ValueError for another value."""
    choice = environ.get(KERNEL_ENV, "auto") or "auto"
    if choice not in KERNELS:
        raise ValueError(f"{KERNEL_ENV} must be one of {KERNELS}, got {choice!r}")
    if choice == "compiled" and not AVAILABLE:
        raise ImportError(f"{KERNEL_ENV}=compiled needs numba (the optional extra 'fast')")
    return choice


def use_compiled(environ=os.environ) -> bool:
    """Whether compiled code may serve: numba is installed and :data:`KERNEL_ENV` is not ``numpy``."""
    return kernel_choice(environ) != "numpy" and AVAILABLE
