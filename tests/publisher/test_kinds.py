"""The registry of document kinds: complete, and in an order that lets one pass drain a record."""

from __future__ import annotations

from ledgerbridge.common.models import DocumentKind
from ledgerbridge.publisher.kinds import SEND_ORDER, SPECS


def test_every_document_kind_has_exactly_one_spec() -> None:
    assert sorted(SPECS) == sorted(DocumentKind)
    assert len(SEND_ORDER) == len(DocumentKind)
    assert all(SPECS[spec.kind] is spec for spec in SEND_ORDER)


def test_a_kind_waits_only_for_kinds_sent_before_it() -> None:
    position = {spec.kind: index for index, spec in enumerate(SEND_ORDER)}
    for spec in SEND_ORDER:
        for waited in (*spec.needs_published, *spec.after, *(link.source for link in spec.links)):
            assert position[waited] < position[spec.kind], (spec.kind, waited)


def test_ids_are_patched_only_from_kinds_a_document_waits_for() -> None:
    # A Xero id can only be patched in once its document is published, which the waits make sure of.
    for spec in SEND_ORDER:
        for link in spec.links:
            assert link.source in (*spec.needs_published, *spec.after), (spec.kind, link.source)
