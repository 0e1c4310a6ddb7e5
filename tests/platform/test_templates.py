"""The template grammar shared by the settings API and the mapper (finding 1 of issue 10)."""

from __future__ import annotations

import pytest

from ledgerbridge.bookkeeping.sales.rules import render as mapper_render
from ledgerbridge.bookkeeping.templates import (
    MAX_RENDERED_LENGTH,
    Placeholder,
    TemplateError,
    parse,
    render,
    validate,
)


def test_parse_splits_literals_and_placeholders() -> None:
    assert parse("{{OP}}-{transaction_id}") == ("{OP}-", Placeholder("transaction_id"))


@pytest.mark.parametrize(
    "template",
    ["{transaction_id:x>5000000}", "{transaction_id!s}", "{transaction_id.real}", "{a}", "{", "}", "{}"],
)
def test_anything_but_a_documented_placeholder_is_refused(template: str) -> None:
    with pytest.raises(TemplateError):
        validate(template)


def test_rendering_is_capped_at_xeros_limit() -> None:
    values = {"last_name": "L" * 10_000, "invoice_id": "7"}
    assert len(render("{last_name}-{invoice_id}" * 3, values)) == MAX_RENDERED_LENGTH
    # The mapper renders with the same grammar: no spec is ever executed, whatever is stored.
    assert len(mapper_render("{last_name}", values)) == MAX_RENDERED_LENGTH
    with pytest.raises(TemplateError):
        mapper_render("{transaction_id:x>5000000}", {"transaction_id": "1"})
