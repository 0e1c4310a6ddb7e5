"""Tax exception rules: filters, the tax code they apply, and their order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ledgerbridge.common.tax_exception_rules import FILTER_EXAMPLE, TaxExceptionFilters, TaxExceptionRuleData

__all__ = [
    "TaxExceptionFilters",
    "TaxExceptionIn",
    "TaxExceptionList",
    "TaxExceptionOut",
    "TaxExceptionSaved",
]


class TaxExceptionIn(TaxExceptionRuleData):
    """The shared rule model (``ledgerbridge.common.tax_exception_rules``): what the API accepts is
    exactly what the mapper reads."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "NZ customers: GST inclusive",
                    "filters": FILTER_EXAMPLE,
                    "tax_type": "OUTPUT2",
                    "priority": 10,
                    "enabled": True,
                }
            ]
        },
    )


class TaxExceptionOut(BaseModel):
    """A stored rule. One stored before the rule model was shared (an ONTRAPORT id that is not a number)
    is shown as stored, with ``error`` saying why the mapper skips it, so it can be replaced."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    filters: TaxExceptionFilters | dict[str, Any] = Field(union_mode="left_to_right")
    tax_type: str
    priority: int
    enabled: bool
    created_at: datetime
    updated_at: datetime
    error: str | None = Field(
        default=None, description="Why this rule cannot be used (the mapper skips it); replace it to fix"
    )

    @model_validator(mode="after")
    def _explain(self) -> TaxExceptionOut:
        if isinstance(self.filters, dict) and self.error is None:
            try:
                TaxExceptionFilters.model_validate(self.filters)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                self.error = (
                    f"filters.{where}: {first['msg']}; the mapper skips this rule until it is replaced"
                )
        return self


class TaxExceptionSaved(TaxExceptionOut):
    warnings: list[str] = Field(default_factory=list)


class TaxExceptionList(BaseModel):
    items: list[TaxExceptionOut]
