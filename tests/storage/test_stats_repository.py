"""The figures behind /stats and /audit are the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from storage.database import Database
from storage.repositories import Repositories

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=30)
BIG_USER = 7_000_000_001  # Telegram ids do not fit in 32 bits


async def _tree(repos: Repositories) -> tuple[int, int, int, int]:
    community = await repos.orgs.create_node(
        level="community", name="幸福社区", parent_id=None, created_by=1, now=NOW
    )
    grid = await repos.orgs.create_node(
        level="grid", name="第一网格", parent_id=community.id, created_by=1, now=NOW
    )
    building = await repos.orgs.create_node(
        level="building", name="1号楼", parent_id=grid.id, created_by=1, now=NOW
    )
    other = await repos.orgs.create_node(
        level="building", name="2号楼", parent_id=grid.id, created_by=1, now=NOW
    )
    return community.id, grid.id, building.id, other.id


def _outcome(verdict: str, reason: str | None, cast: int, eligible: int) -> dict[str, Any]:
    return {"verdict": verdict, "reason": reason, "cast": cast, "eligible": eligible}


async def _topic(
    repos: Repositories,
    node_id: int,
    *,
    status: str = "closed",
    outcome: dict[str, Any] | None = None,
    closed_at: datetime | None = NOW - timedelta(days=1),
    rule: str = "majority",
    secret: bool = False,
) -> int:
    topic = await repos.topics.create(
        node_id=node_id,
        title="议题",
        description="",
        options=["同意", "反对", "弃权"],
        rule=rule,
        status="open",
        deadline=NOW,
        created_by=1,
        created_at=(closed_at or NOW) - timedelta(days=1),
        secret=secret,
    )
    if status != "open":
        await repos.topics.close(topic.id, status=status, now=closed_at or NOW, outcome=outcome)
    return topic.id


async def _hop(
    repos: Repositories, topic_id: int, from_id: int, to_id: int, reason: str, at: datetime
) -> int:
    hop = await repos.escalations.add(
        topic_id=topic_id,
        from_node_id=from_id,
        to_node_id=to_id,
        reason=reason,
        created_at=at,
        sla_due_at=at + timedelta(days=3),
    )
    return hop.id


async def test_outcomes_turnout_escalations_and_resolution_times(database: Database) -> None:
    async with database.transaction() as repos:
        community, grid, building, other = await _tree(repos)
        passed = await _topic(repos, building, outcome=_outcome("passed", None, 8, 10))
        await _topic(repos, building, outcome=_outcome("rejected", None, 3, 10))
        tied = await _topic(repos, other, outcome=_outcome("unresolved", "tie", 4, 20))
        quiet = await _topic(repos, building, outcome=_outcome("unresolved", "no_votes", 0, 10))
        await _topic(repos, building, rule="opinion", outcome=_outcome("opinion", None, 0, 10))
        await _topic(repos, building, status="cancelled")
        await _topic(repos, building, status="open")
        # Closed at the very end of the window (now): counted.
        await _topic(repos, other, outcome=_outcome("rejected", None, 1, 20), closed_at=NOW)
        # Closed before the window: counts nowhere.
        await _topic(
            repos,
            building,
            outcome=_outcome("passed", None, 10, 10),
            closed_at=NOW - timedelta(days=31),
        )
        # Hops: the tie goes to the grid then the community; the quiet one to the grid.
        first = await _hop(repos, tied, other, grid, "tie", NOW - timedelta(days=1))
        await repos.escalations.transition(first, from_states=("open",), to_state="escalated")
        await _hop(repos, tied, grid, community, "sla_expired", NOW - timedelta(hours=2))
        await _hop(repos, quiet, building, grid, "no_votes", NOW - timedelta(days=1))
        await _hop(repos, passed, building, grid, "manual", NOW - timedelta(days=40))
        await repos.escalations.resolve(
            topic_id=tied,
            node_id=community,
            decision="社区协调",
            resolved_by=2,
            resolved_at=NOW - timedelta(hours=1),
        )
        await repos.escalations.resolve(
            topic_id=quiet,
            node_id=grid,
            decision="网格处理",
            resolved_by=3,
            resolved_at=NOW - timedelta(hours=20),
        )
        # Resolved in the window, but escalated long before: the time counts from the first hop.
        await repos.escalations.resolve(
            topic_id=passed,
            node_id=grid,
            decision="补办",
            resolved_by=3,
            resolved_at=NOW - timedelta(days=2),
        )

    everything = [community, grid, building, other]
    async with database.transaction() as repos:
        stats = repos.stats
        assert await stats.topics_published(everything, SINCE, NOW) == 8
        assert await stats.topics_open(everything) == 1
        assert await stats.outcomes(everything, SINCE, NOW) == {
            ("passed", None): 1,
            ("rejected", None): 2,
            ("unresolved", "tie"): 1,
            ("unresolved", "no_votes"): 1,
            ("opinion", None): 1,
            ("cancelled", None): 1,
        }
        assert await stats.outcomes([other], SINCE, NOW) == {
            ("unresolved", "tie"): 1,
            ("rejected", None): 1,
        }
        turnout = await stats.turnout(everything, SINCE, NOW)
        assert (turnout.topics, turnout.cast, turnout.eligible) == (5, 16, 70)
        alone = await stats.turnout([building], SINCE, NOW)
        assert (alone.topics, alone.cast, alone.eligible) == (3, 11, 30)

        assert await stats.escalations_by_reason(everything, SINCE, NOW) == {
            "tie": 1,
            "sla_expired": 1,
            "no_votes": 1,
        }
        # A building counts what it sent up, not what happened above it.
        assert await stats.escalations_by_reason([other], SINCE, NOW) == {"tie": 1}
        assert await stats.escalations_by_reason([community], SINCE, NOW) == {}
        assert await stats.escalations_waiting(everything) == 3
        assert await stats.escalations_waiting([community]) == 1

        times = sorted(await stats.resolution_times(everything, SINCE, NOW))
        assert times == [timedelta(hours=4), timedelta(hours=23), timedelta(days=38)]
        assert await stats.resolution_times([other], SINCE, NOW) == [timedelta(hours=23)]
        assert await stats.resolution_times([grid], SINCE, NOW) == []


async def test_audit_rows_filtered_by_place_and_user(database: Database) -> None:
    async with database.transaction() as repos:
        community, grid, building, other = await _tree(repos)
        elsewhere = await repos.orgs.create_node(
            level="community", name="别的社区", parent_id=None, created_by=1, now=NOW
        )
        await repos.orgs.bind(node_id=building, chat_id=-3, bound_by=1, now=NOW)
        audit = repos.audit
        await audit.record(action="community.setup", actor_id=1, now=NOW, node_id=community)
        await audit.record(
            action="role.granted", actor_id=2, now=NOW, node_id=grid, user_id=BIG_USER
        )
        await audit.record(action="topic.published", actor_id=4, now=NOW, node_id=building)
        await audit.record(action="topic.published", actor_id=BIG_USER, now=NOW, node_id=other)
        await audit.record(action="language.set", actor_id=4, now=NOW, chat_id=-3, locale="en")
        await audit.record(action="language.set", actor_id=4, now=NOW, chat_id=-99)
        await audit.record(action="community.setup", actor_id=1, now=NOW, node_id=elsewhere.id)
        await audit.record(action="role.granted", actor_id=2, now=NOW, node_id=grid, user_id=5)

    async with database.transaction() as repos:
        chats = await repos.stats.bound_chats([community, grid, building, other])
        assert chats == {-3: building}
        rows = await repos.stats.audit(
            node_ids=[community, grid, building, other], chat_ids=list(chats)
        )
        assert [row.action for row in rows] == [
            "role.granted",
            "language.set",
            "topic.published",
            "topic.published",
            "role.granted",
            "community.setup",
        ]
        assert rows[1].details == {"locale": "en"}
        limited = await repos.stats.audit(node_ids=[grid, building], chat_ids=[], limit=2)
        assert [row.action for row in limited] == ["role.granted", "topic.published"]
        mine = await repos.stats.audit(
            node_ids=[community, grid, building, other], chat_ids=list(chats), user_id=BIG_USER
        )
        # By the user, or about them (a role granted to them).
        assert [(row.action, row.actor_id) for row in mine] == [
            ("topic.published", BIG_USER),
            ("role.granted", 2),
        ]
        nobody = await repos.stats.audit(node_ids=[community], chat_ids=[], user_id=5)
        assert nobody == []


async def test_secret_topics_and_role_nodes(database: Database) -> None:
    async with database.transaction() as repos:
        community, _, building, _ = await _tree(repos)
        secret = await _topic(repos, building, secret=True, status="open")
        public = await _topic(repos, building, status="open")
        await repos.users.seen(
            user_id=BIG_USER,
            first_name="王",
            last_name=None,
            username=None,
            language_code=None,
            now=NOW,
        )
        await repos.roles.grant(
            user_id=BIG_USER, node_id=community, role="community_admin", granted_by=1, now=NOW
        )
    async with database.transaction() as repos:
        assert await repos.stats.secret_topics([secret, public, 999]) == {secret}
        assert await repos.stats.secret_topics([]) == set()
        assert await repos.stats.nodes_with_role(BIG_USER, "community_admin") == [community]
        assert await repos.stats.nodes_with_role(BIG_USER, "community_staff") == []
        assert await repos.stats.nodes_at_level("community") == [community]
