"""The Reconciliation page and the rollback flow in a real browser: the chart and its table, the dry run,
the confirmation, and the report naming the records the rollback undid. Every page visited is checked
with axe-core and walked with the keyboard (``App.check``)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import expect

from tests.web.conftest import App
from tests.web.test_browser import _api, _connect_ontraport_and_map, connect_xero, sign_up

NewApp = Callable[[], App]


def test_the_report_charts_source_and_xero_and_a_rollback_is_confirmed_after_its_dry_run(
    new_app: NewApp,
) -> None:
    app = new_app()
    page = app.page
    email = sign_up(app, "Trust Books Co")
    connect_xero(app, "Demo Company (AU)")
    with _api(app, email) as api:
        source = _connect_ontraport_and_map(api, default_sales_account="200", prefix="TRUST")
        assert api.post("/v1/imports", json={"connection_id": source, "last_n": 3}).status_code == 201
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            statuses = api.get("/v1/sync/status").json()["records"]
            if statuses.get("synced", 0) + statuses.get("skipped", 0) >= 3:
                break
            time.sleep(1)
        assert statuses.get("synced", 0) >= 1, statuses

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reconciliation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reconciliation")
    chart = page.get_by_role("img", name=re.compile("Source and Xero per day"))
    expect(chart).to_be_visible()
    per_day = page.get_by_role("table", name=re.compile("Per day"))
    expect(per_day).to_be_visible()
    expect(page.get_by_role("table", name="Totals per period, gateway and currency")).to_contain_text(
        "charges"
    )
    app.check("reconciliation")

    page.get_by_role("link", name="Roll back a set of records…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Roll back")
    page.get_by_label("Import").select_option(index=1)
    page.get_by_role("button", name="Show what would happen").click()
    dry_run = page.get_by_role("table", name="What happens to each record")
    expect(dry_run).to_contain_text("Voided")
    expect(dry_run).to_contain_text("Payment deleted")
    roll_back = page.get_by_role("button", name=re.compile(r"^Roll back \d+ record"))
    expect(roll_back).to_be_disabled()  # not before the confirmation
    app.check("rollback-dry-run")
    page.get_by_label(re.compile("I understand this voids and deletes")).check()
    roll_back.click()
    expect(page.get_by_role("status").filter(has_text="Rollback under way")).to_be_visible()
    app.check("rollback-under-way")

    with _api(app, email) as api:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            waiting = api.get("/v1/records", params={"reason_code": "rolled_back"}).json()["total"]
            if waiting >= 1 and not api.get("/v1/sync/status").json()["records"].get("mapped"):
                break
            time.sleep(1)
        assert waiting >= 1
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reconciliation").click()
    differences = page.get_by_role("table", name="Differences")
    expect(differences).to_contain_text("Rolled back")
    expect(differences.get_by_role("link", name=re.compile(r"^ontraport \d+")).first).to_be_visible()
    app.check("reconciliation-after-rollback")
