"""``yishi db backup PATH | restore PATH [--force] | downgrade [REVISION]``: the operator's
side (what is printed, the exit status) of storage/backup and storage/downgrade."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.settings import Settings

EXIT_REFUSED = 1

SECRET_SALTS = """\
This backup holds the salts of {count} open secret ballot(s) ({topics}): with the file and
the list of users, someone can tell who chose what in them. Keep it encrypted, and delete it
(or replace it by a backup taken after they close) once they close. See README.md,
"Backup and restore"."""


def add_commands(db_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = db_commands.add_parser(
        "backup",
        help="write a consistent copy of the database while the bot runs",
        description="SQLite: one SQLite file (SQLite's backup API). PostgreSQL: a pg_dump "
        "custom-format file (pg_dump of the server's version or newer must be installed).",
    )
    backup.add_argument("path", type=Path, help="a new file, or a directory for a dated one")
    restore = db_commands.add_parser(
        "restore",
        help="put a backup into the database (DATABASE_URL); the bot must be stopped",
        description="Refuses a database that holds data unless --force, and a backup made by "
        "a newer Yishi; a backup from an older one is restored, then upgraded.",
    )
    restore.add_argument("path", type=Path, help="a file made by `yishi db backup`")
    restore.add_argument(
        "--force", action="store_true", help="replace the data the database holds now"
    )
    downgrade = db_commands.add_parser(
        "downgrade",
        help="go back to an older schema, where no data would be lost",
        description="Refused, with the reason, where a migration cannot go back.",
    )
    downgrade.add_argument(
        "revision", nargs="?", help="the revision to go back to (default: one step back)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from storage.backup import BackupRefused
    from storage.backup.facts import shown

    try:
        if args.db_command == "backup":
            return asyncio.run(_backup(settings.database_url, args.path))
        if args.db_command == "restore":
            return asyncio.run(_restore(settings.database_url, args.path, force=args.force))
        return asyncio.run(_downgrade(settings.database_url, args.revision))
    except BackupRefused as refused:
        print(refused, file=sys.stderr)
        return EXIT_REFUSED
    except (OSError, SQLAlchemyError) as error:  # the server is down, a wrong password, ...
        where = shown(settings.database_url)
        print(f"Could not use {where}: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_REFUSED


async def _backup(url: str, path: Path) -> int:
    from storage.backup import backup
    from storage.backup.facts import shown

    made = await backup(url, path)
    print(f"Backed up {shown(url)} (schema revision {made.revision}) to {made.path}.")
    if made.open_secret_topics:
        topics = ", ".join(f"#{topic}" for topic in made.open_secret_topics)
        print(SECRET_SALTS.format(count=len(made.open_secret_topics), topics=topics))
    return 0


async def _restore(url: str, path: Path, *, force: bool) -> int:
    from storage.backup import restore
    from storage.backup.facts import shown

    restored = await restore(url, path, force=force)
    replaced = " (--force: what it held was replaced)" if restored.replaced_tables else ""
    print(f"Restored {path} into {shown(url)}{replaced}.")
    if restored.backup_revision != restored.revision:
        print(
            f"The backup was at schema revision {restored.backup_revision}; upgraded to "
            f"{restored.revision}, as `yishi run` would."
        )
    else:
        print(f"Schema revision {restored.revision}.")
    return 0


async def _downgrade(url: str, revision: str | None) -> int:
    from storage.database import Database
    from storage.downgrade import downgrade

    database = Database(url)
    try:
        done = await downgrade(database, revision)
    finally:
        await database.close()
    print(f"Downgraded from revision {done.before} to {done.after}.")
    return 0
