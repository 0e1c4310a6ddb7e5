"""Contacts: sent once per ContactNumber, reused when already ours, renamed when a stranger holds the name,
updated when their details change at the source.

Many records of one customer carry the same contact, so a batch sends each ContactNumber once and every
document with that number shares the outcome. Xero refuses a second active contact with the same name:
the organisation's names are kept (``contact_names``), so a newcomer whose name is taken gets its
distinguishing name before it is sent. A refusal the kept names could not foresee is either our own
contact (same ContactNumber, e.g. from a lost answer) or a name taken in Xero since: one look-up tells.
A contact already ours whose details (name, email, phones, address) differ from those last sent
is updated, all such contacts of a batch in one call. Its documents keep the body as sent, with the name
as told apart, so the next sale of an unchanged person compares equal and one with new details keeps
(or is given) a name Xero takes, instead of an update Xero refuses for the name first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import select, update

from ledgerbridge.bookkeeping.sales import contact_name_for_clash
from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.messaging.errors import PermanentError
from ledgerbridge.common.models import Document, DocumentKind, DocumentStatus
from ledgerbridge.publisher.claimed import Claimed, Decided, Outcome
from ledgerbridge.publisher.kinds import contact_names
from ledgerbridge.publisher.kinds.base import Destination, KindSpec, batch_key, quoted_any
from ledgerbridge.publisher.kinds.contact_names import name_key


class ContactSpec(KindSpec):
    kind: ClassVar[DocumentKind] = DocumentKind.contact

    async def send(self, destination: Destination, batch: Sequence[Claimed]) -> Decided:
        by_number: dict[str, list[Claimed]] = {}
        for document in batch:
            by_number.setdefault(_contact_number(document), []).append(document)
        known = await _known_contacts(destination, list(by_number))
        links = {number: xero_id for number, (xero_id, _) in known.items()}
        # Each contact as Xero has it once this batch is through: what is stored as its documents' body.
        held = {number: as_sent(by_number[number][0].body, sent) for number, (_, sent) in known.items()}
        renamed = [
            number for number, (_, sent) in known.items() if held[number].get("Name") != sent.get("Name")
        ]
        if renamed:
            # Renamed at the source: the new name is told apart as a new contact's is, before it is sent.
            await contact_names.current(destination)
            held.update(zip(renamed, await _named(destination, [held[n] for n in renamed]), strict=True))
        errors: dict[str, str] = {}
        refused: list[str] = []
        changed = [number for number, (_, sent) in known.items() if _details(held[number]) != _details(sent)]
        if changed:
            # Refused updates take their contact's documents down with them (sent again later); a
            # creation refused and then resolved by a new name below is not one of them.
            refused = await _update_details(
                destination, {n: (links[n], known[n][1]) for n in changed}, held, errors
            )
            for number in refused:
                del links[number]
        # A contact whose update Xero refused exists already: it is never created a second time.
        missing = [number for number in by_number if number not in links and number not in refused]
        if missing:
            await contact_names.current(destination)
            # Already in Xero with our number (an earlier answer lost): linked, not sent again.
            links.update(await contact_names.ours(destination, missing))
            missing = [number for number in missing if number not in links]
        if missing:
            bodies = await _named(destination, [by_number[number][0].body for number in missing])
            held.update(zip(missing, bodies, strict=True))
            results = await destination.client.put_contacts(bodies, idempotency_key=batch_key(batch))
            await contact_names.learn(
                destination,
                ({**body, "ContactID": result.xero_id} for body, result in zip(bodies, results, strict=True)),
            )
            clashes: list[dict[str, Any]] = []
            for number, body, result in zip(missing, bodies, results, strict=True):
                if result.ok and result.xero_id:
                    links[number] = result.xero_id
                else:
                    errors[number] = "; ".join(result.errors)
                    clashes.append(body)
            if clashes:
                await _resolve_clashes(destination, clashes, links, errors, held)
        await _store_as_sent(destination, by_number, {n: body for n, body in held.items() if n in links})
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


def _name_forms(body: dict[str, Any]) -> tuple[str, ...]:
    """The names a contact may take, in order: its own, ``Name (email)`` (SPEC §4 item 2), and
    ``Name (ContactNumber)``, unique because the number is, for two people of one name and one e-mail."""
    name = str(body.get("Name", ""))
    email = body.get("EmailAddress")
    by_number = contact_name_for_clash(name, str(body.get("ContactNumber")))
    return (name, contact_name_for_clash(name, str(email)), by_number) if email else (name, by_number)


def told_apart(bodies: Sequence[dict[str, Any]], taken: dict[str, set[str | None]]) -> list[dict[str, Any]]:
    """Each body with the first of its name forms no other contact holds: not in Xero (``taken``: name
    key to the ContactNumbers holding it) and not earlier in the same batch."""
    held = {key: set(numbers) for key, numbers in taken.items()}
    told: list[dict[str, Any]] = []
    for body in bodies:
        number = str(body.get("ContactNumber"))
        forms = _name_forms(body)
        free = next((f for f in forms if held.get(name_key(f), set()) <= {number}), forms[-1])
        held.setdefault(name_key(free), set()).add(number)
        told.append(body if free == body.get("Name") else {**body, "Name": free})
    return told


def as_sent(body: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """``body`` as it goes to Xero for our contact last sent as ``sent``: a name told apart then (e.g.
    ``Name (email)``) stays told apart while it is still one of the body's name forms, so an unchanged
    person is not "renamed" back into the clash Xero would refuse."""
    name = sent.get("Name")
    if name == body.get("Name") or name not in _name_forms(body):
        return body
    return {**body, "Name": name}


async def _store_as_sent(
    destination: Destination, by_number: dict[str, list[Claimed]], held: dict[str, dict[str, Any]]
) -> None:
    """The documents' body becomes their contact as Xero has it (its name as told apart), which the next
    batch compares its contacts with; documents already holding that body are not written."""
    rows = [
        {"id": document.id, "request_body": body}
        for number, body in held.items()
        for document in by_number[number]
        if document.body != body
    ]
    if rows:
        async with unit_of_work(destination.sessions) as session:
            await session.execute(update(Document), rows)  # one executemany, by primary key


async def _named(destination: Destination, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bodies with the names they can have in Xero, as far as the organisation's names are known."""
    taken = await contact_names.holders(destination, (form for body in bodies for form in _name_forms(body)))
    return told_apart(bodies, taken)


