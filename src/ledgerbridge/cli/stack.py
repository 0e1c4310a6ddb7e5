"""The local stack as separate processes under honcho, wired to the sandboxes."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from honcho.manager import Manager

from ledgerbridge.cli.demo import seed_when_ready
from ledgerbridge.cli.sandboxes import SANDBOX_PORTS, sandbox_environment
from ledgerbridge.common.settings import RuntimeSettings
from ledgerbridge.sandbox.xero.seed import demo_tenant_id

WORKER_HEALTH_PORTS = {"poller": 8201, "mapper": 8202, "publisher": 8203}


def run_stack(api_port: int, environment: dict[str, str]) -> int:
    command = f"{sys.executable} -m ledgerbridge.cli.main"
    local = {kind: f"http://127.0.0.1:{port}" for kind, port in SANDBOX_PORTS.items()}
    sandboxes = sandbox_environment(local["xero"], local["ontraport"], local["onport"])
    env = {**environment, **{k: v for k, v in sandboxes.items() if k not in environment}}
    env.setdefault("XERO_REDIRECT_URI", f"http://127.0.0.1:{api_port}/v1/connections/xero/callback")
    env.setdefault("LOG_FORMAT", "console")
    # After Xero consent the browser comes back to the web app's setup, which chooses the organisation.
    # The sandboxes keep their state beside the database's, so a second run finds what the first left.
    env.setdefault("SANDBOX_STATE_DIR", str(Path(RuntimeSettings().data_dir).resolve() / "sandboxes"))
    env.setdefault("SPA_URL", f"http://127.0.0.1:{api_port}/setup/connect_xero")
    manager = Manager()
    for kind, port in SANDBOX_PORTS.items():
        manager.add_process(f"sandbox-{kind}", f"{command} sandbox {kind} --port {port}", env=env)
    manager.add_process("api", f"{command} api --port {api_port}", env=env)
    for service, port in WORKER_HEALTH_PORTS.items():
        manager.add_process(
            service, f"{command} worker {service}", env={**env, "QUEUE_HEALTH_PORT": str(port)}
        )
    seeding = threading.Thread(
        target=seed_when_ready,
        args=(
            f"http://127.0.0.1:{api_port}",
            demo_tenant_id("AU"),
            (f"http://127.0.0.1:{SANDBOX_PORTS['onport']}", demo_tenant_id("UK")),
        ),
        daemon=True,
    )
    seeding.start()
    manager.loop()
    return int(manager.returncode or 0)
