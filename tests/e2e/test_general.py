"""/start, /help (what this caller can do here), /lang, and the English locale."""

from __future__ import annotations

import re

from tests.auxil.harness import SUPERADMIN, Harness
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_WORKER,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    code_in,
    community,
    people,
)


async def test_start_in_private_explains_the_bot(h: Harness) -> None:
    people(h)
    reply = await h.say(RESIDENT, RESIDENT, "/start")
    assert "议事" in (reply.text or "") and "/register" in (reply.text or "")
    async with h.services.database.transaction() as repos:
        user = await repos.users.get(RESIDENT)
    assert user is not None and user.started


async def test_help_depends_on_role_and_place(h: Harness) -> None:
    await community(h)

    def commands(text: str | None) -> set[str]:
        return set(re.findall(r"^/(\w+) —", text or "", flags=re.MULTILINE))

    resident = await h.say(BUILDING_CHAT, RESIDENT, "/help")
    head = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/help")
    worker = await h.say(BUILDING_CHAT, GRID_WORKER, "/help")
    assert "你在这里的身份：居民" in (resident.text or "")
    assert commands(resident.text) == {
        "start",
        "help",
        "lang",
        "register",
        "roles",
        "topics",
        "result",
        "opinion",
        "propose",
        "meetings",
    }
    assert "你在这里的身份：楼栋长" in (head.text or "")
    assert commands(head.text) - commands(resident.text) == {
        "members",
        "invite",
        "revoke",
        "share",
        "role",
        "unrole",
        "topic",
        "escalate",
        "close",
        "extend",
        "cancel",
        "nudge",
        "ballot",
        "export",
        "stats",
        "meeting",
        "cancelmeeting",
        "agenda",
        "minutes",
    }
    assert commands(worker.text) - commands(head.text) == {"unbind", "resolve", "progress"}
    private = await h.say(RESIDENT, RESIDENT, "/help")
    assert commands(private.text) == {"start", "help", "lang", "link", "web", "result", "opinion"}
    # The staff group's /help lists the staff's commands, and none only WeCom answers.
    staff = commands((await h.say(STAFF_CHAT, STAFF, "/help")).text)
    assert {"subscribe", "digest", "export", "newgrid", "publish"} <= staff
    assert "pushwebhook" not in staff


async def test_the_command_menus_leave_out_what_only_wecom_answers(h: Harness) -> None:
    people(h)
    await h.say(RESIDENT, RESIDENT, "/start")
    menus = [str(call.params.get("commands")) for call in h.emu.calls_of("setMyCommands")]
    assert menus and all("pushwebhook" not in menu for menu in menus)
    assert any("digest" in menu for menu in menus)


async def test_lang_switches_a_group_and_a_private_chat(h: Harness) -> None:
    await community(h)
    refused = await h.say(BUILDING_CHAT, RESIDENT, "/lang en")
    assert "只有群管理员" in (refused.text or "")
    switched = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/lang en")
    assert switched.text == "This group's language is now English."
    english = await h.say(BUILDING_CHAT, RESIDENT, "/register 2-502 abc")
    assert "is not an area" in (english.text or "")
    mine = await h.say(RESIDENT, RESIDENT, "/lang en")
    assert mine.text == "Your language is now English."
    bad = await h.say(RESIDENT, RESIDENT, "/lang fr")
    assert "not a supported language" in (bad.text or "")
    usage = await h.say(RESIDENT, RESIDENT, "/lang")
    assert "Usage" in (usage.text or "")


async def test_command_menus_are_published_per_language(h: Harness) -> None:
    people(h)
    await h.say(RESIDENT, RESIDENT, "/start")
    calls = h.emu.calls_of("setMyCommands")
    languages = {call.params.get("language_code") for call in calls}
    assert {"zh", "en"} <= languages
    admin_menus = [c for c in calls if "administrators" in str(c.params.get("scope"))]
    assert any("setup" in str(call.params.get("commands")) for call in admin_menus)


async def test_the_setup_flow_in_english(h_en: Harness) -> None:
    h = h_en
    people(h)
    await h.group(STAFF_CHAT, "Staff", admins=[SUPERADMIN])
    done = await h.say(STAFF_CHAT, SUPERADMIN, "/setup Harmony")
    assert "staff group of the community" in (done.text or "")
    issued = await h.say(STAFF_CHAT, SUPERADMIN, "/newgrid Grid One")
    assert "A bind code for the grid" in (issued.text or "")
    await h.group(-77, "Grid", admins=[SUPERADMIN])
    bound = await h.say(-77, SUPERADMIN, f"/bind {code_in(issued.text)}")
    assert "bound as the grid" in (bound.text or "")
    refused = await h.say(-77, SUPERADMIN, "/register 1-1")
    assert "building group" in (refused.text or "")
