"""The Alerts page in a real browser (issue 14, point 3): an owner sets up e-mail to a real SMTP server
(aiosmtpd, started here) and a webhook to a real HTTP receiver, sends a test alert, and the publisher
process's alerts worker delivers it to both, signed; the page shows the deliveries and who changed what.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.api.test_alerts import Receiver, Smtp, free_port, verify
from tests.web.test_browser import NewApp, sign_up


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    hook.thread.start()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


def test_an_owner_sets_up_alerts_and_a_test_alert_arrives_by_email_and_webhook(
    new_app: NewApp, smtp: Smtp, receiver: Receiver
) -> None:
    app = new_app()
    page = app.page
    email = sign_up(app, company="Alerts Co")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    app.check("alerts-empty")

    page.get_by_label("Send alerts by e-mail").check()
    page.get_by_label("SMTP server").fill("127.0.0.1")
    page.get_by_label("Port").fill(str(smtp.port))
    page.get_by_label("Encryption").select_option("none")
    page.get_by_label("From address").fill("alerts@example.com")
    page.get_by_label("Recipients").fill("books@example.com")
    page.get_by_label("Send alerts to a webhook").check()
    page.get_by_label("Webhook URL").fill(receiver.url)
    # Today's digest would go out at the next tick after 07:00 UTC; this test is about the test alert.
    page.get_by_label("Daily digest by e-mail").uncheck()
    page.get_by_label("Daily digest by webhook").uncheck()
    page.get_by_role("button", name="Save alert settings").click()
    expect(page.get_by_text("Alert settings saved.")).to_be_visible()
    secret = page.get_by_test_id("webhook-secret").inner_text()
    assert secret.startswith("whsec_")
    app.check("alerts-saved")

    page.get_by_role("button", name="Send a test alert").click()
    expect(page.get_by_text(re.compile(r"Test alert queued for email and webhook"))).to_be_visible()
    # The publisher process's alerts worker sends it (ALERTS_TICK_SECONDS), never the request itself.
    deadline = time.monotonic() + 60
    while (not smtp.inbox.messages or not receiver.requests) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert [m["Subject"] for m in smtp.inbox.messages] == ["[ledgerbridge] Test alert"]
    assert email in smtp.inbox.messages[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    [(headers, body)] = receiver.requests
    assert verify(secret, headers, body)
    assert json.loads(body)["kind"] == "test"

    recent = page.get_by_role("table", name="The latest alerts and how each was delivered")
    expect(recent.get_by_role("row")).to_have_count(2, timeout=20_000)
    expect(recent).to_contain_text("email: sent", timeout=20_000)
    expect(recent).to_contain_text("webhook: sent")
    changes = page.get_by_role("list", name="Changes by people")
    expect(changes).to_contain_text(f"{email} alerts test")
    expect(changes).to_contain_text(f"{email} alerts update")
    app.check("alerts-delivered")
    assert "alerts-delivered" in app.checked
