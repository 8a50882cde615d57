"""The landscape of L on the sphere: critical points, the certified scans, worst cases, the threshold."""

from theory.landscape.critical import (
    CriticalPoint, tangent_basis, tangent_hessian, newton_on_sphere, CRITICAL_GTOL,
    NEWTON_STOP_RTOL, DEGENERATE_RTOL, classify, kind_from_spectrum, check_sphere_problem,
)
from theory.landscape.search import (
    critical_points, local_minima, local_maxima, local_extrema, DEFAULT_STARTS, MERGE_RTOL,
)
from theory.landscape.circle import (
    CircleScan, circle_critical_points, CIRCLE_INITIAL_POINTS, CIRCLE_MAX_EVALUATIONS,
    SUBNORMAL_FLOOR,
)
from theory.landscape.worst_case import (
    SEARCH_SAMPLES, SEARCH_STARTS, SearchResult, min_gradient_norm, min_gradient_cosine,
    condition_6,
)
from theory.landscape.threshold import (
    ThresholdResult, minima_threshold, THRESHOLD_EPS_CAP, THRESHOLD_RTOL, THRESHOLD_MAX_DOUBLINGS,
    THRESHOLD_SCAN_RATIO, THRESHOLD_MAX_COVERS, scan_threshold,
)

__all__ = [
    "CriticalPoint",
    "tangent_basis",
    "tangent_hessian",
    "newton_on_sphere",
    "CRITICAL_GTOL",
    "NEWTON_STOP_RTOL",
    "DEGENERATE_RTOL",
    "classify",
    "kind_from_spectrum",
    "check_sphere_problem",
    "critical_points",
    "local_minima",
    "local_maxima",
    "local_extrema",
    "DEFAULT_STARTS",
    "MERGE_RTOL",
    "CircleScan",
    "circle_critical_points",
    "CIRCLE_INITIAL_POINTS",
    "CIRCLE_MAX_EVALUATIONS",
    "SUBNORMAL_FLOOR",
    "SEARCH_SAMPLES",
    "SEARCH_STARTS",
    "SearchResult",
    "min_gradient_norm",
    "min_gradient_cosine",
    "condition_6",
    "ThresholdResult",
    "minima_threshold",
    "THRESHOLD_EPS_CAP",
    "THRESHOLD_RTOL",
    "THRESHOLD_MAX_DOUBLINGS",
    "THRESHOLD_SCAN_RATIO",
    "THRESHOLD_MAX_COVERS",
    "scan_threshold",
]
