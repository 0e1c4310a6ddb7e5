"""`ledgerbridge`: run, migrate and operate every part of the product from one command."""

from __future__ import annotations

import asyncio
import os
import sys
from enum import StrEnum

import typer
import uvicorn

from ledgerbridge.cli.environment import prepare_servers
from ledgerbridge.cli.stack import run_stack
from ledgerbridge.common.logging import configure_logging
from ledgerbridge.common.messaging.queues import Queue
from ledgerbridge.common.settings import get_settings
from ledgerbridge.common.worker import HandlerFactory

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


class Service(StrEnum):
    poller = "poller"
    mapper = "mapper"
    publisher = "publisher"


class SandboxKind(StrEnum):
    xero = "xero"
    ontraport = "ontraport"
    onport = "onport"


def _logging(service: str) -> None:
    runtime = get_settings().runtime
    configure_logging(runtime.log_level, runtime.log_format, service)


@app.command()
def migrate(revision: str = typer.Argument("head", help="Alembic revision to upgrade to")) -> None:
    """Bring the database schema up to date."""
    from ledgerbridge.common.migrate import upgrade

    prepare_servers()
    _logging("migrate")
    upgrade(get_settings().database.url or "", revision)
    typer.echo(f"database migrated to {revision}")


@app.command()
def api(
    host: str = typer.Option("127.0.0.1", envvar="API_HOST"),
    port: int = typer.Option(8000, envvar="API_PORT"),
) -> None:
    """Serve the REST API, OAuth callbacks, webhooks and the operators' docs (/docs)."""
    from ledgerbridge.api.app import create_app

    prepare_servers()
    _logging("api")
    # Forwarded headers are read by the app itself, and only from API_TRUSTED_PROXIES: uvicorn's own
    # handling (FORWARDED_ALLOW_IPS) stays off so a stray environment variable cannot widen it.
    uvicorn.run(create_app(get_settings()), host=host, port=port, log_config=None, proxy_headers=False)


@app.command()
def worker(
    service: Service,
    check: bool = typer.Option(
        False, "--check", help="Exit 0 if this service's worker reported healthy lately"
    ),
) -> None:
    """Run one service's queue consumer (with the outbox relay and sweeper)."""
    from ledgerbridge.common.worker import build_worker, health_check_key

    settings = get_settings()
    if check:
        from arq.connections import RedisSettings
        from arq.worker import async_check_health

        if not settings.redis.url:
            raise typer.BadParameter("REDIS_URL is not set")
        code = asyncio.run(
            async_check_health(
                RedisSettings.from_dsn(settings.redis.url), health_check_key(settings, Queue(service))
            )
        )
        raise typer.Exit(code)
    prepare_servers()
    settings = get_settings()
    _logging(str(service))
    build_worker(settings, Queue(service), _handlers(service)).run()


def _handlers(service: Service) -> HandlerFactory:
    if service is Service.poller:
        from ledgerbridge.poller.handlers import handlers as poller_handlers

        return poller_handlers
    if service is Service.mapper:
        from ledgerbridge.mapper.handlers import handlers as mapper_handlers

        return mapper_handlers
    from ledgerbridge.publisher.handlers import handlers as publisher_handlers

    return publisher_handlers


@app.command()
def sandbox(
    kind: SandboxKind,
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(..., help="Port to serve on"),
) -> None:
    """Serve a local stand-in for Xero, ONTRAPORT or Onport (demo data included)."""
    from ledgerbridge.sandbox.registry import create_sandbox_app
    from ledgerbridge.sandbox.server import serve

    _logging(f"sandbox-{kind}")
    serve(create_sandbox_app(str(kind)), host, port)


@app.command()
def run(
    api_port: int = typer.Option(8000, envvar="API_PORT"),
) -> None:
    """The whole product locally: servers, migrations, sandboxes, API and the three workers."""
    prepare_servers()
    from ledgerbridge.common.migrate import upgrade

    upgrade(get_settings().database.url or "")
    sys.exit(run_stack(api_port, dict(os.environ)))


@app.command()
def demo(
    transactions: int = typer.Option(150, help="How many ONTRAPORT sandbox transactions to generate"),
    timeout: float = typer.Option(600, help="Seconds to wait for the sync to finish"),
) -> None:
    """Run the whole flow once against the sandboxes and check the Xero books; exit 0 only if they are right."""
    from ledgerbridge.cli.demo import run_demo

    _logging("demo")
    raise typer.Exit(run_demo(transactions, timeout))


if __name__ == "__main__":
    app()
