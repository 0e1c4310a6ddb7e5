"""Typed mapping targets, one shape per kind, and the mapping request/response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from ledgerbridge.common.models import MappingKind

# Xero account codes are at most 10 characters; tax types are codes like OUTPUT or TAX001.
AccountCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)]
TaxType = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
CurrencyCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")
]
SourceId = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class _Target(BaseModel):
    model_config = ConfigDict(extra="forbid")


TrackingName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class TrackingChoice(_Target):
    """One Xero tracking category and its option, by name (``GET /v1/xero/{id}/tracking-categories``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Region", "option": "North"}]})

    name: TrackingName = Field(description="An active tracking category of the organisation")
    option: TrackingName = Field(description="An active option of that category")


def _one_per_category(choices: list[TrackingChoice]) -> list[TrackingChoice]:
    names = [choice.name.casefold() for choice in choices]
    if len(set(names)) != len(names):
        raise ValueError("choose each tracking category once")
    return choices


Tracking = Annotated[
    list[TrackingChoice],
    Field(max_length=2, description="Up to two tracking categories (Xero's limit per line)"),
    AfterValidator(_one_per_category),
]


class ProductTarget(_Target):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"account_code": "200", "item_code": "PRO-COURSE"}]}
    )

    account_code: AccountCode
    item_code: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)] | None
    ) = None
    tracking: Tracking = Field(
        default_factory=list, description="The product's lines carry these (over its gateway's, per category)"
    )


class CouponTarget(_Target):
    model_config = ConfigDict(json_schema_extra={"examples": [{"account_code": "260"}]})

    account_code: AccountCode


class TaxTarget(_Target):
    model_config = ConfigDict(json_schema_extra={"examples": [{"tax_type": "OUTPUT"}]})

    tax_type: TaxType


class ShippingTarget(_Target):
    model_config = ConfigDict(json_schema_extra={"examples": [{"account_code": "210"}]})

    account_code: AccountCode


class GatewayTarget(_Target):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "currency_code": "AUD",
                    "branding_theme_id": "dfe23d27-a3a6-4ef3-a5ca-b9e02b142dde",
                    "payment_account_code": "610",
                }
            ]
        }
    )

    currency_code: CurrencyCode
    branding_theme_id: uuid.UUID
    payment_account_code: AccountCode = Field(description="The clearing or bank account payments go to")
    tracking: Tracking = Field(
        default_factory=list, description="Every line of the gateway's sales carries these"
    )


class VendorTarget(_Target):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"contact_id": "4a1c9f2e-0d3b-4b8e-9b5a-6f0e2d7c8a91"}]}
    )

    contact_id: uuid.UUID = Field(description="The Xero supplier contact the vendor's bills go to")


class PurchaseTypeTarget(_Target):
    model_config = ConfigDict(json_schema_extra={"examples": [{"account_code": "310"}]})

    account_code: AccountCode


TARGET_MODELS: dict[MappingKind, type[_Target]] = {
    MappingKind.product: ProductTarget,
    MappingKind.coupon: CouponTarget,
    MappingKind.tax: TaxTarget,
    MappingKind.shipping: ShippingTarget,
    MappingKind.gateway: GatewayTarget,
    MappingKind.vendor: VendorTarget,
    MappingKind.purchase_type: PurchaseTypeTarget,
}


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its ``$defs`` put in place: it is embedded in other schemas, where a
    local ``#/$defs/...`` reference would point nowhere."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


TARGET_SCHEMA: dict[str, Any] = {
    "description": "The target's shape depends on the kind: "
    + "; ".join(f"{kind}: {model.__name__}" for kind, model in TARGET_MODELS.items()),
    "oneOf": [
        {"title": model.__name__, **_inlined(model.model_json_schema())} for model in TARGET_MODELS.values()
    ],
}


class MappingIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"kind": "product", "source_id": "17", "target": {"account_code": "200"}}]
        },
    )

    kind: MappingKind
    source_id: SourceId
    target: dict[str, Any] = Field(json_schema_extra=TARGET_SCHEMA)


class MappingOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "kind": "tax",
                    "source_id": "3",
                    "target": {"tax_type": "OUTPUT"},
                    "updated_at": "2026-01-05T10:00:00Z",
                }
            ]
        },
    )

    kind: MappingKind
    source_id: str
    target: dict[str, Any]
    updated_at: datetime


class MappingList(BaseModel):
    items: list[MappingOut]


class MappingSaved(MappingOut):
    warnings: list[str] = Field(
        default_factory=list, description="Checks that could not be made yet (no Xero reference data cached)"
    )


class MappingsSaved(BaseModel):
    items: list[MappingOut]
    warnings: list[str] = Field(default_factory=list)
