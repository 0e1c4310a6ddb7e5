"""Tax exception rules: filters, the tax code they apply, and their order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from ledgerbridge.api.mappings.schemas import TaxType

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Domain = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=253, pattern=r"^(?:[a-zA-Z0-9-]+\.)+[a-zA-Z]{2,63}$"
    ),
]
Country = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")]
Email = Annotated[EmailStr, AfterValidator(str.lower)]

FILTER_EXAMPLE: Any = {"countries": ["NZ"], "email_domains": ["example.org"]}


class TaxExceptionFilters(BaseModel):
    """A transaction matches when it matches every filter that is set (any value within one filter)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [FILTER_EXAMPLE]})

    emails: list[Email] = Field(default_factory=list, max_length=500)
    email_domains: list[Domain] = Field(default_factory=list, max_length=500)
    countries: list[Country] = Field(default_factory=list, max_length=250, description="ISO 3166-1 alpha-2")
    tags: list[Id] = Field(default_factory=list, max_length=500)
    gateway_ids: list[Id] = Field(default_factory=list, max_length=500)
    product_ids: list[Id] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _at_least_one(self) -> TaxExceptionFilters:
        if not any(self.model_dump().values()):
            raise ValueError(
                "set at least one filter (emails, email_domains, countries, tags, gateway_ids, product_ids)"
            )
        return self


class TaxExceptionIn(BaseModel):
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

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    filters: TaxExceptionFilters
    tax_type: TaxType
    priority: int = Field(
        default=100, ge=0, le=1_000_000, description="Lower runs first; the first match wins"
    )
    enabled: bool = True


class TaxExceptionOut(TaxExceptionIn):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class TaxExceptionSaved(TaxExceptionOut):
    warnings: list[str] = Field(default_factory=list)


class TaxExceptionList(BaseModel):
    items: list[TaxExceptionOut]
