"""A small community, built through the bot as its people would build it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.sql import Select

from tests.auxil.harness import SUPERADMIN, Harness

STAFF_CHAT, GRID_CHAT, BUILDING_CHAT, OTHER_BUILDING_CHAT = -1001, -1002, -1003, -1004
STAFF, GRID_WORKER, BUILDING_HEAD, RESIDENT, NEIGHBOUR, OUTSIDER = 2, 3, 4, 5, 6, 7
CODE = re.compile(r"/bind ([a-z0-9]+)")


@dataclass
class Community:
    staff_chat: int = STAFF_CHAT
    grid_chat: int = GRID_CHAT
    building_chat: int = BUILDING_CHAT


def code_in(text: str | None) -> str:
    match = CODE.search(text or "")
    assert match, f"no /bind code in {text!r}"
    return match.group(1)


def people(h: Harness) -> None:
    h.user(SUPERADMIN, "王主任")
    h.user(STAFF, "李社工")
    h.user(GRID_WORKER, "张网格")
    h.user(BUILDING_HEAD, "赵楼长")
    h.user(RESIDENT, "钱阿姨")
    h.user(NEIGHBOUR, "孙大爷")
    h.user(OUTSIDER, "周路人")


async def community(h: Harness) -> Community:
    """社区 → 网格 → 楼栋, with roles: staff, grid worker, building head; two residents."""
    people(h)
    await h.group(STAFF_CHAT, "幸福社区工作群", members=[STAFF], admins=[SUPERADMIN])
    await h.say(STAFF_CHAT, SUPERADMIN, "/setup 幸福社区")
    staff_hello = h.emu.send_message(STAFF_CHAT, STAFF, "大家好")
    await h.say(STAFF_CHAT, SUPERADMIN, "/role community_staff", reply_to=staff_hello.message_id)
    issued = await h.say(STAFF_CHAT, STAFF, "/newgrid 第一网格")
    await h.group(GRID_CHAT, "第一网格群", members=[GRID_WORKER], admins=[STAFF])
    await h.say(GRID_CHAT, STAFF, f"/bind {code_in(issued.text)}")
    worker_hello = h.emu.send_message(GRID_CHAT, GRID_WORKER, "我是网格员")
    await h.say(GRID_CHAT, STAFF, "/role grid_worker", reply_to=worker_hello.message_id)
    issued = await h.say(GRID_CHAT, GRID_WORKER, "/newbuilding 1号楼")
    await h.group(
        BUILDING_CHAT,
        "1号楼议事群",
        members=[BUILDING_HEAD, RESIDENT, NEIGHBOUR],
        admins=[GRID_WORKER],
    )
    await h.say(BUILDING_CHAT, GRID_WORKER, f"/bind {code_in(issued.text)}")
    head_hello = h.emu.send_message(BUILDING_CHAT, BUILDING_HEAD, "我是楼栋长")
    await h.say(BUILDING_CHAT, GRID_WORKER, "/role building_head", reply_to=head_hello.message_id)
    return Community()


async def count(h: Harness, query: Select[tuple[int]]) -> int:
    async with h.services.database.transaction() as repos:
        return int((await repos.connection.execute(query)).scalar_one())


def rows(table: object) -> Select[tuple[int]]:
    return select(func.count()).select_from(table)  # type: ignore[arg-type]