async def _known_contacts(
    destination: Destination, numbers: list[str]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Contacts this organisation already has from us, by ContactNumber, with the body last sent: no
    call needed for those whose details are unchanged (a rollback leaves its contacts in Xero, so theirs
    count too)."""
    async with destination.sessions() as session:
        rows = await session.execute(
            select(Document.xero_number, Document.xero_id, Document.request_body)
            .where(
                Document.xero_connection_id == destination.connection_id,
                Document.kind == DocumentKind.contact,
                Document.status.in_((DocumentStatus.published, DocumentStatus.rolled_back)),
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
    destination: Destination,
    changed: dict[str, tuple[str, dict[str, Any]]],
    held: dict[str, dict[str, Any]],
    errors: dict[str, str],
) -> list[str]:
    """One POST for every changed contact of the batch (``changed``: its ContactID and the body last
    sent; ``held``: the body to send). Xero refuses a name another contact holds, so a refused update is
    sent again keeping the name Xero has (the rest of the details still go; ``held`` says so). Returns
    the numbers whose update Xero refused even so (``errors`` says why)."""
    numbers = sorted(changed)
    bodies = [{"ContactID": changed[n][0], **held[n]} for n in numbers]
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
        if result.ok:
            held[number] = {**held[number], "Name": changed[number][1].get("Name")}
        else:
            errors[number] = "; ".join(result.errors)
            failed.append(number)
    return failed


async def _resolve_clashes(
    destination: Destination,
    bodies: list[dict[str, Any]],
    links: dict[str, str],
    errors: dict[str, str],
    held: dict[str, dict[str, Any]],
) -> None:
    """Refused contacts the kept names could not foresee: ours already (same ContactNumber), or a name
    someone took in Xero since. One look-up finds both, and the names learnt rename the rest (``held``
    gets the names they went with)."""
    numbers = [str(body["ContactNumber"]) for body in bodies]
    where = " OR ".join(
        (quoted_any("ContactNumber", numbers), quoted_any("Name", [b["Name"] for b in bodies]))
    )
    found = await destination.client.get_contacts(where=where, include_archived=True)
    await contact_names.learn(destination, found)
    for contact in found:
        if contact.get("ContactNumber") in numbers and contact.get("ContactID"):
            number = str(contact["ContactNumber"])
            links[number] = str(contact["ContactID"])
            held[number] = {**held[number], "Name": contact.get("Name")}
    refused = [
        body
        for body in bodies
        if body["ContactNumber"] not in links and "name" in errors.get(str(body["ContactNumber"]), "").lower()
    ]
    if not refused:
        return
    renamed = await _named(destination, refused)
    key = "lb:clash:" + hashlib.sha256("\n".join(b["ContactNumber"] for b in renamed).encode()).hexdigest()
    results = await destination.client.put_contacts(renamed, idempotency_key=key)
    await contact_names.learn(
        destination,
        ({**body, "ContactID": result.xero_id} for body, result in zip(renamed, results, strict=True)),
    )
    for body, result in zip(renamed, results, strict=True):
        if result.ok and result.xero_id:
            links[str(body["ContactNumber"])] = result.xero_id
            held[str(body["ContactNumber"])] = body
        else:
            errors[str(body["ContactNumber"])] = "; ".join(result.errors)
