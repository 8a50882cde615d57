"""What the checks are made of: Hypothesis strategies, finite-difference checks, tolerances, regimes, statistics, profiles."""
