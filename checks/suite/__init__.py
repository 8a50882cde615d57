"""The suite itself: the claims report, the layers, the findings, source hygiene, parallel safety, the reliability scripts."""
