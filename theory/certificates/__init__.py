"""Per-draw certificates that take a Problem: contraction, fold-free annulus (d = 2) and shell (d = 3), τ_ε."""

from theory.certificates.uniqueness import (
    UniquenessCertificate, uniqueness_certificate, contraction_tau_eps, TAU_BISECTION_RTOL,
    TAU_EPS_CAP_SCALE, TAU_GIVE_UP_RATIO,
)
from theory.certificates.annulus import (
    AnnulusCover, annulus_derivatives, box_derivative_bounds, fold_free_annulus,
    ANNULUS_MAX_BOXES, ANNULUS_RTOL, ANNULUS_INITIAL_ARCS, ANNULUS_MIN_ARC,
    ANNULUS_BATCH, ANNULUS_WINDOW, ANNULUS_FLOOR,
)
from theory.certificates.shell import (
    ShellCover, chart_points, shell_derivatives, shell_box_bounds, chart_box_values,
    fold_free_shell, shell_tau_eps, CHART_C2, CHART_C3, SHELL_MAX_BOXES, SHELL_RTOL,
    SHELL_INITIAL_SPLITS, SHELL_MIN_SIDE, SHELL_BATCH, SHELL_WINDOW,
)
from theory.certificates.tau import (
    certified_tau_eps, annulus_tau_eps, TAU_METHODS,
)
from theory.certificates.fixed_point import (
    fixed_point_distance_bound,
)

__all__ = [
    "UniquenessCertificate",
    "uniqueness_certificate",
    "contraction_tau_eps",
    "TAU_BISECTION_RTOL",
    "TAU_EPS_CAP_SCALE",
    "TAU_GIVE_UP_RATIO",
    "AnnulusCover",
    "annulus_derivatives",
    "box_derivative_bounds",
    "fold_free_annulus",
    "annulus_tau_eps",
    "TAU_METHODS",
    "ANNULUS_MAX_BOXES",
    "ANNULUS_RTOL",
    "ANNULUS_INITIAL_ARCS",
    "ANNULUS_MIN_ARC",
    "ANNULUS_BATCH",
    "ANNULUS_WINDOW",
    "ANNULUS_FLOOR",
    "ShellCover",
    "chart_points",
    "shell_derivatives",
    "shell_box_bounds",
    "chart_box_values",
    "fold_free_shell",
    "shell_tau_eps",
    "CHART_C2",
    "CHART_C3",
    "SHELL_MAX_BOXES",
    "SHELL_RTOL",
    "SHELL_INITIAL_SPLITS",
    "SHELL_MIN_SIDE",
    "SHELL_BATCH",
    "SHELL_WINDOW",
    "certified_tau_eps",
    "fixed_point_distance_bound",
]
