"""The schema is built by Alembic alone, round-trips, and matches the models exactly."""

from __future__ import annotations

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url

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
