"""``python -m theory``: run every claim's checks and write the claims report (:mod:`theory.report.cli`)."""

from theory.report.cli import DEFAULT_PROFILE, PROFILES, cli, default_checks, main

__all__ = ["DEFAULT_PROFILE", "PROFILES", "cli", "default_checks", "main"]

if __name__ == "__main__":
    cli()
