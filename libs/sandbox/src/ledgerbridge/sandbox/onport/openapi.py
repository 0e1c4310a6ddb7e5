"""Validation of Onport records against the official Onport OpenAPI schemas, strictly.

Strict means what a reader of the real API can rely on: no property the schema does not declare
(``additionalProperties`` false on every declared object), and every declared type respected, with
OpenAPI 3.0's ``nullable`` read as "or null". The sandbox is held to it so nothing we build reads a
field the real API does not send.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from jsonschema import Draft4Validator

from ledgerbridge.sandbox.specs import onport_spec_path

# ``required`` is left out: a list record need not carry every field its create form needs (a vendor's
# schema requires some ninety); what is checked is that nothing undeclared is served and types hold.
_NOT_CHECKED = ("nullable", "default", "example", "required")


@cache
def _document() -> dict[str, Any]:
    with onport_spec_path().open("rb") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    return document


def _strict(node: Any) -> Any:
    """A JSON Schema draft 4 copy of an OpenAPI 3.0 schema object, closed to undeclared properties."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _strict(value) for key, value in node.items() if key not in _NOT_CHECKED}
    if "properties" in copy:
        copy["additionalProperties"] = False
    if node.get("nullable"):
        return {"anyOf": [copy, {"type": "null"}]}
    return copy


def schema_name(resource: str) -> str:
    """The component schema ``GET /{resource}/{id}.json`` answers with (e.g. ``purchase-invoice``)."""
    path = _document()["paths"].get(f"/{resource}/{{id}}.json")
    if path is None:
        raise KeyError(f"Onport's spec has no /{resource}/{{id}}.json")
    ref = path["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    return str(ref).rsplit("/", 1)[-1]


@cache
def _validator(name: str) -> Draft4Validator:
    schemas = _document()["components"]["schemas"]
    if name not in schemas:
        raise KeyError(f"Onport's spec has no schema named {name!r}")
    schema = {"$ref": f"#/components/schemas/{name}", "components": {"schemas": _strict(schemas)}}
    return Draft4Validator(schema)


def record_errors(resource: str, record: Any) -> list[str]:
    """Every way ``record`` (one item of ``/{resource}.json``) breaks its official schema."""
    validator = _validator(schema_name(resource))
    errors = sorted(validator.iter_errors(record), key=lambda error: list(error.absolute_path))
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '<root>'}: {error.message}"
        for error in errors
    ]
