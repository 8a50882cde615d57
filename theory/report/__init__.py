"""The claims report: the registry of claims, the pytest plugin, the build, Markdown, files and the command line."""

from theory.report.files import (
    SCHEMA_ID, SCHEMA_PATH, STATUSES, Status, EXAMPLE_DB_ENV, example_database_path,
    validate_report, write_atomically,
)
from theory.report.build import (
    build_report,
)
from theory.report.markdown import (
    render_markdown,
)

__all__ = [
    "SCHEMA_ID",
    "SCHEMA_PATH",
    "STATUSES",
    "Status",
    "EXAMPLE_DB_ENV",
    "example_database_path",
    "validate_report",
    "write_atomically",
    "build_report",
    "render_markdown",
]
