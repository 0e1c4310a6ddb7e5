"""The account's tax exception rules."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from ledgerbridge.api.audit.dependencies import AuditDep
from ledgerbridge.api.auth.dependencies import CurrentUser
from ledgerbridge.api.dependencies import Session
from ledgerbridge.api.mappings.dependencies import ReferenceDataDep
from ledgerbridge.api.problems import problem_responses
from ledgerbridge.api.tax_exceptions import repository, service
from ledgerbridge.api.tax_exceptions.schemas import (
    TaxExceptionIn,
    TaxExceptionList,
    TaxExceptionOut,
    TaxExceptionSaved,
)

router = APIRouter(prefix="/v1/tax-exceptions", tags=["tax exceptions"])


@router.get(
    "",
    summary="The account's rules, in the order they are tried",
    response_model=TaxExceptionList,
    responses=problem_responses(401),
)
async def list_tax_exceptions(user: CurrentUser, session: Session) -> TaxExceptionList:
    rules = await repository.list_rules(session, user.account_id)
    return TaxExceptionList(items=[TaxExceptionOut.model_validate(rule) for rule in rules])


@router.post(
    "",
    summary="Add a rule",
    status_code=status.HTTP_201_CREATED,
    response_model=TaxExceptionSaved,
    responses=problem_responses(401, 422),
)
async def create_tax_exception(
    body: TaxExceptionIn, user: CurrentUser, session: Session, reference: ReferenceDataDep, audit: AuditDep
) -> TaxExceptionSaved:
    saved = await service.create(session, reference, user.account_id, body)
    await audit("tax_exception.create", f"tax_exception:{saved.id}", after=body.model_dump(mode="json"))
    return saved


@router.get(
    "/{rule_id}", summary="One rule", response_model=TaxExceptionOut, responses=problem_responses(401, 404)
)
async def get_tax_exception(rule_id: uuid.UUID, user: CurrentUser, session: Session) -> TaxExceptionOut:
    return await service.get(session, user.account_id, rule_id)


@router.put(
    "/{rule_id}",
    summary="Replace a rule",
    response_model=TaxExceptionSaved,
    responses=problem_responses(401, 404, 422),
)
async def replace_tax_exception(
    rule_id: uuid.UUID,
    body: TaxExceptionIn,
    user: CurrentUser,
    session: Session,
    reference: ReferenceDataDep,
    audit: AuditDep,
) -> TaxExceptionSaved:
    before = _rule(await service.get(session, user.account_id, rule_id))
    saved = await service.replace(session, reference, user.account_id, rule_id, body)
    await audit("tax_exception.replace", f"tax_exception:{rule_id}", before=before, after=_rule(saved))
    return saved


@router.delete(
    "/{rule_id}",
    summary="Remove a rule",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 404),
)
async def delete_tax_exception(
    rule_id: uuid.UUID, user: CurrentUser, session: Session, audit: AuditDep
) -> None:
    before = _rule(await service.get(session, user.account_id, rule_id))
    await service.delete(session, user.account_id, rule_id)
    await audit("tax_exception.delete", f"tax_exception:{rule_id}", before=before)


def _rule(rule: TaxExceptionOut) -> dict[str, Any]:
    return TaxExceptionIn.model_validate(
        rule.model_dump(include=set(TaxExceptionIn.model_fields))
    ).model_dump(mode="json")
