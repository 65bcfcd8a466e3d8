"""A throwaway PostgreSQL database, created empty and dropped afterwards: for the tests and
the benchmarks, never the product (its SQL names the database in the text: no bound
parameters for CREATE DATABASE)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from storage.database import Database


@asynccontextmanager
async def scratch_database(
    server_url: str, *, prefix: str, template: str | None = None
) -> AsyncIterator[str]:
    """Yield the URL of a new database on the server ``server_url`` names; dropped on exit.
    Empty, or a copy of the database ``template`` (which nobody may be connected to).

    The name is ``prefix`` and random hex (letters, digits, underscores only), so quoting it
    into CREATE/DROP, which take no bound parameters, is safe; ``template`` is the tests' own
    name, never a user's."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = Database(server_url)
    autocommit = admin.engine.execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with autocommit.connect() as connection:
            copying = f' TEMPLATE "{template}"' if template is not None else ""
            await connection.execute(text(f'CREATE DATABASE "{name}"{copying}'))
        try:
            yield server_url.rsplit("/", 1)[0] + f"/{name}"
        finally:
            async with autocommit.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.close()
