"""Issue 13's bookkeeping options in the pure core: tracking categories per line, lock dates, contact
details. Property tests run derandomized (the same cases every run)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerbridge.bookkeeping.decisions import Fail, Publish, Wait
from ledgerbridge.bookkeeping.documents import DocumentKind, InvoiceStatus, PublishedDocument, xero_totals
from ledgerbridge.bookkeeping.lock_dates import LockedPeriod
from ledgerbridge.bookkeeping.reasons import ReasonCode
from ledgerbridge.bookkeeping.reference import XeroReference, xero_date
from ledgerbridge.bookkeeping.sales import (
    Contact,
    GatewayMapping,
    Mappings,
    MappingSettings,
    ProductMapping,
    SyncState,
    map_transaction,
)
from ledgerbridge.bookkeeping.tracking import TrackingRef
from tests.mapper.ontraport.conftest import _assert_valid_for_xero, _record, _worked_offer

FIXED = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
CATEGORIES = {
    "Region": ("North", "South", "East"),
    "Channel": ("Online", "Retail"),
    "Brand": ("Own", "Other"),
}
SYDNEY = ZoneInfo("Australia/Sydney")


def _settings(**overrides: Any) -> MappingSettings:
    return MappingSettings(
        default_sales_account="200",
        default_coupon_account="450",
        default_shipping_account="260",
        tax_free_code="EXEMPTOUTPUT",
        time_zone="Australia/Sydney",
        **overrides,
    )


def _mappings(
    course: tuple[TrackingRef, ...] = (),
    workbook: tuple[TrackingRef, ...] = (),
    gateway: tuple[TrackingRef, ...] = (),
) -> Mappings:
    return Mappings(
        products={
            1: ProductMapping(account_code="200", tracking=course),
            9: ProductMapping(account_code="210", item_code="WB", tracking=workbook),
        },
        coupons={"SPRING20": "455"},
        taxes={4: "OUTPUT"},
        shipping={2: "260"},
        gateways={3: GatewayMapping(currency_code="AUD", payment_account_code="610", tracking=gateway)},
    )


def _choice(name: str) -> st.SearchStrategy[TrackingRef]:
    return st.sampled_from(CATEGORIES[name]).map(lambda option: TrackingRef(name=name, option=option))


def _tracking(names: list[str]) -> st.SearchStrategy[tuple[TrackingRef, ...]]:
    """Choices in a subset of ``names`` (at most two)."""
    return st.lists(st.sampled_from(names), unique=True, max_size=2).flatmap(
        lambda chosen: st.tuples(*(_choice(name) for name in chosen))
    )


def _expected(own: tuple[TrackingRef, ...], gateway: tuple[TrackingRef, ...]) -> list[dict[str, str]]:
    chosen = {ref.name: ref for ref in gateway} | {ref.name: ref for ref in own}
    return [{"Name": ref.name, "Option": ref.option} for _, ref in sorted(chosen.items())]


def _invoice(decision: Publish) -> dict[str, Any]:
    return next(d.body for d in decision.documents if d.kind is DocumentKind.invoice)


# --- tracking categories -------------------------------------------------------------------------------


@FIXED
@given(
    course=_tracking(["Region", "Channel"]),
    workbook=_tracking(["Region", "Channel"]),
    gateway=_tracking(["Region", "Channel"]),
)
def test_every_line_carries_its_product_and_gateway_tracking(
    course: tuple[TrackingRef, ...], workbook: tuple[TrackingRef, ...], gateway: tuple[TrackingRef, ...]
) -> None:
    """Two categories at most between them: each product line carries its product's options over the
    gateway's, shipping the gateway's, each coupon line those of the products it discounts, and the
    total is still the charge to the cent."""
    decision = map_transaction(
        _record(_worked_offer()),
        contact=None,
        mappings=_mappings(course, workbook, gateway),
        settings=_settings(),
    )
    assert isinstance(decision, Publish), decision
    for document in decision.documents:
        _assert_valid_for_xero(document)
    invoice = _invoice(decision)
    lines = {line["Description"]: line for line in invoice["LineItems"]}
    assert lines["Pro Course"].get("Tracking", []) == _expected(course, gateway)
    assert lines["Workbook"].get("Tracking", []) == _expected(workbook, gateway)
    assert lines["Shipping: Standard"].get("Tracking", []) == _expected((), gateway)
    coupon_tracking = [line.get("Tracking", []) for line in invoice["LineItems"] if line["UnitAmount"] < 0]
    assert coupon_tracking and all(
        tracking in (_expected(course, gateway), _expected(workbook, gateway)) for tracking in coupon_tracking
    )
    # The coupon is split per tracking option: each option's lines net to its products less their share.
    assert len(coupon_tracking) == len({str(t) for t in coupon_tracking})
    assert xero_totals(invoice, {"OUTPUT": Decimal(10)}).total == Decimal("242.00")


@FIXED
@given(course=_tracking(["Brand"]), gateway=st.tuples(_choice("Region"), _choice("Channel")))
def test_more_than_two_categories_on_a_line_fails_naming_the_product(
    course: tuple[TrackingRef, ...], gateway: tuple[TrackingRef, ...]
) -> None:
    decision = map_transaction(
        _record(_worked_offer()),
        contact=None,
        mappings=_mappings(course=course, gateway=gateway),
        settings=_settings(),
    )
    if course:
        assert isinstance(decision, Fail)
        assert decision.code is ReasonCode.product_unmapped
        assert decision.cause is not None and decision.cause.key == "1"
        assert "Xero allows 2 per line" in decision.reason
    else:
        assert isinstance(decision, Publish)


def test_an_option_xero_no_longer_has_fails_naming_it() -> None:
    reference = XeroReference(tracking={"Region": frozenset({"North", "South"})})
    ok = map_transaction(
        _record(_worked_offer()),
        contact=None,
        mappings=_mappings(gateway=(TrackingRef(name="region", option="NORTH"),)),
        settings=_settings(),
        reference=reference,
    )
    assert isinstance(ok, Publish)  # Xero compares names without case
    gone = map_transaction(
        _record(_worked_offer()),
        contact=None,
        mappings=_mappings(course=(TrackingRef(name="Region", option="Old West"),)),
        settings=_settings(),
        reference=reference,
    )
    assert isinstance(gone, Fail) and gone.code is ReasonCode.xero_code_unknown
    assert "'Old West' of category 'Region'" in gone.reason


def test_a_partial_refund_credits_each_tracking_option_in_proportion() -> None:
    mappings = _mappings(
        course=(TrackingRef(name="Region", option="North"),),
        workbook=(TrackingRef(name="Region", option="South"),),
    )
    first = map_transaction(_record(_worked_offer()), contact=None, mappings=mappings, settings=_settings())
    assert isinstance(first, Publish)
    invoice = _invoice(first)
    state = SyncState(
        invoice=PublishedDocument(number=invoice["InvoiceNumber"], amount=Decimal("242.00"), body=invoice),
        payment=PublishedDocument(number=invoice["InvoiceNumber"], amount=Decimal("242.00")),
    )
    refund = map_transaction(
        _record(_worked_offer(), status=3),
        contact=None,
        mappings=mappings,
        settings=_settings(),
        state=state,
        refunded_total=Decimal("100.00"),
    )
    assert isinstance(refund, Publish), refund
    note = next(d.body for d in refund.documents if d.kind is DocumentKind.credit_note)
    by_option: dict[str, Decimal] = {}
    for line in note["LineItems"]:
        option = line["Tracking"][0]["Option"] if line.get("Tracking") else "-"
        by_option[option] = by_option.get(option, Decimal(0)) + Decimal(str(line["UnitAmount"]))
    assert set(by_option) >= {"North", "South"}
    assert sum(by_option.values()) == Decimal("100.00")
    assert by_option["North"] > by_option["South"]  # the course (North) was most of the sale


# --- lock dates ------------------------------------------------------------------------------------------


def _sale_day(seconds: int) -> date:
    return datetime.fromtimestamp(seconds, UTC).astimezone(SYDNEY).date()


@FIXED
@given(
    sold_at=st.integers(1_700_000_000, 1_760_000_000),
    lock_offset=st.integers(-40, 40),
    policy=st.sampled_from(LockedPeriod),
)
def test_documents_in_a_locked_period_are_held_or_moved_to_the_first_open_day(
    sold_at: int, lock_offset: int, policy: LockedPeriod
) -> None:
    day = _sale_day(sold_at)
    lock = day + timedelta(days=lock_offset)
    record = _record(_worked_offer(), date=sold_at)
    unlocked = map_transaction(record, contact=None, mappings=_mappings(), settings=_settings())
    decision = map_transaction(
        record,
        contact=None,
        mappings=_mappings(),
        settings=_settings(locked_period=policy),
        reference=XeroReference(lock_date=lock),
    )
    assert isinstance(unlocked, Publish)
    if day > lock:
        assert decision == unlocked  # an open period changes nothing
    elif policy is LockedPeriod.HOLD:
        assert isinstance(decision, Wait)
        assert decision.code is ReasonCode.period_locked
        assert lock.isoformat() in decision.reason and day.isoformat() in decision.reason
        assert decision.cause is not None and decision.cause.name == "ontraport.locked_period"
    else:
        assert isinstance(decision, Publish)
        first_open = (lock + timedelta(days=1)).isoformat()
        for document in decision.documents:
            _assert_valid_for_xero(document)
            if "Date" in document.body:
                assert document.body["Date"] == first_open
                assert f"(dated {day.isoformat()})" in document.body["Reference"]
                assert document.body.get("DueDate", first_open) >= first_open
        # Same documents otherwise: amounts and lines untouched.
        assert [d.kind for d in decision.documents] == [d.kind for d in unlocked.documents]
        assert _invoice(decision)["LineItems"] == _invoice(unlocked)["LineItems"]


def test_the_lock_date_is_the_later_of_xeros_two_dates() -> None:
    reference = XeroReference.from_xero(
        accounts=[],
        tax_rates=[],
        branding_themes=[],
        currencies=[],
        tracking_categories=[
            {
                "Name": "Region",
                "Status": "ACTIVE",
                "Options": [{"Name": "North", "Status": "ACTIVE"}, {"Name": "Old", "Status": "ARCHIVED"}],
            },
            {"Name": "Gone", "Status": "ARCHIVED", "Options": [{"Name": "X", "Status": "ACTIVE"}]},
        ],
        organisation={
            "PeriodLockDate": "/Date(1546214400000+0000)/",
            "EndOfYearLockDate": "/Date(1514678400000+0000)/",
        },
    )
    assert reference.lock_date == date(2018, 12, 31)
    assert reference.tracking == {"Region": frozenset({"North"})}
    assert (
        XeroReference.from_xero(accounts=[], tax_rates=[], branding_themes=[], currencies=[]).lock_date
        is None
    )
    assert xero_date("2019-06-30T00:00:00") == date(2019, 6, 30)
    assert xero_date("not a date") is None


# --- contact details ----------------------------------------------------------------------------------


@FIXED
@given(
    phone=st.none() | st.text("0123456789 +", min_size=1, max_size=60),
    city=st.none() | st.text(min_size=1, max_size=300).filter(str.strip),
    postal_code=st.none() | st.text("0123456789", min_size=1, max_size=60),
)
def test_the_contact_carries_ontraports_details_within_xeros_limits(
    phone: str | None, city: str | None, postal_code: str | None
) -> None:
    contact = Contact(
        id=55,
        first_name="Jane",
        last_name="Smith",
        email="jane@example.com.au",
        country="Australia",
        phone=phone,
        address="1 Example Street",
        city=city,
        region="NSW",
        postal_code=postal_code,
    )
    decision = map_transaction(
        _record(_worked_offer()), contact=contact, mappings=_mappings(), settings=_settings()
    )
    assert isinstance(decision, Publish)
    body = next(d for d in decision.documents if d.kind is DocumentKind.contact)
    _assert_valid_for_xero(body)
    assert (body.body["FirstName"], body.body["LastName"]) == ("Jane", "Smith")
    assert body.body["EmailAddress"] == "jane@example.com.au"
    (address,) = body.body["Addresses"]
    assert address["AddressType"] == "POBOX" and address["AddressLine1"] == "1 Example Street"
    assert address.get("City") == (city[:255] if city else None)
    assert address.get("PostalCode") == (postal_code[:50] if postal_code else None)
    assert body.body.get("Phones") == (
        [{"PhoneType": "DEFAULT", "PhoneNumber": phone[:50]}] if phone else None
    )
    # The invoice's own contact reference is the same body, so Xero files the sale under these details.
    assert _invoice(decision)["Contact"] == body.body


# --- lock dates on Onport bills ---------------------------------------------------------------------


def test_a_bill_in_a_locked_period_is_held_or_moved_like_a_sale() -> None:
    from ledgerbridge.bookkeeping.bills import map_purchase_invoice
    from tests.mapper.onport.builders import MAPPINGS, OPTIONS, assert_valid, payload

    locked = XeroReference(lock_date=date(2025, 1, 1))  # the bill is dated 2025-01-01
    held = map_purchase_invoice(payload(), mappings=MAPPINGS, options=OPTIONS, reference=locked)
    assert isinstance(held, Wait) and held.code is ReasonCode.period_locked
    assert "Bill dated 2025-01-01" in held.reason
    moved = map_purchase_invoice(
        payload(),
        mappings=MAPPINGS,
        options=OPTIONS.model_copy(update={"locked_period": LockedPeriod.FIRST_OPEN_DAY}),
        reference=locked,
    )
    assert isinstance(moved, Publish)
    assert_valid(moved.documents)
    (bill,) = moved.documents
    assert (bill.body["Date"], bill.body["DueDate"]) == ("2025-01-02", "2025-01-15")
    assert bill.body["Reference"].endswith("(dated 2025-01-01)")
    opened = map_purchase_invoice(
        payload(), mappings=MAPPINGS, options=OPTIONS, reference=XeroReference(lock_date=date(2024, 12, 31))
    )
    assert opened == map_purchase_invoice(payload(), mappings=MAPPINGS, options=OPTIONS)


# --- drafts approved in Xero -----------------------------------------------------------------------------


def _draft_state(held_status: str | None, held_total: Decimal | None) -> tuple[SyncState, str]:
    draft = map_transaction(_record(_worked_offer()), contact=None, mappings=_mappings(), settings=_drafts())
    assert isinstance(draft, Publish)
    assert [d.kind for d in draft.documents] == [DocumentKind.contact, DocumentKind.invoice]
    invoice = _invoice(draft)
    assert invoice["Status"] == "DRAFT"
    state = SyncState(
        invoice=PublishedDocument(
            xero_id="inv-1", number=invoice["InvoiceNumber"], amount=Decimal("242.00"), body=invoice
        ),
        invoice_held_status=held_status,
        invoice_held_total=held_total,
    )
    return state, invoice["InvoiceNumber"]


def _drafts() -> MappingSettings:
    return _settings(invoice_status=InvoiceStatus.DRAFT)


def _again(state: SyncState) -> Any:
    return map_transaction(
        _record(_worked_offer()), contact=None, mappings=_mappings(), settings=_drafts(), state=state
    )


def test_a_draft_still_draft_in_xero_gets_no_payment() -> None:
    for held in (None, "DRAFT", "SUBMITTED"):
        state, number = _draft_state(held, Decimal("242.00"))
        decision = _again(state)
        assert not isinstance(decision, Publish), held
        assert "draft" in decision.reason and number in decision.reason


def test_a_draft_approved_in_xero_gets_its_payment() -> None:
    state, number = _draft_state("AUTHORISED", Decimal("242.00"))
    decision = _again(state)
    assert isinstance(decision, Publish), decision
    assert [d.kind for d in decision.documents] == [DocumentKind.payment]
    payment = decision.documents[0].body
    assert payment["Invoice"] == {"InvoiceNumber": number}
    assert payment["Amount"] == Decimal("242.00")
    assert payment["Account"] == {"Code": "610"}  # the gateway's payment account


def test_a_draft_approved_and_paid_in_xero_is_not_paid_twice() -> None:
    state, number = _draft_state("PAID", Decimal("242.00"))
    decision = _again(state)
    assert not isinstance(decision, Publish)
    assert decision.reason == f"Invoice {number} was approved and paid in Xero"


def test_a_draft_approved_for_another_amount_fails_naming_both_figures() -> None:
    state, number = _draft_state("AUTHORISED", Decimal("200.00"))
    decision = _again(state)
    assert isinstance(decision, Fail)
    assert decision.code is ReasonCode.approved_amount_differs
    assert decision.reason == (
        f"Invoice {number} was approved in Xero for 200.00 but the sale charged 242.00; no payment was sent"
    )
