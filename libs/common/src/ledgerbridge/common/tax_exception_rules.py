"""Tax exception rules (SPEC.md §4.5): one model for the API that validates them and the mapper that reads
them back (issue 10, finding 4). Pure: standard library and pydantic only.

A rule makes matching transactions tax inclusive with a given tax code. It matches when every filter that
is set matches (any value within one filter). ONTRAPORT gateway and product ids are integers.
"""

from __future__ import annotations

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

MAX_VALUES = 500
MAX_ONTRAPORT_ID = 2**53  # ids are JSON numbers; beyond this they would not survive a round trip

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
OntraportId = Annotated[int, Field(ge=0, le=MAX_ONTRAPORT_ID)]
Domain = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=253, pattern=r"^(?:[a-zA-Z0-9-]+\.)+[a-zA-Z]{2,63}$"
    ),
]
Country = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")]
Email = Annotated[EmailStr, AfterValidator(str.lower)]
RuleName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
TaxCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]

FILTER_EXAMPLE: Any = {"countries": ["NZ"], "email_domains": ["example.org"]}


class TaxExceptionFilters(BaseModel):
    """A transaction matches when it matches every filter that is set (any value within one filter).

    Stored as ``tax_exception_rules.filters`` exactly as dumped here (``mode="json"``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [FILTER_EXAMPLE]})

    emails: list[Email] = Field(default_factory=list, max_length=MAX_VALUES)
    email_domains: list[Domain] = Field(default_factory=list, max_length=MAX_VALUES)
    countries: list[Country] = Field(default_factory=list, max_length=250, description="ISO 3166-1 alpha-2")
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_VALUES)
    gateway_ids: list[OntraportId] = Field(
        default_factory=list, max_length=MAX_VALUES, description="ONTRAPORT gateway ids (integers)"
    )
    product_ids: list[OntraportId] = Field(
        default_factory=list, max_length=MAX_VALUES, description="ONTRAPORT product ids (integers)"
    )

    @model_validator(mode="after")
    def _at_least_one(self) -> TaxExceptionFilters:
        if not any(self.model_dump().values()):
            raise ValueError(
                "set at least one filter (emails, email_domains, countries, tags, gateway_ids, product_ids)"
            )
        return self


class TaxExceptionRuleData(BaseModel):
    """What a rule is, as the API accepts it and the mapper reads it."""

    model_config = ConfigDict(extra="forbid")

    name: RuleName
    filters: TaxExceptionFilters
    tax_type: TaxCode
    priority: int = Field(
        default=100, ge=0, le=1_000_000, description="Lower runs first; the first match wins"
    )
    enabled: bool = True


def read_stored_filters(filters: Any) -> dict[str, Any]:
    """A stored rule's filters, validated with the model the API writes with, as plain JSON values;
    raises ``pydantic.ValidationError`` for a rule stored before the model was shared."""
    return TaxExceptionFilters.model_validate(filters).model_dump(mode="json")
