"""``yishi db downgrade [REVISION]``: back to an older schema where a migration can go back
without losing what people did, refused with the reason where it cannot.

Every migration has a rule here (a test holds the table complete, so a new migration must
decide): it goes back, it goes back only while the rows its downgrade would discard do not
exist, or it never goes back (it drops the record, which is kept forever). The checks and the
downgrade run in one transaction, so nothing written between them can be lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import migrate
from storage.backup.facts import (
    BackupRefused,
    capitalised,
    is_known,
    running_instance,
    script_directory,
    shown,
)
from storage.database import Database

BASE = "base"


@dataclass(frozen=True)
class GoesBack:
    why: str  # why nothing of value is lost


@dataclass(frozen=True)
class LosesRows:
    lost: str  # what the rows counted are, as "N <lost>"
    count_sql: str
    instead: str = ""


@dataclass(frozen=True)
class NeverGoesBack:
    reason: str


Rule = GoesBack | LosesRows | NeverGoesBack

RULES: dict[str, Rule] = {
    "0001": NeverGoesBack(
        "it drops the organisation tree, people, roles, households and the audit log "
        "(everything); to start over, use a new, empty database"
    ),
    "0002": NeverGoesBack(
        "it drops topics, ballots and opinions: the consultation record, which is kept forever"
    ),
    "0003": NeverGoesBack(
        "it drops escalations, resolutions and ratings: the record of escalated matters"
    ),
    "0004": LosesRows(
        "meetings (with their agenda, RSVPs and minutes) would be lost",
        "SELECT count(*) FROM meetings",
    ),
    "0005": LosesRows(
        "updates received but not handled yet would be lost",
        "SELECT count(*) FROM inbox WHERE handled_at IS NULL",
        "run the bot until it has handled them, stop it, then downgrade",
    ),
    "0006": LosesRows(
        "posts or announcements in forum threads would lose their thread",
        "SELECT (SELECT count(*) FROM topic_posts WHERE message_thread_id IS NOT NULL)"
        " + (SELECT count(*) FROM outbox WHERE message_thread_id IS NOT NULL)"
        " + (SELECT count(*) FROM meetings WHERE message_thread_id IS NOT NULL)"
        " + (SELECT count(*) FROM meeting_posts WHERE message_thread_id IS NOT NULL)",
    ),
    "0007": GoesBack(
        "registration_cards only say which message shows a building's pending "
        "registrations; the registrations stay"
    ),
    "0008": LosesRows(
        "announcements being sent in several messages (a digest) would be sent again "
        "from their first message",
        "SELECT count(DISTINCT p.outbox_id) FROM outbox_parts p JOIN outbox o "
        "ON o.id = p.outbox_id WHERE o.sent_at IS NULL AND NOT o.failed",
        "run the bot until they are sent, stop it, then downgrade",
    ),
    "0009": GoesBack(
        "app_settings holds the generated webhook secret, which the older release does not "
        "use; a new one is generated after the next upgrade"
    ),
    "0010": LosesRows(
        "chats or people on a platform other than Telegram would be lost",
        "SELECT (SELECT count(*) FROM chats WHERE platform <> 'telegram')"
        " + (SELECT count(*) FROM users WHERE platform <> 'telegram')",
    ),
    "0011": GoesBack("it only drops the CHECK constraints on the state columns; no row changes"),
    "0012": LosesRows(
        "people's joined Telegram and WeCom identities (/link) would come apart",
        "SELECT count(*) FROM users WHERE acts_as IS NOT NULL",
    ),
    "0013": LosesRows(
        "WeCom groups' push webhooks (/pushwebhook) would be lost",
        "SELECT count(*) FROM push_webhooks",
        "after upgrading again, set them with /pushwebhook in each staff group",
    ),
    "0014": LosesRows(
        "people signed in to the web pages would be signed out",
        "SELECT count(*) FROM web_sessions WHERE revoked_at IS NULL",
        "after upgrading again, they sign in again (/web, or the Mini App)",
    ),
    "0015": LosesRows(
        "household invitations (/invite) and the web-only residents they made would be lost",
        "SELECT (SELECT count(*) FROM household_invitations)"
        " + (SELECT count(*) FROM users WHERE platform = 'web')",
    ),
    "0016": LosesRows(
        "calendar feed links and public record pages (/publish on) would be lost",
        "SELECT (SELECT count(*) FROM calendar_feeds) + (SELECT count(*) FROM public_pages)",
        "after upgrading again, make new feed links on the meetings page and /publish on again",
    ),
    "0017": GoesBack("it only drops an index of topics (by node and date); no row changes"),
    "0018": LosesRows(
        "which vote a grid opened on an escalated matter (the board's 网格表决中) would be lost",
        "SELECT count(*) FROM escalations WHERE vote_topic_id IS NOT NULL",
    ),
    "0019": GoesBack("it only drops an index of ballots (by topic and option); no row changes"),
    "0020": GoesBack(
        "it only drops two indexes (registrations by building, memberships by person); no row "
        "changes"
    ),
}


@dataclass(frozen=True)
class Downgraded:
    before: str
    after: str  # a revision, or "base"


def _steps(current: str, target: str | None) -> tuple[str, list[str]]:
    """The target (one step back by default) and the revisions undone to reach it, newest
    first; refuses a target that is not behind ``current``."""
    scripts = script_directory()
    chain: list[str] = []
    revision: str | None = current
    while revision is not None:
        chain.append(revision)
        script = scripts.get_revision(revision)
        assert script is not None
        down = script.down_revision
        assert down is None or isinstance(down, str)  # one line of history, no merges
        revision = down
    if target is None:
        target = chain[1] if len(chain) > 1 else BASE
    if target == current:
        raise BackupRefused(f"The database is at revision {current} already: nothing to do.")
    if target != BASE and target not in chain:
        known = [script.revision for script in scripts.walk_revisions()]
        if target in known:
            raise BackupRefused(
                f"Revision {target} is newer than the database's ({current}): that is an "
                "upgrade (`yishi db upgrade`), not a downgrade."
            )
        raise BackupRefused(
            f"There is no revision {target}; this Yishi knows {', '.join(sorted(known))} and "
            f"{BASE} (the empty database)."
        )
    undone = chain if target == BASE else chain[: chain.index(target)]
    return target, undone


def _refusals(connection: Connection, undone: list[str]) -> list[str]:
    refusals = []
    for revision in undone:
        rule = RULES.get(revision)
        if rule is None:
            refusals.append(f"{revision} has no downgrade rule in storage/downgrade.py")
        elif isinstance(rule, NeverGoesBack):
            refusals.append(f"{revision} cannot go back: {rule.reason}")
        elif isinstance(rule, LosesRows):
            count = int(connection.execute(text(rule.count_sql)).scalar_one())
            if count:
                instead = f" ({rule.instead})" if rule.instead else ""
                refusals.append(f"{revision} cannot go back now: {count} {rule.lost}{instead}")
    return refusals


async def downgrade(database: Database, target: str | None = None) -> Downgraded:
    current = await migrate.current_revision(database)
    if current is None:
        raise BackupRefused(
            f"{capitalised(shown(database.url))} has no schema yet: nothing to downgrade."
        )
    if not is_known(current):
        raise BackupRefused(
            f"{capitalised(shown(database.url))} is at revision {current}, which this Yishi "
            "does not know: a newer release upgraded it. Downgrade it with that release's "
            "`yishi db downgrade`."
        )
    target, undone = _steps(current, target)

    def checked_downgrade(sync: Connection) -> list[str]:
        refusals = _refusals(sync, undone)
        if not refusals:
            config = migrate.alembic_config()
            config.attributes["connection"] = sync
            command.downgrade(config, target)
            _check_references(sync)
        return refusals

    sqlite = database.dialect == "sqlite"
    async with database.engine.connect() as connection:
        if sqlite:
            await connection.run_sync(migrate.sqlite_foreign_keys, False)
        try:
            async with connection.begin():
                await _refuse_while_running(connection, database.url)
                refusals = await connection.run_sync(checked_downgrade)
        finally:
            if sqlite:
                await connection.run_sync(migrate.sqlite_foreign_keys, True)
    if refusals:
        raise BackupRefused(
            f"Cannot downgrade {shown(database.url)} from {current} to {target}:\n  "
            + "\n  ".join(refusals)
            + "\nNothing was changed. To go further back, restore a backup taken before the "
            "upgrade (`yishi db restore`)."
        )
    return Downgraded(current, target)


async def _refuse_while_running(connection: AsyncConnection, url: str) -> None:
    holder = await running_instance(connection)
    if holder is not None:
        raise BackupRefused(
            f"A Yishi instance is running on {shown(url)} ({holder}): stop it before "
            "downgrading (a running bot expects the schema it was started with)."
        )


def _check_references(connection: Connection) -> None:
    broken = migrate.broken_references(connection)
    if broken:
        raise BackupRefused(
            f"The downgrade would leave rows referring to missing rows ({broken[:3]}); it was "
            "rolled back, nothing was changed."
        )
