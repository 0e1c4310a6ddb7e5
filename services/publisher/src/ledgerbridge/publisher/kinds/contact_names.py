"""The names an organisation's active Xero contacts hold, kept so a clashing newcomer is renamed before
it is sent instead of being refused by Xero, looked up and sent again (SPEC §4 item 2).

Read once per organisation (``GET Contacts`` paged at 1,000, ``summaryOnly``), then kept current from our
own creates, from what a clash recovery finds and from Xero's contact webhooks (a changed contact is
read again, many at once, before the next contacts are sent). It only predicts: a clash it could not
know (a contact made in Xero since) still gets the publisher's recovery.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.common.database import unit_of_work
from ledgerbridge.common.models import Connection, ConnectionKind, XeroContactDirectory, XeroContactName
from ledgerbridge.publisher.kinds.base import Destination

PAGE_SIZE = 1000  # the most Xero serves per page of contacts
REREAD_PER_CALL = 100  # changed contacts read again per GET Contacts?IDs=


def name_key(name: object) -> str:
    """A name as Xero compares names for uniqueness: without surrounding spaces and case."""
    return str(name or "").strip().lower()


def _row(destination: Destination, contact: Mapping[str, Any]) -> dict[str, Any] | None:
    contact_id = str(contact.get("ContactID") or "").lower()
    if not contact_id:
        return None
    number = contact.get("ContactNumber")
    return {
        "connection_id": destination.connection_id,
        "contact_id": contact_id,
        "name_key": name_key(contact.get("Name")) or None,
        "contact_number": str(number) if number else None,
    }


async def _upsert(destination: Destination, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):  # a bind-parameter limit, not a policy
        async with unit_of_work(destination.sessions) as session:
            statement = insert(XeroContactName).values(rows[start : start + 5000])
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["connection_id", "contact_id"],
                    set_={
                        "name_key": statement.excluded.name_key,
                        "contact_number": statement.excluded.contact_number,
                    },
                )
            )


async def learn(destination: Destination, contacts: Iterable[Mapping[str, Any]]) -> None:
    """Note contacts as Xero now holds them: an active one's name is taken, an archived one's is free."""
    active: list[dict[str, Any]] = []
    archived: list[str] = []
    for contact in contacts:
        row = _row(destination, contact)
        if row is None:
            continue
        if contact.get("ContactStatus") == "ARCHIVED":
            archived.append(row["contact_id"])
        else:
            active.append(row)
    if active:
        await _upsert(destination, active)
    if archived:
        await _forget(destination, archived)


async def _forget(destination: Destination, contact_ids: Sequence[str]) -> None:
    async with unit_of_work(destination.sessions) as session:
        await session.execute(
            delete(XeroContactName).where(
                XeroContactName.connection_id == destination.connection_id,
                XeroContactName.contact_id.in_(contact_ids),
            )
        )


async def _read_all(destination: Destination) -> None:
    """Every active contact's name, a page of 1,000 per call (one call for most organisations)."""
    page = 1
    while True:
        contacts = await destination.client.get_contacts(page=page, page_size=PAGE_SIZE, summary_only=True)
        await learn(destination, contacts)
        if len(contacts) < PAGE_SIZE:
            break
        page += 1
    async with unit_of_work(destination.sessions) as session:
        await session.execute(
            insert(XeroContactDirectory)
            .values(connection_id=destination.connection_id, read_at=datetime.now(UTC))
            .on_conflict_do_nothing()
        )


async def _reread_changed(destination: Destination) -> None:
    """Contacts Xero's webhooks said changed: read again, many per call; those gone are forgotten."""
    async with destination.sessions() as session:
        changed = list(
            (
                await session.scalars(
                    select(XeroContactName.contact_id).where(
                        XeroContactName.connection_id == destination.connection_id,
                        XeroContactName.name_key.is_(None),
                    )
                )
            ).all()
        )
    for start in range(0, len(changed), REREAD_PER_CALL):
        wanted = changed[start : start + REREAD_PER_CALL]
        found = await destination.client.get_contacts(ids=wanted, summary_only=True)
        await learn(destination, found)
        seen = {str(contact.get("ContactID") or "").lower() for contact in found}
        gone = [contact_id for contact_id in wanted if contact_id not in seen]
        if gone:
            await _forget(destination, gone)


async def current(destination: Destination) -> None:
    """Make the kept names current: the first read, or a re-read of what changed since."""
    async with destination.sessions() as session:
        read = await session.get(XeroContactDirectory, destination.connection_id)
    if read is None:
        await _read_all(destination)
    else:
        await _reread_changed(destination)


async def ours(destination: Destination, numbers: Iterable[str]) -> dict[str, str]:
    """The active Xero contacts already carrying these ContactNumbers (ours: the numbers are unique)."""
    wanted = set(numbers)
    if not wanted:
        return {}
    async with destination.sessions() as session:
        rows = await session.execute(
            select(XeroContactName.contact_number, XeroContactName.contact_id).where(
                XeroContactName.connection_id == destination.connection_id,
                XeroContactName.contact_number.in_(wanted),
            )
        )
    return {number: contact_id for number, contact_id in rows.all() if number}


async def holders(destination: Destination, names: Iterable[str]) -> dict[str, set[str | None]]:
    """For each of ``names`` taken in Xero: the ContactNumbers of the active contacts holding it."""
    keys = {name_key(name) for name in names} - {""}
    if not keys:
        return {}
    async with destination.sessions() as session:
        rows = await session.execute(
            select(XeroContactName.name_key, XeroContactName.contact_number).where(
                XeroContactName.connection_id == destination.connection_id,
                XeroContactName.name_key.in_(keys),
            )
        )
    taken: dict[str, set[str | None]] = {}
    for key, number in rows.all():
        if key is not None:
            taken.setdefault(key, set()).add(number)
    return taken


async def changed_in_xero(session: AsyncSession, tenant_id: str, contact_id: str, created: bool) -> int:
    """A contact webhook: the contact's name is read again before the next contacts are sent.

    A creation we already know of is our own create (noted when Xero answered it); anything else may
    have taken, changed or freed a name. Returns how many of our connections to that organisation care.
    """
    connection_ids = list(
        (
            await session.scalars(
                select(Connection.id)
                .join(XeroContactDirectory, XeroContactDirectory.connection_id == Connection.id)
                .where(Connection.kind == ConnectionKind.xero, Connection.xero_tenant_id == tenant_id)
            )
        ).all()
    )
    if not connection_ids:
        return 0
    statement = insert(XeroContactName).values(
        [
            {"connection_id": connection_id, "contact_id": contact_id.lower(), "name_key": None}
            for connection_id in connection_ids
        ]
    )
    await session.execute(
        statement.on_conflict_do_nothing()
        if created
        else statement.on_conflict_do_update(
            index_elements=["connection_id", "contact_id"], set_={"name_key": None}
        )
    )
    return len(connection_ids)
