"""Invoice number and reference templates: one grammar for the API that validates them and the mapper that
renders them. Pure (standard library and pydantic only), no I/O.

A template is literal text with placeholders ``{name}`` taken from :data:`TEMPLATE_FIELDS`; ``{{`` and
``}}`` are literal braces. Nothing else is allowed inside braces: no format spec (``{id:x>5000000}``), no
conversion (``{id!r}``), no attribute or index. A template is at most :data:`MAX_TEMPLATE_LENGTH`
characters and its rendered text is cut to :data:`MAX_RENDERED_LENGTH`, Xero's limit for
``InvoiceNumber`` and ``Reference``, so no value a tenant stores can make a document grow.
"""

from __future__ import annotations

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


def _allowed() -> str:
    return ", ".join(f"{{{name}}}" for name in sorted(TEMPLATE_FIELDS))


def parse(template: str) -> tuple[Part, ...]:
    """The template's literal runs and placeholders, in order; raises :class:`TemplateError`."""
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
        if name not in TEMPLATE_FIELDS:
            if any(mark in name for mark in ":!.[{"):
                raise TemplateError(
                    f"placeholders take no format spec, conversion, attribute or index; use one of {_allowed()}"
                )
            raise TemplateError(f"unknown placeholder {{{name}}}; use any of {_allowed()}")
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


def render(template: str, values: dict[str, str], max_length: int = MAX_RENDERED_LENGTH) -> str:
    """The template with its placeholders filled, stripped, and cut to ``max_length`` characters."""
    text = "".join(part if isinstance(part, str) else values.get(part.name, "") for part in parse(template))
    return text.strip()[:max_length].strip()


Template = Annotated[str, Field(max_length=MAX_TEMPLATE_LENGTH), AfterValidator(validate)]
"""A setting holding a template: validated with the grammar the mapper renders with."""
