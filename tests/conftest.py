"""Shared fixtures: databases (SQLite and PostgreSQL) and the end-to-end harness."""

from __future__ import annotations

import os

# python-telegram-bot 22 warns (an error under our filterwarnings) unless opted in to timedeltas.
os.environ.setdefault("PTB_TIMEDELTA", "1")
import asyncio
import atexit
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import migrate
from storage.database import Database
from tests.auxil.scratch import scratch_database

POSTGRES_URL = os.environ.get(
    "YISHI_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
# .ci/run sets this so that an unreachable PostgreSQL fails the run instead of skipping.
REQUIRE_POSTGRES = os.environ.get("YISHI_REQUIRE_POSTGRES", "") not in ("", "0", "false")


async def _postgres_reachable() -> str | None:
    """None if PostgreSQL answers, else why not."""
    probe = Database(POSTGRES_URL)
    try:
        async with probe.connection() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect means "not available here"
        return f"{type(error).__name__}: {error}"
    finally:
        await probe.close()
    return None


async def require_postgres() -> None:
    """Skip (locally) or fail (in CI) when PostgreSQL does not answer."""
    problem = await _postgres_reachable()
    if problem is not None:
        message = f"PostgreSQL at {POSTGRES_URL} is not reachable ({problem})"
        if REQUIRE_POSTGRES:
            pytest.fail(f"{message}; YISHI_REQUIRE_POSTGRES is set")
        pytest.skip(f"{message}; set YISHI_TEST_POSTGRES_URL to run these tests")


# Migrating a database from empty (every revision; on SQLite, batch mode rebuilding tables)
# took about 0.8 s of a loaded machine's CPU, and most tests start with a migrated database:
# each worker process migrates one of each kind once and copies it for every test (a SQLite
# file; a PostgreSQL database made from a template). The copies are as fresh as a migrated
# database can be; tests/storage/test_migrations.py still migrates from empty each time.
_templates: dict[str, str] = {}
_postgres_templates: list[str] = []  # every one made, to drop at the end
_template_directory = Path(tempfile.mkdtemp(prefix="yishi-test-templates-"))
atexit.register(shutil.rmtree, _template_directory, ignore_errors=True)
TEMPLATE_SCHEMA = "yishi_test"


def _copy_if_absent(template: str, path: Path) -> bool:
    if path.exists():
        return False
    shutil.copyfile(template, path)
    return True


async def migrated_sqlite_copy(path: Path) -> bool:
    """Put a migrated SQLite database at ``path`` unless a file is there already (then say
    False: it is left as it is)."""
    template = _templates.get("sqlite")
    if template is None:
        template_path = _template_directory / "migrated.db"
        database = Database(f"sqlite+aiosqlite:///{template_path}")
        try:
            await migrate.upgrade(database)
        finally:
            await database.close()  # the last connection closed: the WAL is checkpointed away
        template = _templates["sqlite"] = str(template_path)
    return _copy_if_absent(template, path)


@asynccontextmanager
async def open_sqlite(path: Path, *, from_empty: bool = False) -> AsyncIterator[Database]:
    """A migrated SQLite database at ``path``: a copy of this worker's migrated one, unless
    the file exists already or ``from_empty`` asks for every migration to run on it."""
    copied = not from_empty and await migrated_sqlite_copy(path)
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        if not copied:
            await migrate.upgrade(database)
        yield database
    finally:
        await database.close()


async def _postgres_template(kind: str, schema: str | None) -> str:
    """The name of this worker's migrated template database of ``kind`` (made once; no
    connection stays open to it, as CREATE DATABASE ... TEMPLATE requires)."""
    name = _templates.get(kind)
    if name is None:
        name = f"yishi_template_{kind}_{secrets.token_hex(6)}"
        _postgres_templates.append(name)
        admin = Database(POSTGRES_URL)
        autocommit = admin.engine.execution_options(isolation_level="AUTOCOMMIT")
        try:
            async with autocommit.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await admin.close()
        url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        if schema is not None:
            maker = Database(url)
            try:
                async with maker.engine.begin() as connection:
                    await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            finally:
                await maker.close()
        database = Database(url, schema=schema)
        try:
            await migrate.upgrade(database)
        finally:
            await database.close()
        _templates[kind] = name
    return name


def _drop_postgres_templates() -> None:
    names = list(_postgres_templates)
    if not names:
        return

    async def drop() -> None:
        admin = Database(POSTGRES_URL)
        autocommit = admin.engine.execution_options(isolation_level="AUTOCOMMIT")
        try:
            async with autocommit.connect() as connection:
                for name in names:
                    await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            await admin.close()

    asyncio.run(drop())


def pytest_sessionfinish(session: pytest.Session) -> None:
    _drop_postgres_templates()


# The tests that take from 20 s to a minute and a half each on a 2-core machine: real bot
# processes killed and restarted, floods, a crowded building's minute (tests/crash all take
# long). pytest-xdist's worksteal hands each worker a contiguous block of the collection and
# idle workers steal from the *end* of a busy one's queue, so in collection order one worker
# got every crash test and ran them one after another while the others had finished.
SLOW = (
    "tests/crash/",
    "tests/reliability/test_floods.py",
    "tests/reliability/test_outgoing_budget.py",
    "tests/reliability/test_quiet_building.py",
    "tests/e2e/test_demo.py",
    "tests/ops/test_downgrade.py",
    "tests/security/test_fuzz_commands.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With several workers, the slow tests go at the head of each worker's block, an equal
    share each; the order is otherwise the collection's."""
    # Each worker collects (the controller does not) and says how many there are.
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    if workers < 2:
        return
    slow = [item for item in items if item.nodeid.startswith(SLOW)]
    rest = [item for item in items if not item.nodeid.startswith(SLOW)]
    ordered: list[pytest.Item] = []
    for worker in range(workers):  # the blocks worksteal deals: len(pending) // workers left
        block = len(rest) // (workers - worker)
        ordered += slow[worker::workers] + rest[:block]
        rest = rest[block:]
    items[:] = ordered + rest


@asynccontextmanager
async def _postgres_copy(kind: str, schema: str | None) -> AsyncIterator[str]:
    await require_postgres()
    template = await _postgres_template(kind, schema)
    async with scratch_database(POSTGRES_URL, prefix="yishi_e2e", template=template) as url:
        yield url


@asynccontextmanager
async def open_postgres(*, from_empty: bool = False) -> AsyncIterator[Database]:
    """A migrated schema of its own in PostgreSQL, dropped afterwards: in a database copied
    from this worker's template, or (``from_empty``) a new schema in the test database, every
    migration run on it."""
    if not from_empty:
        async with _postgres_copy("schema", TEMPLATE_SCHEMA) as url:
            database = Database(url, schema=TEMPLATE_SCHEMA)
            try:
                yield database
            finally:
                await database.close()
        return
    await require_postgres()
    schema = f"yishi_test_{secrets.token_hex(6)}"
    admin = Database(POSTGRES_URL)
    async with admin.engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(POSTGRES_URL, schema=schema)
    try:
        await migrate.upgrade(database)
        yield database
    finally:
        await database.close()
        async with admin.engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.close()


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    async with open_sqlite(tmp_path / "yishi.db") as database:
        yield database


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The same test on both stores."""
    if request.param == "sqlite":
        async with open_sqlite(tmp_path / "yishi.db") as database:
            yield database
    else:
        async with open_postgres() as database:
            yield database


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for a whole application; dropped afterwards."""
    await require_postgres()
    async with scratch_database(POSTGRES_URL, prefix="yishi_e2e") as url:
        yield url


@asynccontextmanager
async def migrated_postgres_database() -> AsyncIterator[str]:
    """A new PostgreSQL database for a whole application, migrated already (the bot's own
    upgrade at start-up finds nothing to do); dropped afterwards."""
    async with _postgres_copy("public", None) as url:
        yield url
