"""The schema is built by Alembic alone, round-trips, and matches the models exactly."""

from __future__ import annotations

import json

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url

from ledgerbridge.common.crypto import webhook_token_hash
from ledgerbridge.common.database import async_database_url, create_engine
from ledgerbridge.common.migrate import downgrade, upgrade
from ledgerbridge.common.models import Base


async def _fresh_database(database_url: str, name: str) -> str:
    server = make_url(async_database_url(database_url))
    admin = await asyncpg.connect(server.set(drivername="postgresql").render_as_string(hide_password=False))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return server.set(database=name).render_as_string(hide_password=False)


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_downgrade_upgrade_and_no_drift(database_url: str) -> None:
    url = await _fresh_database(database_url, f"{make_url(database_url).database}_mig")
    engine = create_engine(url, pool_size=1)
    try:
        upgrade(url)
        async with engine.connect() as connection:
            assert set(Base.metadata.tables) <= await connection.run_sync(_tables)
        downgrade(url, "base")
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) == {"alembic_version"}
        upgrade(url)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_0006_and_0007_fix_stored_data(database_url: str) -> None:
    """Issue 10: templates the grammar refuses are reset to the default (finding 1), webhook tokens are
    hashed in place so partners' URLs keep working (finding 2)."""
    url = await _fresh_database(database_url, f"{make_url(database_url).database}_data")
    upgrade(url, "0005")
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        stored = {
            "spec": {
                "ontraport": {"invoice_number_template": "{transaction_id:x>5000000}", "time_zone": "UTC"}
            },
            "fine": {"ontraport": {"invoice_number_template": "{{OP}}-{transaction_id}"}},
            "long": {"ontraport": {"reference_template": "x" * 300}},
        }
        accounts = {}
        for name, values in stored.items():
            accounts[name] = await connection.fetchval(
                "INSERT INTO accounts (id, company, plan, trial_used, trial_limit) "
                "VALUES (gen_random_uuid(), $1, 'trial', 0, 20) RETURNING id",
                name,
            )
            await connection.execute(
                "INSERT INTO account_settings (account_id, values) VALUES ($1, $2::jsonb)",
                accounts[name],
                json.dumps(values),
            )
        await connection.execute(
            "INSERT INTO connections (id, account_id, kind, name, status, credentials, webhook_token) "
            "VALUES (gen_random_uuid(), $1, 'onport', 'Onport', 'active', '', 'the-token-in-the-url')",
            accounts["fine"],
        )
        upgrade(url)
        after = {
            name: json.loads(
                await connection.fetchval(
                    "SELECT values::text FROM account_settings WHERE account_id = $1", account
                )
            )
            for name, account in accounts.items()
        }
        assert after["spec"] == {"ontraport": {"time_zone": "UTC"}}
        assert after["fine"] == stored["fine"]
        assert after["long"] == {"ontraport": {}}
        token = await connection.fetchval("SELECT webhook_token FROM connections")
        assert token == webhook_token_hash("the-token-in-the-url")
    finally:
        await connection.close()
