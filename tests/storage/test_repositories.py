"""The repositories behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from storage import migrate
from storage.database import Database
from storage.tables import metadata, nodes

NOW = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)


async def _tree(database: Database) -> tuple[int, int, int]:
    async with database.transaction() as repos:
        community = await repos.orgs.create_node(
            level="community", name="幸福社区", parent_id=None, created_by=1, now=NOW
        )
        grid = await repos.orgs.create_node(
            level="grid", name="第一网格", parent_id=community.id, created_by=1, now=NOW
        )
        building = await repos.orgs.create_node(
            level="building", name="1号楼", parent_id=grid.id, created_by=1, now=NOW
        )
    return community.id, grid.id, building.id


async def test_migrations_create_every_table(database: Database) -> None:
    async with database.connection() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert set(metadata.tables) <= names
    assert await migrate.current_revision(database) is not None


async def test_upgrade_twice_is_a_no_op(database: Database) -> None:
    before = await migrate.current_revision(database)
    await migrate.upgrade(database)
    assert await migrate.current_revision(database) == before


async def test_tree_ancestry_and_descendants(database: Database) -> None:
    community, grid, building = await _tree(database)
    async with database.transaction() as repos:
        chain = await repos.orgs.ancestry(building)
        below = await repos.orgs.descendants(community)
        children = await repos.orgs.children(grid)
        named = await repos.orgs.child_named(grid, "building", "1号楼")
    assert [node.id for node in chain] == [building, grid, community]
    assert {node.id for node in below} == {grid, building}
    assert [node.name for node in children] == ["1号楼"]
    assert named is not None and named.id == building
    assert chain[0].created_at == NOW


async def test_binding_is_unique_per_chat_and_follows_migration(database: Database) -> None:
    community, grid, _ = await _tree(database)
    async with database.transaction() as repos:
        await repos.orgs.bind(node_id=community, chat_id=-100, bound_by=1, now=NOW)
    with pytest.raises(IntegrityError):
        async with database.transaction() as repos:
            await repos.orgs.bind(node_id=grid, chat_id=-100, bound_by=1, now=NOW)
    async with database.transaction() as repos:
        assert await repos.orgs.move_binding(-100, -1000100)
        node = await repos.orgs.node_of_chat(-1000100)
        assert await repos.orgs.node_of_chat(-100) is None
    assert node is not None and node.id == community


async def test_bind_code_is_single_use(database: Database) -> None:
    community, _, _ = await _tree(database)
    async with database.transaction() as repos:
        await repos.orgs.add_code(
            code="abc234defg",
            parent_id=community,
            level="grid",
            name="二网格",
            node_id=None,
            created_by=1,
            now=NOW,
            expires_at=NOW + timedelta(hours=24),
        )
    async with database.transaction() as repos:
        assert await repos.orgs.use_code("abc234defg", user_id=2, chat_id=-5, now=NOW)
        assert not await repos.orgs.use_code("abc234defg", user_id=3, chat_id=-6, now=NOW)
        code = await repos.orgs.code("abc234defg")
    assert code is not None and code.used_at == NOW
    assert code.expires_at == NOW + timedelta(hours=24)


async def test_users_upsert_keeps_first_seen_and_preferences(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.users.seen(
            user_id=7, first_name="王", last_name=None, username=None, language_code="zh", now=NOW
        )
        await repos.users.set_locale(7, "en")
        await repos.users.seen(
            user_id=7,
            first_name="王芳",
            last_name="李",
            username="wf",
            language_code="zh",
            now=NOW + timedelta(minutes=5),
        )
        user = await repos.users.get(7)
    assert user is not None
    assert (user.first_name, user.last_name, user.locale) == ("王芳", "李", "en")


async def test_role_grant_is_one_per_user_and_node(database: Database) -> None:
    _, grid, building = await _tree(database)
    async with database.transaction() as repos:
        await repos.users.seen(
            user_id=7, first_name="王", last_name=None, username=None, language_code=None, now=NOW
        )
        await repos.roles.grant(
            user_id=7, node_id=building, role="building_officer", granted_by=1, now=NOW
        )
        await repos.roles.grant(
            user_id=7, node_id=building, role="building_head", granted_by=1, now=NOW
        )
        await repos.roles.grant(user_id=7, node_id=grid, role="grid_worker", granted_by=1, now=NOW)
        grants = await repos.roles.of_user(7, [building, grid])
        at_building = await repos.roles.at_nodes([building])
        assert await repos.roles.revoke(user_id=7, node_id=grid)
        assert not await repos.roles.revoke(user_id=7, node_id=grid)
    assert sorted(grant.role for grant in grants) == ["building_head", "grid_worker"]
    assert [grant.role for grant in at_building] == ["building_head"]


async def test_registration_replaces_and_decides_once(database: Database) -> None:
    _, _, building = await _tree(database)
    async with database.transaction() as repos:
        await repos.users.seen(
            user_id=9, first_name="李", last_name=None, username=None, language_code=None, now=NOW
        )
        household = await repos.households.ensure_household(building, "2-502", NOW)
        again = await repos.households.ensure_household(building, "2-502", NOW)
        first = await repos.households.register(
            user_id=9,
            node_id=building,
            household_id=household.id,
            area=Decimal("89.50"),
            status="pending",
            now=NOW,
        )
        second = await repos.households.register(
            user_id=9,
            node_id=building,
            household_id=household.id,
            area=Decimal("90.00"),
            status="pending",
            now=NOW,
        )
        assert await repos.households.decide(second, status="approved", decided_by=1, now=NOW)
        assert not await repos.households.decide(second, status="rejected", decided_by=1, now=NOW)
        await repos.households.set_area(household.id, Decimal("90.00"))
        registration = await repos.households.registration(second)
        listing = await repos.households.registrations_of(building)
        counts = await repos.households.count_by_status(building)
        stored = await repos.households.household(building, "2-502")
    assert household.id == again.id
    assert first == second
    assert registration is not None and registration.status == "approved"
    assert registration.area == Decimal("90.00") and registration.unit == "2-502"
    assert [r.id for r in listing] == [second]
    assert counts == {"approved": 1}
    assert stored is not None and stored.area == Decimal("90.00")


async def test_area_constraint_refuses_absurd_values(database: Database) -> None:
    _, _, building = await _tree(database)
    with pytest.raises(IntegrityError):
        async with database.transaction() as repos:
            household = await repos.households.ensure_household(building, "1-101", NOW)
            await repos.households.set_area(household.id, Decimal("20000"))


async def test_audit_log_round_trips_details(database: Database) -> None:
    community, _, _ = await _tree(database)
    async with database.transaction() as repos:
        await repos.audit.record(
            action="role.granted",
            actor_id=1,
            now=NOW,
            node_id=community,
            chat_id=-100,
            role="community_staff",
            user_id=7,
        )
        await repos.audit.record(action="chat.bound", actor_id=1, now=NOW, node_id=community)
        entries = await repos.audit.recent(node_ids=[community])
    assert [entry.action for entry in entries] == ["chat.bound", "role.granted"]
    assert entries[1].details == {"role": "community_staff", "user_id": 7}
    assert entries[1].at == NOW


async def test_a_failed_transaction_leaves_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as repos:
            await repos.orgs.create_node(
                level="community", name="半途", parent_id=None, created_by=1, now=NOW
            )
            raise RuntimeError("boom")
    async with database.transaction() as repos:
        counted = await repos.connection.execute(select(func.count()).select_from(nodes))
        assert counted.scalar_one() == 0


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_database: Database) -> None:
    async with sqlite_database.connection() as connection:
        journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
        foreign = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
        timeout = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
    assert (journal, foreign) == ("wal", 1)
    assert timeout >= 5000
