"""`ledgerbridge demo` sets a tenant up through the API, syncs it, checks the books and says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_demo_runs_the_whole_flow_and_exits_zero(database_url: str, redis_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LEDGERBRIDGE_DATA_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [sys.executable, "-m", "ledgerbridge.cli.main", "demo", "--transactions", "60", "--timeout", "240"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "every demo transaction reached the Xero sandbox as the rules say" in result.stdout
    assert "429s received: 0" in result.stdout
    assert "records by status: {'skipped':" in result.stdout
    # Issue 15: a refund before the first sync and an Onport payout reversal are part of every demo.
    assert "refunded before their first sync (invoice, payment, credit note, refund): 0" not in result.stdout
    assert "refunded before their first sync" in result.stdout
    assert "Onport payout cancelled, its bill payment deleted in Xero: bill " in result.stdout
    # The reconciliation report over the demo's month(s): its CSV header, a charges row per gateway.
    assert "reconciliation report " in result.stdout
    assert "period,source,gateway,currency,figure,source_count,source_amount" in result.stdout
    assert ",ontraport," in result.stdout and ",charges," in result.stdout
