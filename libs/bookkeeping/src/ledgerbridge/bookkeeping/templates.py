"""Invoice number and reference templates: one grammar for the API that validates them and the mapper that
renders them. Pure (standard library and pydantic only), no I/O.

A template is literal text with placeholders ``{name}`` taken from :data:`TEMPLATE_FIELDS`; ``{{`` and
``}}`` are literal braces. Nothing else is allowed inside braces: no format spec (``{id:x>5000000}``), no
conversion (``{id!r}``), no attribute or index. A template is at most :data:`MAX_TEMPLATE_LENGTH`
characters and its rendered text is cut to :data:`MAX_RENDERED_LENGTH`, Xero's limit for
``InvoiceNumber`` and ``Reference``, so no value a tenant stores can make a document grow.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field

TEMPLATE_FIELDS = frozenset(
    {
        "transaction_id",
        "invoice_id",
        "order_id",
        "external_order_id",
        "contact_id",
        "first_name",
        "last_name",
        "gateway_id",
    }
)
"""The documented placeholders; the mapper fills each from the transaction (blank when unknown)."""

MAX_TEMPLATE_LENGTH = 255
MAX_RENDERED_LENGTH = 255
"""Xero's maximum length of ``InvoiceNumber`` and ``Reference``."""


class TemplateError(ValueError):
    """The template does not follow the grammar; the message says what to change."""


@dataclass(frozen=True)
class Placeholder:
    name: str


Part = str | Placeholder


ONPORT_LINK_FIELDS = frozenset({"invoice_id", "purchase_id", "reference"})
"""Placeholders of the link from a bill back to its Onport purchase invoice."""


def _allowed(fields: frozenset[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in sorted(fields))


def parse(template: str, fields: frozenset[str] = TEMPLATE_FIELDS) -> tuple[Part, ...]:
    """The template's literal runs and placeholders (from ``fields``), in order; raises
    :class:`TemplateError`. Kept per template: the mapper renders a tenant's few templates for every
    document, and the parts are immutable."""
    return _parse(template, fields)


@functools.lru_cache(maxsize=1024)
def _parse(template: str, fields: frozenset[str]) -> tuple[Part, ...]:
    parts: list[Part] = []
    literal: list[str] = []
    index = 0
    while index < len(template):
        char = template[index]
        if char in "{}" and template.startswith(char * 2, index):
            literal.append(char)
            index += 2
            continue
        if char == "}":
            raise TemplateError("a '}' without its '{'; write '}}' for a literal brace")
        if char != "{":
            literal.append(char)
            index += 1
            continue
        end = template.find("}", index + 1)
        if end == -1:
            raise TemplateError("a '{' without its '}'; write '{{' for a literal brace")
        name = template[index + 1 : end]
        if name not in fields:
            if any(mark in name for mark in ":!.[{"):
                raise TemplateError(
                    "placeholders take no format spec, conversion, attribute or index; "
                    f"use one of {_allowed(fields)}"
                )
            raise TemplateError(f"unknown placeholder {{{name}}}; use any of {_allowed(fields)}")
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(Placeholder(name))
        index = end + 1
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


def validate(template: str) -> str:
    """The template unchanged when it follows the grammar; raises :class:`TemplateError` otherwise."""
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(f"a template has at most {MAX_TEMPLATE_LENGTH} characters")
    if not template.strip():
        raise TemplateError("a template cannot be empty")
    parse(template)
    return template


def render(
    template: str,
    values: dict[str, str],
    max_length: int = MAX_RENDERED_LENGTH,
    fields: frozenset[str] = TEMPLATE_FIELDS,
) -> str:
    """The template with its placeholders filled, stripped, and cut to ``max_length`` characters."""
    parts = parse(template, fields)
    text = "".join(part if isinstance(part, str) else values.get(part.name, "") for part in parts)
    return text.strip()[:max_length].strip()


def validate_onport_link(template: str) -> str:
    """An https address with placeholders from :data:`ONPORT_LINK_FIELDS`, or ``""`` for no link;
    raises :class:`TemplateError`."""
    if template == "":
        return template
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(f"a link template has at most {MAX_TEMPLATE_LENGTH} characters")
    if not template.startswith("https://") or len(template) <= len("https://"):
        raise TemplateError(
            "a link template is an https:// address, e.g. https://example.com/invoices/{invoice_id}"
        )
    parse(template, ONPORT_LINK_FIELDS)
    return template


Template = Annotated[str, Field(max_length=MAX_TEMPLATE_LENGTH), AfterValidator(validate)]
"""A setting holding a template: validated with the grammar the mapper renders with."""

OnportLinkTemplate = Annotated[
    str, Field(max_length=MAX_TEMPLATE_LENGTH), AfterValidator(validate_onport_link)
]
"""A setting holding the link back to Onport: an https address over :data:`ONPORT_LINK_FIELDS`."""
