"""The local stack as separate processes under honcho, wired to the sandboxes."""

from __future__ import annotations

import sys

from honcho.manager import Manager

SANDBOX_PORTS = {"xero": 8101, "ontraport": 8102, "onport": 8103}
WORKER_HEALTH_PORTS = {"poller": 8201, "mapper": 8202, "publisher": 8203}


def sandbox_environment(xero: str, ontraport: str, onport: str) -> dict[str, str]:
    """Point every external API setting (SPEC.md §3) at sandboxes serving on these base URLs."""
    return {
        "XERO_API_URL": f"{xero}/api.xro/2.0",
        "XERO_CONNECTIONS_URL": f"{xero}/connections",
        "XERO_AUTHORIZE_URL": f"{xero}/identity/connect/authorize",
        "XERO_TOKEN_URL": f"{xero}/identity/connect/token",
        "XERO_REVOKE_URL": f"{xero}/identity/connect/revocation",
        "XERO_CLIENT_ID": "sandbox-client",
        "XERO_CLIENT_SECRET": "sandbox-secret",
        "ONTRAPORT_API_URL": ontraport,
        "ONPORT_API_URL": onport,
    }


def run_stack(api_port: int, environment: dict[str, str]) -> int:
    command = f"{sys.executable} -m ledgerbridge.cli.main"
    local = {kind: f"http://127.0.0.1:{port}" for kind, port in SANDBOX_PORTS.items()}
    sandboxes = sandbox_environment(local["xero"], local["ontraport"], local["onport"])
    env = {**environment, **{k: v for k, v in sandboxes.items() if k not in environment}}
    env.setdefault("XERO_REDIRECT_URI", f"http://127.0.0.1:{api_port}/v1/connections/xero/callback")
    env.setdefault("LOG_FORMAT", "console")
    manager = Manager()
    for kind, port in SANDBOX_PORTS.items():
        manager.add_process(f"sandbox-{kind}", f"{command} sandbox {kind} --port {port}", env=env)
    manager.add_process("api", f"{command} api --port {api_port}", env=env)
    for service, port in WORKER_HEALTH_PORTS.items():
        manager.add_process(
            service, f"{command} worker {service}", env={**env, "QUEUE_HEALTH_PORT": str(port)}
        )
    manager.loop()
    return int(manager.returncode or 0)
