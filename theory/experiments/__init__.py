"""The programs: the §5.1 experiments, Figure 1, the threshold sweep, calibration and the findings."""
