"""Contacts: sent once per ContactNumber, reused when already ours, renamed when a stranger holds the name,
updated when their details change at the source.

Many records of one customer carry the same contact, so a batch sends each ContactNumber once and every
document with that number shares the outcome. Xero refuses a second contact with the same name; the
refusal is either our own contact (same ContactNumber, e.g. from a lost answer) or a different person
of the same name, who gets a distinguishing name. A contact already ours whose details (name, email,
phones, address) differ from those last sent is updated, all such contacts of a batch in one call.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import select

from ledgerbridge.common.messaging.errors import PermanentError
from ledgerbridge.common.models import Document, DocumentKind, DocumentStatus
from ledgerbridge.publisher.claimed import Claimed, Decided, Outcome
from ledgerbridge.publisher.kinds.base import Destination, KindSpec, batch_key, quoted_any


class ContactSpec(KindSpec):
    kind: ClassVar[DocumentKind] = DocumentKind.contact

    async def send(self, destination: Destination, batch: Sequence[Claimed]) -> Decided:
        by_number: dict[str, list[Claimed]] = {}
        for document in batch:
            by_number.setdefault(_contact_number(document), []).append(document)
        known = await _known_contacts(destination, list(by_number))
        links = {number: xero_id for number, (xero_id, _) in known.items()}
        errors: dict[str, str] = {}
        changed = [
            number
            for number, (_, sent) in known.items()
            if _details(by_number[number][0].body) != _details(sent)
        ]
        if changed:
            # Refused updates take their contact's documents down with them (sent again later); a
            # creation refused and then resolved by a new name below is not one of them.
            for number in await _update_details(
                destination, {n: (links[n], by_number[n][0].body) for n in changed}, errors
            ):
                del links[number]
        missing = [number for number in by_number if number not in links]
        if missing:
            bodies = _told_apart([by_number[number][0].body for number in missing])
            results = await destination.client.put_contacts(bodies, idempotency_key=batch_key(batch))
            clashes: list[dict[str, Any]] = []
            for number, body, result in zip(missing, bodies, results, strict=True):
                if result.ok and result.xero_id:
                    links[number] = result.xero_id
                else:
                    errors[number] = "; ".join(result.errors)
                    clashes.append(body)
            if clashes:
                await _resolve_clashes(destination, clashes, links, errors)
        decided: Decided = {}
        for number, documents in by_number.items():
            outcome = (
                Outcome(True, links[number], number)
                if number in links
                else Outcome(
                    False, error=f"Xero refused contact {number}: {errors.get(number, 'unknown error')}"
                )
            )
            decided.update({d.id: outcome for d in documents})
        return decided

    async def find(self, destination: Destination, group: Sequence[Claimed]) -> Decided:
        numbers = [_contact_number(d) for d in group]
        contacts = await destination.client.get_contacts(
            where=quoted_any("ContactNumber", numbers), include_archived=True
        )
        ids = {str(c.get("ContactNumber")): str(c["ContactID"]) for c in contacts if c.get("ContactID")}
        return {d.id: Outcome(True, ids[n], n) for d, n in zip(group, numbers, strict=True) if n in ids}


def _contact_number(document: Claimed) -> str:
    number = document.body.get("ContactNumber")
    if not number:
        raise PermanentError("contact document without a ContactNumber")
    return str(number)


def _clash_name(body: dict[str, Any]) -> str:
    email = body.get("EmailAddress")
    name = str(body.get("Name", ""))
    return f"{name} ({email})" if email else f"{name} ({body.get('ContactNumber')})"


def _told_apart(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Two different people of one name in a batch: Xero would refuse the second (names are unique), so
    it gets its distinguishing name before the batch is sent (SPEC §4 item 2)."""
    seen: set[str] = set()
    told: list[dict[str, Any]] = []
    for body in bodies:
        name = str(body.get("Name", "")).casefold()
        told.append({**body, "Name": _clash_name(body)} if name in seen else body)
        seen.add(name)
    return told


async def _known_contacts(
    destination: Destination, numbers: list[str]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Contacts this organisation already has from us, by ContactNumber, with the body last sent: no
    call needed for those whose details are unchanged."""
    async with destination.sessions() as session:
        rows = await session.execute(
            select(Document.xero_number, Document.xero_id, Document.request_body)
            .where(
                Document.xero_connection_id == destination.connection_id,
                Document.kind == DocumentKind.contact,
                Document.status == DocumentStatus.published,
                Document.xero_number.in_(numbers),
            )
            .distinct(Document.xero_number)
            .order_by(Document.xero_number, Document.published_at.desc(), Document.created_at.desc())
        )
        return {number: (xero_id, body) for number, xero_id, body in rows.all() if number and xero_id}


# What the source says about the person; the rest of a contact (its groups, balances) is Xero's own.
_DETAILS = ("Name", "FirstName", "LastName", "EmailAddress", "Phones", "Addresses")


def _details(body: dict[str, Any]) -> dict[str, Any]:
    return {key: body.get(key) for key in _DETAILS}


async def _update_details(
    destination: Destination, changed: dict[str, tuple[str, dict[str, Any]]], errors: dict[str, str]
) -> list[str]:
    """One POST for every changed contact of the batch. Xero refuses a name another contact holds, so a
    refused update is sent again keeping the name Xero has (the rest of the details still go). Returns
    the numbers whose update Xero refused even so (``errors`` says why)."""
    numbers = sorted(changed)
    bodies = [{"ContactID": changed[n][0], **changed[n][1]} for n in numbers]
    digest = hashlib.sha256(json.dumps(bodies, sort_keys=True, default=str).encode()).hexdigest()
    results = await destination.client.post_contacts(bodies, idempotency_key=f"lb:contact-update:{digest}")
    refused = [(n, b) for n, b, r in zip(numbers, bodies, results, strict=True) if not r.ok]
    if not refused:
        return []
    unnamed = [{k: v for k, v in body.items() if k != "Name"} for _, body in refused]
    again = await destination.client.post_contacts(
        unnamed, idempotency_key=f"lb:contact-update:{digest}:unnamed"
    )
    failed = []
    for (number, _), result in zip(refused, again, strict=True):
        if not result.ok:
            errors[number] = "; ".join(result.errors)
            failed.append(number)
    return failed


async def _resolve_clashes(
    destination: Destination, bodies: list[dict[str, Any]], links: dict[str, str], errors: dict[str, str]
) -> None:
    """Refused contacts: ours already (same ContactNumber), or a different person with the same name."""
    numbers = [str(body["ContactNumber"]) for body in bodies]
    for found in await destination.client.get_contacts(
        where=quoted_any("ContactNumber", numbers), include_archived=True
    ):
        if found.get("ContactNumber") in numbers and found.get("ContactID"):
            links[str(found["ContactNumber"])] = str(found["ContactID"])
    renamed = [
        {**body, "Name": _clash_name(body)}
        for body in bodies
        if body["ContactNumber"] not in links and "name" in errors.get(str(body["ContactNumber"]), "").lower()
    ]
    if not renamed:
        return
    key = "lb:clash:" + hashlib.sha256("\n".join(b["ContactNumber"] for b in renamed).encode()).hexdigest()
    for body, result in zip(
        renamed, await destination.client.put_contacts(renamed, idempotency_key=key), strict=True
    ):
        if result.ok and result.xero_id:
            links[str(body["ContactNumber"])] = result.xero_id
        else:
            errors[str(body["ContactNumber"])] = "; ".join(result.errors)
