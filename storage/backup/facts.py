"""What a backup, a restore or a downgrade needs to know about a database: its schema
revision against this code's, whether it holds data, whether a bot runs on it, and which open
secret ballots a copy of it would hold the salts of."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import delete, exists, inspect, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.migrate import alembic_config
from storage.tables import instance_lease, topics


class BackupRefused(Exception):
    """A backup, restore or downgrade that was not done; the message says why and what to do
    instead, for the operator at the shell."""


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def code_head() -> str:
    head = script_directory().get_current_head()
    assert head is not None
    return head


def is_known(revision: str) -> bool:
    try:
        return script_directory().get_revision(revision) is not None
    except CommandError:
        return False


def shown(url: str) -> str:
    """The database as an operator recognises it, without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite database {parsed.database}"
    return f"the PostgreSQL database {parsed.render_as_string(hide_password=True)}"


def capitalised(phrase: str) -> str:
    """A phrase (the database, as shown) at the start of a sentence."""
    return phrase[:1].upper() + phrase[1:]


def check_restorable(revision: str | None, source: str) -> None:
    """A backup this code can run: it has a revision, and one this code knows."""
    if revision is None:
        raise BackupRefused(
            f"{source} has no schema revision (no alembic_version row): it is not a backup "
            "made by `yishi db backup`. Nothing was changed."
        )
    if not is_known(revision):
        raise BackupRefused(
            f"{source} is at schema revision {revision}, which this Yishi does not know (its "
            f"newest is {code_head()}): the backup was made by a newer release of Yishi. "
            "Upgrade Yishi to that release or a later one, then restore. Nothing was changed."
        )


async def _table_names(connection: AsyncConnection) -> list[str]:
    return await connection.run_sync(lambda sync: inspect(sync).get_table_names())


async def tables_with_data(connection: AsyncConnection) -> list[str]:
    """The tables that make this database one "with data": any table with a row, and
    ``alembic_version`` even when it is all there is (a migrated, empty Yishi database)."""
    found = []
    for name in sorted(await _table_names(connection)):
        if (
            name == "alembic_version"
            or (await connection.execute(select(exists().select_from(table(name))))).scalar_one()
        ):
            found.append(name)
    return found


async def running_instance(connection: AsyncConnection) -> str | None:
    """The holder of a live lease on this database (a `yishi run` on it), if any."""
    if "instance_lease" not in await _table_names(connection):
        return None
    now = datetime.now(UTC)  # the lease's times are wall-clock times (bot/lease.py)
    holder = await connection.execute(
        select(instance_lease.c.holder).where(instance_lease.c.expires_at > now)
    )
    return holder.scalar_one_or_none()


async def forget_lease(connection: AsyncConnection) -> None:
    """No process runs on a database just restored: its copy of the lease of the bot that ran
    on the original would make the next `yishi run` wait for that lease to expire."""
    await connection.execute(delete(instance_lease))


async def open_secret_topics(connection: AsyncConnection) -> list[int]:
    """Open secret ballots: their per-topic salt is in the database until they close."""
    if "topics" not in await _table_names(connection):
        return []
    ids = await connection.execute(
        select(topics.c.id).where(topics.c.ballot_salt.is_not(None)).order_by(topics.c.id)
    )
    return list(ids.scalars())
