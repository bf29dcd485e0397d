"""The one validator of reports in the tests: schema/report-1.json as the package ships it."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from poetry_wheelguard.report import schema_path


@lru_cache(maxsize=1)
def report_schema() -> dict[str, Any]:
    """The shipped ``wheelguard-report/1`` JSON Schema (read once)."""
    data: dict[str, Any] = json.loads(schema_path().read_text())
    return data


def validate_report(data: Any) -> Any:
    """Validate ``data`` against the report schema and return it.

    Raises:
        jsonschema.ValidationError: ``data`` is no valid report.
    """
    jsonschema.validate(data, report_schema())
    return data


def read_report(path: Path) -> dict[str, Any]:
    """The JSON report at ``path``, validated against the schema."""
    data: dict[str, Any] = validate_report(json.loads(path.read_text()))
    return data
