"""A real browser through the product: sign-up, the 10-step setup, records, Onport, access rights.

Every page visited is screenshotted (under the test's tmp folder), checked with axe-core and walked with
the keyboard (``App.check``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
from playwright.sync_api import Page, Route, expect

from tests.web.conftest import PASSWORD, App, unique_email

NewApp = Callable[[], App]
# The ONTRAPORT sandbox's gateways → (currency, clearing account) in the Xero sandbox's AU organisation.
GATEWAYS = {"PayPal USD": ("USD", "616"), "Braintree GBP": ("GBP", "618"), "Stripe AUD": ("AUD", "615")}
TAXES = ("GST", "VAT", "Texas Sales Tax")


def sign_up(app: App, company: str = "Web Test Co") -> str:
    page = app.page
    app.goto("/")
    expect(page).to_have_url(re.compile(r"/signin$"))
    app.check("sign-in")
    page.get_by_role("link", name="Create an account").click()
    app.check("sign-up")
    email = unique_email("owner")
    page.get_by_label("Company").fill(company)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/setup$"))
    return email


def step_done(page: Page) -> None:
    expect(page.get_by_test_id("step-summary")).to_contain_text("Done.", timeout=30_000)


def next_step(page: Page, label: str) -> None:
    page.get_by_role("button", name=f"Next: {label}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(label)


def connect_xero(app: App, organisation: str) -> None:
    page = app.page
    page.get_by_role("button", name=re.compile(r"^Connect (another )?Xero")).click()
    # The sandbox's consent comes straight back to the callback, which sends the browser to the setup.
    expect(page.get_by_text("Which Xero organisation should ledgerbridge write to?")).to_be_visible()
    app.check("setup-choose-organisation")
    page.get_by_label(re.compile(re.escape(organisation))).check()
    page.get_by_role("button", name="Use this organisation").click()
    expect(page.get_by_text(f"Connected to Xero organisation {organisation}")).to_be_visible()


def test_a_new_user_goes_from_sign_up_through_ten_steps_to_an_invoice_in_xero(new_app: NewApp) -> None:
    app = new_app()
    page = app.page
    sign_up(app)
    expect(page.get_by_role("heading", level=1)).to_have_text("Connect Xero")
    expect(page.get_by_role("complementary", name="Sandbox")).to_contain_text("sandbox-key")
    app.check("setup-connect-xero")

    # 1. Xero: consent at the sandbox, then the organisation.
    connect_xero(app, "Demo Company (AU)")
    step_done(page)

    # 2. ONTRAPORT: wrong credentials are refused inline, the sandbox's work.
    next_step(page, "Connect ONTRAPORT")
    page.get_by_label("App ID").fill("sandbox-app")
    page.get_by_label("API key").fill("wrong-key")
    page.get_by_role("button", name="Check and connect").click()
    expect(page.get_by_role("alert")).to_be_visible()
    app.check("setup-connect-ontraport")
    page.get_by_label("API key").fill("sandbox-key")
    page.get_by_role("button", name="Check and connect").click()
    step_done(page)

    # 3. Gateways: only ONTRAPORT's own gateways, from its catalogue; the step is not done before.
    next_step(page, "Payment gateways")
    expect(page.get_by_test_id("step-summary")).to_contain_text("3 of 3 payment gateways")
    for name, (currency, account) in GATEWAYS.items():
        page.get_by_label(f"{name}: currency").select_option(currency)
        theme = page.get_by_label(f"{name}: branding theme")
        theme.select_option(index=1)
        page.get_by_label(f"{name}: payment account").select_option(account)
    app.check("setup-gateways")
    page.get_by_role("button", name="Save gateways").click()
    step_done(page)

    # 4. Products: a default sales account covers the twelve products.
    next_step(page, "Products")
    expect(page.get_by_test_id("step-summary")).to_contain_text("of 12 products")
    page.get_by_label("Default sales account").select_option("200")
    page.get_by_label("Pro Course: Xero account").select_option("200")
    page.get_by_label("Pro Course: Xero item code").fill("PRO-COURSE")
    app.check("setup-products")
    page.get_by_role("button", name="Save products").click()
    step_done(page)

    # 5. Taxes: each ONTRAPORT tax to a Xero tax code.
    next_step(page, "Taxes")
    for tax in TAXES:
        page.get_by_label(f"{tax}: Xero tax code").select_option("OUTPUT")
    app.check("setup-taxes")
    page.get_by_role("button", name="Save taxes").click()
    step_done(page)

    # 6. Coupons and 7. shipping: defaults.
    next_step(page, "Coupons")
    page.get_by_label("Default coupon account").select_option("220")
    app.check("setup-coupons")
    page.get_by_role("button", name="Save coupons").click()
    step_done(page)
    next_step(page, "Shipping")
    page.get_by_label("Default shipping account").select_option("210")
    app.check("setup-shipping")
    page.get_by_role("button", name="Save shipping methods").click()
    step_done(page)

    # 8. Tax exceptions: the rule builder refuses an incomplete rule, then saves a good one.
    next_step(page, "Tax exceptions")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("alert")).to_contain_text("Give the rule a name.")
    page.get_by_label("Rule name").fill("New Zealand customers")
    page.get_by_label("Condition 1: values").fill("nz")
    page.get_by_role("button", name="Add a condition").click()
    page.get_by_label("Condition 2: match on").select_option("email_domains")
    page.get_by_label("Condition 2: values").fill("@Example.co.nz")
    page.get_by_label("Matching sales are tax inclusive with").select_option("OUTPUT")
    app.check("setup-tax-exceptions")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_text("customer country is NZ and e-mail domain is example.co.nz")).to_be_visible()
    step_done(page)

    # 9. Invoice options: a live preview from a real template; done only when confirmed.
    next_step(page, "Invoice options")
    expect(page.get_by_test_id("step-summary")).to_contain_text("Still to do")
    page.get_by_label("Invoice number template").fill("WEB-{transaction_id}")
    expect(page.locator(".preview output").first).to_have_text(re.compile(r"^WEB-\d+$"))
    page.get_by_label("Invoice number template").fill("OP-{transaction_id}")
    page.get_by_label("Tax-free code for untaxed lines").select_option("EXEMPTOUTPUT")
    # Summary mode: its day-close hour shows only with it on (checked with it showing), then off again.
    summary = page.get_by_label("Summarise each day's sales: one invoice and one payment per day and gateway")
    summary.check()
    expect(page.get_by_label("Close each day's summary at")).to_have_value("2")
    app.check("setup-invoice-options")
    summary.uncheck()
    expect(page.get_by_label("Close each day's summary at")).to_have_count(0)
    page.get_by_role("button", name="Save and confirm invoice options").click()
    step_done(page)

    # 10. Import the last 5 sales with a progress bar; the step is done once one is synced.
    next_step(page, "Import and go live")
    page.get_by_label("How many sales").fill("5")
    page.get_by_role("button", name="Start the import").click()
    expect(page.get_by_role("heading", name="Import: done")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Sales imported: 5 of 5 (100%)")).to_be_visible()
    step_done(page)
    app.check("setup-import")
    expect(page.get_by_text("10 of 10 done")).to_be_visible()

    # The dashboard counts, then the records table, the record's page and its invoice in the Xero sandbox.
    page.get_by_role("button", name="Go to the dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    # Every imported sale settles: paid ones synced, the others skipped with their reason.
    for status in ("received", "mapped"):
        expect(page.locator(f"dd[data-status={status}]")).to_have_text("0", timeout=60_000)
    expect(page.locator("dd[data-status=synced]")).not_to_have_text("0")
    synced = int(page.locator("dd[data-status=synced]").inner_text())
    total = sum(
        int(page.locator(f"dd[data-status={s}]").inner_text()) for s in ("synced", "skipped", "failed")
    )
    assert total == 5
    # The Xero organisation's day plan: calls used today against the 5,000 a day, nothing left waiting.
    day_plan = page.locator("p[data-day-plan]")
    expect(day_plan).to_contain_text(
        re.compile(r"Xero .+: \d+ of 5,000 calls used today\. Nothing waiting\."), timeout=20_000
    )
    app.check("dashboard")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Records").click()
    # The router renders the new page in a transition: under load the dashboard (whose "Records by
    # status" also matches "Status") can still be on screen for a moment.
    expect(page.get_by_role("heading", level=1)).to_have_text("Records")
    page.get_by_label("Status").select_option("synced")
    expect(page.locator("table.records tbody tr")).to_have_count(synced)
    app.check("records")
    page.locator("table.records tbody tr").first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    app.check("record")
    invoice = page.get_by_role("link", name=re.compile(r"^Open invoice OP-\d+ in Xero"))
    number = re.search(r"OP-\d+", invoice.inner_text())
    assert number is not None
    with page.context.expect_page() as opened:
        invoice.click()
    xero_page = opened.value
    expect(xero_page.get_by_role("heading", level=1)).to_have_text(f"Invoice {number.group(0)}")
    expect(xero_page.locator("dd").filter(has_text="PAID")).to_be_visible()
    assert xero_page.url.startswith(app.stack.xero_url)

    # Stay signed in: a reload keeps the tab's session; a new tab signs in silently with the refresh
    # token, which rotates (the old one stops working).
    before = page.evaluate("() => localStorage.getItem('ledgerbridge.refresh_token')")
    page.reload()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    tab = page.context.new_page()
    tab.goto(f"{app.stack.url}/records")
    expect(tab.get_by_role("heading", level=1)).to_have_text("Records")
    after = tab.evaluate("() => localStorage.getItem('ledgerbridge.refresh_token')")
    assert before and after and before != after
    reused = httpx.post(f"{app.stack.url}/v1/auth/refresh", json={"refresh_token": before})
    assert reused.status_code == 401
    tab.close()

    # Signing out forgets the session.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    assert page.evaluate("() => localStorage.getItem('ledgerbridge.refresh_token')") is None


def test_an_onport_invoice_synced_by_hand_answers_with_its_bill_in_xero(new_app: NewApp) -> None:
    app = new_app()
    page = app.page
    sign_up(app, "Marketplace Co")
    connect_xero(app, "Demo Company (UK)")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Onport").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Onport bills")
    page.get_by_label("Onport API token").fill("sandbox-token")
    page.get_by_label("Xero organisation bills go to").select_option(label="Demo Company (UK)")
    app.check("onport-connect")
    page.get_by_role("button", name="Connect Onport").click()
    expect(page.get_by_role("heading", name="Vendors and their Xero suppliers")).to_be_visible()

    # Each vendor linked to the organisation's supplier, chosen from Xero's own contacts.
    vendors = page.locator("section[aria-labelledby=vendors] select")
    expect(vendors.first).to_be_visible()
    for index in range(vendors.count()):
        vendors.nth(index).select_option(label="Dropship Supplies Co")
        expect(page.locator("section[aria-labelledby=vendors] .hint").nth(index)).to_contain_text("Linked to")
    page.get_by_label("Purchases account").select_option("300")
    page.get_by_label("Shipping account").select_option("425")
    page.get_by_label("Tax code for taxed lines").select_option("INPUT2")
    page.get_by_label("Tax code for untaxed lines").select_option("NONE")
    page.get_by_label("Payout account for GBP").select_option("617")
    page.get_by_role("button", name="Save Onport options").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    # Onport's own setup steps follow: every vendor of Onport's list linked, accounts chosen.
    checklist = page.locator("section[aria-labelledby=onport-steps] li")
    expect(checklist.filter(has_text="Link vendors to Xero suppliers")).to_contain_text("done.")
    expect(checklist.filter(has_text="Bill accounts and tax codes")).to_contain_text("done.")

    # Onport's first poll marks "now"; invoices made after it are news, waiting for "Sync to Xero".
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.locator("td", has_text="(onport)").locator("xpath=../td[3]")).not_to_have_text(
        "—", timeout=60_000
    )
    added = httpx.post(
        f"{app.stack.onport_url}/_sandbox/accounts/1/purchase-invoices", json={"count": 2}, timeout=30
    ).json()
    assert added["invoice_ids"]
    page.get_by_role("button", name="Poll the sources now").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Onport").click()
    sync = page.get_by_role("button", name=re.compile(r"^Sync .+ to Xero$")).first
    expect(sync).to_be_visible(timeout=60_000)
    app.check("onport")
    reference = re.sub(r"^Sync (.+) to Xero$", r"\1", sync.inner_text())
    sync.click()
    bill = page.get_by_role("link", name=f"Open bill {reference} in Xero")
    expect(bill).to_be_visible(timeout=60_000)
    with page.context.expect_page() as opened:
        bill.click()
    xero_page = opened.value
    expect(xero_page.get_by_role("heading", level=1)).to_have_text(f"Bill {reference}")
    expect(xero_page.get_by_text("Dropship Supplies Co")).to_be_visible()


def test_a_bookkeeper_sees_everything_but_cannot_change_connections(new_app: NewApp) -> None:
    owner = new_app()
    page = owner.page
    sign_up(owner, "Shop With Bookkeeper")
    connect_xero(owner, "Demo Company (AU)")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Connections").click()
    expect(page.get_by_role("button", name=re.compile(r"^Disconnect"))).to_be_visible()
    owner.check("connections")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    bookkeeper_email = unique_email("books")
    page.get_by_label("E-mail").fill(bookkeeper_email)
    page.get_by_label("Their first password").fill(PASSWORD)
    page.get_by_label("Role").select_option("bookkeeper")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invited {bookkeeper_email}")
    expect(page.get_by_role("cell", name=bookkeeper_email)).to_be_visible()
    owner.check("users")

    bookkeeper = new_app()
    other = bookkeeper.page
    bookkeeper.goto("/signin")
    other.get_by_label("E-mail").fill(bookkeeper_email)
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(other.get_by_text(f"{bookkeeper_email} (bookkeeper)")).to_be_visible()
    other.get_by_role("navigation", name="Main").get_by_role("link", name="Connections").click()
    expect(other.get_by_role("note")).to_contain_text("only an owner can connect")
    expect(other.get_by_role("cell", name="Demo Company (AU)")).to_be_visible()
    expect(other.get_by_role("button", name=re.compile(r"^(Disconnect|Reconnect|Add a Xero)"))).to_have_count(
        0
    )
    bookkeeper.check("connections-bookkeeper")
    other.get_by_role("navigation", name="Main").get_by_role("link", name="Setup").click()
    other.get_by_role("link", name=re.compile(r"^Connect ONTRAPORT")).click()
    expect(other.get_by_role("button", name="Check and connect")).to_be_disabled()

    # The API itself refuses, whatever a page shows.
    with httpx.Client(base_url=bookkeeper.stack.url) as api:
        token = api.post("/v1/auth/token", data={"username": bookkeeper_email, "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        connection = api.get("/v1/connections", headers=headers).json()["items"][0]
        refused = api.delete(f"/v1/connections/{connection['id']}", headers=headers)
    assert refused.status_code == 403


@contextmanager
def _api(app: App, email: str) -> Iterator[httpx.Client]:
    """The same user over plain HTTP, for preconditions that are not what a test is about."""
    with httpx.Client(base_url=app.stack.url, timeout=30) as client:
        token = client.post("/v1/auth/token", data={"username": email, "password": PASSWORD}).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        yield client


def _connect_ontraport_and_map(
    api: httpx.Client, *, default_sales_account: str | None, prefix: str = "OP"
) -> str:
    """ONTRAPORT connected and everything but (optionally) the products mapped; returns its id.

    Tests share the sandbox's ONTRAPORT account and Xero organisation, and Xero refuses a second invoice
    with the same number: each test numbers its invoices with its own prefix.
    """
    xero = next(c for c in api.get("/v1/connections").json()["items"] if c["kind"] == "xero")
    themes = api.get(f"/v1/xero/{xero['id']}/branding-themes").json()["items"]
    source = api.post("/v1/connections/ontraport", json={"app_id": "sandbox-app", "api_key": "sandbox-key"})
    assert source.status_code == 201, source.text
    mappings = [
        {
            "kind": "gateway",
            "source_id": gateway,
            "target": {
                "currency_code": currency,
                "payment_account_code": account,
                "branding_theme_id": themes[0]["BrandingThemeID"],
            },
        }
        for gateway, (currency, account) in zip("123", GATEWAYS.values(), strict=True)
    ] + [{"kind": "tax", "source_id": tax, "target": {"tax_type": "OUTPUT"}} for tax in "123"]
    assert api.put("/v1/mappings", json=mappings).status_code == 200
    options = {
        "default_coupon_account": "220",
        "default_shipping_account": "210",
        "tax_free_code": "EXEMPTOUTPUT",
        "default_sales_account": default_sales_account,
        "invoice_number_template": f"{prefix}-{{transaction_id}}",
    }
    assert api.patch("/v1/settings", json={"ontraport": options}).status_code == 200
    return str(source.json()["id"])


def test_failed_records_are_retried_in_bulk_and_healed_by_mapping_their_product(new_app: NewApp) -> None:
    app = new_app()
    page = app.page
    email = sign_up(app, "Unmapped Products Co")
    connect_xero(app, "Demo Company (AU)")
    with _api(app, email) as api:
        source = _connect_ontraport_and_map(api, default_sales_account=None, prefix="RETRY")
        assert api.post("/v1/imports", json={"connection_id": source, "last_n": 4}).status_code == 201

    # The dashboard groups what failed by reason, with the fix.
    app.goto("/")
    attention = page.locator("ul.attention li").filter(has_text="Map the product")
    expect(attention).to_be_visible(timeout=60_000)
    app.check("dashboard-attention")

    # A bulk retry before the fix: one call queues every failed record, and they fail again, named.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Records").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Records")  # see the first test
    page.get_by_label("Status").select_option("failed")
    retry = page.get_by_role("button", name="Retry every failed or waiting record these filters match")
    expect(retry).to_be_visible()
    with _api(app, email) as api:
        failed = len(api.get("/v1/records?status=failed").json()["items"])
    assert failed >= 1
    app.check("records-failed")
    retry.click()
    expect(page.get_by_role("status").filter(has_text="queued to retry")).to_contain_text(f"{failed} records")
    with _api(app, email) as api:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            again = api.get("/v1/records?status=failed").json()["items"]
            if len(again) == failed:
                break
            time.sleep(1)
        assert {item["reason_code"] for item in again} == {"product_unmapped"}

    # The fix heals them by itself: no retry needed once the default sales account is set.
    app.goto("/")
    attention.get_by_role("link", name=re.compile("Map the product")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Products")
    expect(page.get_by_test_id("step-summary")).to_contain_text("no mapping yet")
    page.get_by_label("Default sales account").select_option("200")
    page.get_by_role("button", name="Save products").click()
    step_done(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Records").click()
    with _api(app, email) as api:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            statuses = api.get("/v1/sync/status").json()["records"]
            if not statuses.get("failed") and not statuses.get("received") and not statuses.get("mapped"):
                break
            time.sleep(1)
        assert not statuses.get("failed"), (
            statuses,
            api.get("/v1/records?status=failed").json()["items"][:2],
        )
    page.get_by_label("Status").select_option("synced")
    expect(page.locator("table.records caption")).to_contain_text(f"{statuses.get('synced')} records")
    assert statuses.get("synced", 0) >= failed
    # By the sale's own date: none of them is from the future.
    page.get_by_label("Sold or invoiced from").fill("2999-01-01")
    expect(page.locator("table.records caption")).to_contain_text("0 records")
    page.get_by_label("Sold or invoiced from").fill("")
    page.get_by_label("Status").select_option("failed")
    expect(page.locator("table.records caption")).to_contain_text("0 records")


def test_reconnecting_after_xero_consent_expired(new_app: NewApp) -> None:
    app = new_app()
    page = app.page
    email = sign_up(app, "Expired Consent Co")
    connect_xero(app, "Demo Company (AU)")
    with _api(app, email) as api:
        _connect_ontraport_and_map(api, default_sales_account="200")
        old = next(c for c in api.get("/v1/connections").json()["items"] if c["kind"] == "xero")
        # Xero forgets the consent (as after 60 days unused, or "disconnect" at Xero's end).
        sandbox = app.stack.xero.state.sandbox
        sandbox.refresh_tokens.clear()
        sandbox.access_tokens.clear()
        refused = api.get(f"/v1/xero/{old['id']}/accounts", params={"refresh": "true"})
        assert refused.status_code >= 400
        again = next(c for c in api.get("/v1/connections").json()["items"] if c["id"] == old["id"])
        assert again["status"] == "error", (refused.text, again)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Connections").click()
    expect(page.get_by_text("Xero consent has expired or was withdrawn")).to_be_visible()
    app.check("connections-expired")
    page.get_by_role("button", name=re.compile(r"^Reconnect ")).click()
    expect(page.get_by_text("Which Xero organisation should ledgerbridge write to?")).to_be_visible()
    page.get_by_label(re.compile(re.escape("Demo Company (AU)"))).check()
    page.get_by_role("button", name="Use this organisation").click()
    expect(page.get_by_text("Connected to Xero organisation Demo Company (AU)")).to_be_visible()

    with _api(app, email) as api:
        connections = api.get("/v1/connections").json()["items"]
        new = next(c for c in connections if c["kind"] == "xero" and c["status"] == "active")
        ontraport = next(c for c in connections if c["kind"] == "ontraport")
        assert new["id"] != old["id"]
        assert ontraport["xero_connection_id"] == new["id"]  # the sales follow the new consent
        assert api.get(f"/v1/xero/{new['id']}/accounts", params={"refresh": "true"}).status_code == 200


def test_the_cli_hands_the_browser_a_session_in_the_fragment(new_app: NewApp) -> None:
    app = new_app()
    page = app.page
    email = unique_email("handed")
    with httpx.Client(base_url=app.stack.url) as http:
        assert (
            http.post("/v1/auth/signup", json={"email": email, "password": PASSWORD, "company": "Handed Co"})
        ).status_code == 201
        refresh = http.post("/v1/auth/token", data={"username": email, "password": PASSWORD}).json()[
            "refresh_token"
        ]
    app.goto(f"/#session={refresh}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_text(f"{email} (owner)")).to_be_visible()
    assert "#" not in page.url  # the token is gone from the address bar and history


def test_the_api_docs_render_without_internet(new_app: NewApp) -> None:
    app = new_app()
    page = app.page
    outside: list[str] = []

    def only_ours(route: Route) -> None:
        if route.request.url.startswith(app.stack.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_ours)
    app.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    assert page.locator(".opblock").count() > 30
    expect(page.get_by_text("/v1/setup").first).to_be_visible()
    page.screenshot(path=str(app.shots / "docs.png"))
    app.goto("/redoc")
    expect(page.get_by_role("heading", name=re.compile("ledgerbridge API")).first).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_text("The 10 setup steps").first).to_be_attached()
    page.screenshot(path=str(app.shots / "redoc.png"))
    assert outside == []


def test_tracking_is_chosen_per_gateway_and_product_and_reaches_the_invoice_lines(new_app: NewApp) -> None:
    app = new_app()
    page = app.page
    email = sign_up(app, "Tracking Co")
    connect_xero(app, "Demo Company (AU)")
    with _api(app, email) as api:
        source = _connect_ontraport_and_map(api, default_sales_account="200", prefix="TRACK")

    # Gateways: one select per active Xero tracking category (archived ones are not offered).
    app.goto("/setup/gateways")
    region = page.get_by_label("Stripe AUD: tracking: Region")
    expect(region).to_be_visible()
    expect(page.get_by_label("Stripe AUD: tracking: Campaign 2019")).to_have_count(0)
    expect(region.locator("option")).to_have_text(["No Region", "North", "South", "East"])
    region.select_option("North")
    app.check("setup-gateways-tracking")
    page.get_by_role("button", name="Save gateways").click()
    expect(page.get_by_role("status").filter(has_text="Saved 3 gateway mappings")).to_be_visible()

    # Products: the course's lines also carry a channel.
    app.goto("/setup/products")
    page.get_by_label("Pro Course: Xero account").select_option("200")
    page.get_by_label("Pro Course: tracking: Channel").select_option("Online")
    app.check("setup-products-tracking")
    page.get_by_role("button", name="Save products").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()

    with _api(app, email) as api:
        mappings = {(m["kind"], m["source_id"]): m["target"] for m in api.get("/v1/mappings").json()["items"]}
        assert mappings[("gateway", "3")]["tracking"] == [{"name": "Region", "option": "North"}]
        assert "tracking" not in mappings[("gateway", "1")]
        assert mappings[("product", "1")] == {
            "account_code": "200",
            "tracking": [{"name": "Channel", "option": "Online"}],
        }
        # What the page offers is what the API accepts: an archived option is refused, naming the fix.
        refused = api.put(
            "/v1/mappings/gateway/2",
            json={**mappings[("gateway", "2")], "tracking": [{"name": "Region", "option": "Old West"}]},
        )
        assert refused.status_code == 422
        assert "tracking 'Region: Old West'" in refused.json()["detail"]
        assert api.post("/v1/imports", json={"connection_id": source, "last_n": 12}).status_code == 201

        # The sales reach Xero with their lines tracked.
        organisation = next(
            org for org in app.stack.xero.state.sandbox.orgs.values() if org.name == "Demo Company (AU)"
        )
        deadline = time.monotonic() + 120
        tracked: list[dict[str, object]] = []
        while time.monotonic() < deadline and not tracked:
            tracked = [
                invoice
                for invoice in list(organisation.invoices.values())
                if str(invoice.get("InvoiceNumber", "")).startswith("TRACK-")
                and invoice["CurrencyCode"] == "AUD"
            ]
            time.sleep(1)
        assert tracked, api.get("/v1/sync/status").json()
        for invoice in tracked:
            for line in invoice["LineItems"]:  # type: ignore[attr-defined]
                names = {(t["Name"], t["Option"]) for t in line["Tracking"]}
                assert ("Region", "North") in names, line
                if line["Description"] == "Pro Course":
                    assert ("Channel", "Online") in names
