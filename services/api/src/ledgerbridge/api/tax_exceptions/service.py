"""Creating, replacing and removing tax exception rules."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ledgerbridge.api.mappings.service import Reference, ReferenceData, ReferenceKind, check_references
from ledgerbridge.api.problems import ProblemError
from ledgerbridge.api.tax_exceptions import repository
from ledgerbridge.api.tax_exceptions.schemas import TaxExceptionIn, TaxExceptionOut, TaxExceptionSaved
from ledgerbridge.common.models import TaxExceptionRule
from ledgerbridge.common.records.healing import Change, heal


def _not_found(rule_id: uuid.UUID) -> ProblemError:
    return ProblemError(404, "Not found", f"No tax exception {rule_id}")


async def _saved(session: AsyncSession, rule: TaxExceptionRule, warnings: list[str]) -> TaxExceptionSaved:
    await session.flush()
    await session.refresh(rule)  # server-side timestamps
    return TaxExceptionSaved(**TaxExceptionOut.model_validate(rule).model_dump(), warnings=warnings)


async def _check(reference: ReferenceData, data: TaxExceptionIn) -> list[str]:
    return await check_references(
        reference, [Reference(("body", "tax_type"), "tax_type", ReferenceKind.sales_tax_type, data.tax_type)]
    )


async def create(
    session: AsyncSession, reference: ReferenceData, account_id: uuid.UUID, data: TaxExceptionIn
) -> TaxExceptionSaved:
    warnings = await _check(reference, data)
    rule = TaxExceptionRule(account_id=account_id, **data.model_dump(mode="json"))
    session.add(rule)
    await heal(session, account_id, [Change("tax_exceptions")])
    return await _saved(session, rule, warnings)


async def replace(
    session: AsyncSession,
    reference: ReferenceData,
    account_id: uuid.UUID,
    rule_id: uuid.UUID,
    data: TaxExceptionIn,
) -> TaxExceptionSaved:
    rule = await repository.get_rule(session, account_id, rule_id)
    if rule is None:
        raise _not_found(rule_id)
    warnings = await _check(reference, data)
    for name, value in data.model_dump(mode="json").items():
        setattr(rule, name, value)
    await heal(session, account_id, [Change("tax_exceptions")])
    return await _saved(session, rule, warnings)


async def delete(session: AsyncSession, account_id: uuid.UUID, rule_id: uuid.UUID) -> None:
    rule = await repository.get_rule(session, account_id, rule_id)
    if rule is None:
        raise _not_found(rule_id)
    await session.delete(rule)
    await heal(session, account_id, [Change("tax_exceptions")])


async def get(session: AsyncSession, account_id: uuid.UUID, rule_id: uuid.UUID) -> TaxExceptionOut:
    rule = await repository.get_rule(session, account_id, rule_id)
    if rule is None:
        raise _not_found(rule_id)
    return TaxExceptionOut.model_validate(rule)
