"""Third-party L2 PGDs against the paper's algorithm: the protocol, the reference, the properties, the adapters."""

from theory.attacks.protocol import FLOAT32_RTOL, FLOAT64_RTOL, L2Attack, check_attack
from theory.attacks.reference import (
    BROKEN_ATTACKS, CoordinateClip, DescentOnTheAttackLoss, FrozenStep, NormalisedStepAsRaw, ProjectPGD,
    RadiusUniformStart, SphereStart,
)

__all__ = ["L2Attack", "check_attack", "FLOAT64_RTOL", "FLOAT32_RTOL", "ProjectPGD", "RadiusUniformStart",
           "SphereStart", "CoordinateClip", "NormalisedStepAsRaw", "FrozenStep", "DescentOnTheAttackLoss",
           "BROKEN_ATTACKS"]
