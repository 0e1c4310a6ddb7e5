"""Validation of request bodies against Xero's official OpenAPI schemas."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from jsonschema import Draft4Validator

from ledgerbridge.sandbox.specs import xero_accounting_spec_path


@cache
def _components() -> dict[str, Any]:
    with xero_accounting_spec_path().open("rb") as handle:
        document = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    components: dict[str, Any] = document["components"]
    return components


@cache
def _validator(schema_name: str) -> Draft4Validator:
    components = _components()
    if schema_name not in components["schemas"]:
        raise KeyError(f"Xero's spec has no schema named {schema_name!r}")
    # OpenAPI 3.0 schema objects are a superset of JSON Schema draft 4; refs point into components.
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": components}
    return Draft4Validator(schema)


def schema_errors(schema_name: str, body: Any) -> list[str]:
    """Every way ``body`` breaks the named schema, as readable ``path: message`` strings."""
    errors = sorted(_validator(schema_name).iter_errors(body), key=lambda error: list(error.absolute_path))
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '<root>'}: {error.message}"
        for error in errors
    ]
