"""What happens in the demo, and what its people are called and type, in each language.

社区 → 网格 → two 楼栋: set up and bound; roles given; households register; a topic in
building A passes; a topic in building B ties and goes up to the grid; the grid worker
resolves it and the decision reaches building B, where residents rate it; the monthly
consultation day is scheduled and its reminder arrives; the staff chat gets the Monday
digest with its chart. Time moves on the injected clock; nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TextIO

from bot.demo.runner import DemoFailed, DemoRun, bind_code
from bot.demo.web_pages import resident_pages, screenshots
from channels.web.channel import WebBeside

SUPERADMIN = 1
STAFF_CHAT, GRID_CHAT, BUILDING_A, BUILDING_B = -1001, -1002, -1003, -1004
DIRECTOR, STAFF, WORKER, HEAD_A, QIAN, SUN, HEAD_B, WU, ZHENG = range(1, 10)

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "director": "王主任", "staff": "李社工", "worker": "张网格", "head_a": "赵楼长",
        "qian": "钱阿姨", "sun": "孙大爷", "head_b": "周楼长", "wu": "吴阿姨", "zheng": "郑大哥",
        "staff_chat": "幸福社区工作群", "grid_chat": "第一网格群",
        "a_chat": "1号楼议事群", "b_chat": "2号楼议事群",
        "community": "幸福社区", "grid": "第一网格", "a": "1号楼", "b": "2号楼",
        "hello": "大家好！", "approve": "✅ {unit} 通过", "bad_area": "大约七十",
        "topic_a": "东门加装电动车充电桩 期限=2h\n在东门车棚加装 10 个充电桩。",
        "topic_b": "楼下空地改建停车位 期限=2h\n把楼下空地改成 6 个停车位。",
        "agree": "同意", "against": "反对", "opinion": "建议装在车棚北侧，离楼远一点。",
        "accept": "受理", "resolve": "解决",
        "decision": "空地保留为绿地，另在西侧规划 4 个临时车位，下月施工。",
        "satisfied": "满意", "basically": "基本满意",
        "meeting": "每月30日 19:00 协商议事日 地点=社区活动室",
        "escalation": "上报", "day": "协商议事日", "digest": "汇总",
        "attend": "参加", "leave": "请假",
        "web": "网页", "meeting_a": "2026-12-05 19:00 楼道议事会 地点=1号楼大厅", "unit": "3-301",
        "links": "钱阿姨的网页（用她的 /web 链接登录后）：",
        "join_link": "3-301 的住户邀请（未登录的手机扫码打开）：",
        "shots": "网页截图：",
    },
    "en": {
        "director": "Director Wang", "staff": "Li (staff)", "worker": "Zhang (grid)",
        "head_a": "Zhao (head A)", "qian": "Mrs Qian", "sun": "Mr Sun", "head_b": "Zhou (head B)",
        "wu": "Mrs Wu", "zheng": "Mr Zheng",
        "staff_chat": "Harmony staff", "grid_chat": "Grid One",
        "a_chat": "Building 1", "b_chat": "Building 2",
        "community": "Harmony", "grid": "Grid One", "a": "Building 1", "b": "Building 2",
        "hello": "Hello everyone!", "approve": "✅ Approve {unit}", "bad_area": "about seventy",
        "topic_a": "E-bike chargers at the east gate deadline=2h\nTen chargers in the east shed.",
        "topic_b": "Parking on the front lawn deadline=2h\nTurn the lawn into six parking spaces.",
        "agree": "Agree", "against": "Against", "opinion": "Put them on the north side, please.",
        "accept": "Take on", "resolve": "Resolve",
        "decision": "The lawn stays green; four temporary spaces on the west side next month.",
        "satisfied": "Satisfied", "basically": "Mostly satisfied",
        "meeting": 'monthly 30 19:00 Consultation day place="Community hall"',
        "escalation": "escalation", "day": "consultation day", "digest": "digest",
        "attend": "Attend", "leave": "Can't come",
        "web": "web page", "meeting_a": '2026-12-05 19:00 Stairwell meeting place="Hall A"',
        "unit": "3-301", "links": "Mrs Qian's pages (once her /web link signed her in):",
        "join_link": "The household invitation of 3-301 (a phone not signed in scans it):",
        "shots": "Screenshots of the pages:",
    },
}  # fmt: skip


def names(words: dict[str, str]) -> dict[int, str]:
    keys = ("director", "staff", "worker", "head_a", "qian", "sun", "head_b", "wu", "zheng")
    return {user: words[key] for user, key in zip(range(1, 10), keys, strict=True)}


def titles(words: dict[str, str]) -> dict[int, str]:
    return {
        STAFF_CHAT: words["staff_chat"],
        GRID_CHAT: words["grid_chat"],
        BUILDING_A: words["a_chat"],
        BUILDING_B: words["b_chat"],
    }


async def play(run: DemoRun, words: dict[str, str], output: Path) -> int:
    """The consultation in the chats; the number of building A's topic."""
    t = run.transcript
    t.heading(f"1 · {words['community']}")
    await run.group(STAFF_CHAT, words["staff_chat"], [STAFF], DIRECTOR)
    await run.say(STAFF_CHAT, DIRECTOR, f"/setup {words['community']}")
    hello = run.post(STAFF_CHAT, STAFF, words["hello"])
    await run.say(STAFF_CHAT, DIRECTOR, "/role community_staff", reply_to=hello.message_id)
    grid_code = bind_code(await run.say(STAFF_CHAT, STAFF, f"/newgrid {words['grid']}"))

    t.heading(f"2 · {words['grid']}")
    await run.group(GRID_CHAT, words["grid_chat"], [WORKER], STAFF)
    await run.say(GRID_CHAT, STAFF, f"/bind {grid_code}")
    hello = run.post(GRID_CHAT, WORKER, words["hello"])
    await run.say(GRID_CHAT, STAFF, "/role grid_worker", reply_to=hello.message_id)
    codes = [
        bind_code(await run.say(GRID_CHAT, WORKER, f"/newbuilding {words[key]}"))
        for key in ("a", "b")
    ]

    for code, chat, head, residents, key in (
        (codes[0], BUILDING_A, HEAD_A, (QIAN, SUN), "a"),
        (codes[1], BUILDING_B, HEAD_B, (WU, ZHENG), "b"),
    ):
        t.heading(f"3 · {words[key]}")
        await run.group(chat, words[f"{key}_chat"], [head, *residents], WORKER)
        await run.say(chat, WORKER, f"/bind {code}")
        hello = run.post(chat, head, words["hello"])
        await run.say(chat, WORKER, "/role building_head", reply_to=hello.message_id)
        for number, resident in enumerate(residents, start=1):
            if key == "a" and number == 2:
                await run.say(chat, resident, f"/register 2-50{number} {words['bad_area']}")
            card = await run.say(chat, resident, f"/register 2-50{number} {80 + number}.5")
            await run.press(chat, card, head, words["approve"].format(unit=f"2-50{number}"))

    t.heading(f"4 · {words['a']}: {words['topic_a'].split(' ')[0]}")
    ballot_a = await run.say(BUILDING_A, HEAD_A, f"/topic {words['topic_a']}")
    await run.vote(BUILDING_A, ballot_a, QIAN, words["agree"])
    await run.vote(BUILDING_A, ballot_a, SUN, words["agree"])
    await run.vote(BUILDING_A, ballot_a, HEAD_A, words["against"])
    await run.post_reply(BUILDING_A, SUN, words["opinion"], ballot_a)

    t.heading(f"5 · {words['b']}: {words['topic_b'].split(' ')[0]}")
    ballot_b = await run.say(BUILDING_B, HEAD_B, f"/topic {words['topic_b']}")
    await run.vote(BUILDING_B, ballot_b, WU, words["agree"])
    await run.vote(BUILDING_B, ballot_b, ZHENG, words["against"])
    await run.pass_time(timedelta(hours=2, minutes=1))
    for chat in (BUILDING_A, BUILDING_B, GRID_CHAT):
        t.show(chat)

    t.heading(f"6 · {words['grid']}: {words['escalation']}")
    escalation = next(
        (m for m in run.emu.bot_messages(GRID_CHAT) if words["accept"] in m.button_texts()), None
    )
    if escalation is None:
        raise DemoFailed("the tie in building B did not reach the grid")
    await run.press(GRID_CHAT, escalation, WORKER, words["accept"])
    query = run.emu.press_button(GRID_CHAT, escalation.message_id, WORKER, words["resolve"])
    await run.emu.wait_for_answer(query)
    await run.settle()
    await run.answer_prompt(GRID_CHAT, WORKER, words["decision"])
    rating = next(
        (m for m in run.emu.bot_messages(BUILDING_B) if words["satisfied"] in m.button_texts()),
        None,
    )
    if rating is None:
        raise DemoFailed("the decision did not reach building B")
    await run.vote(BUILDING_B, rating, WU, words["satisfied"])
    await run.vote(BUILDING_B, rating, ZHENG, words["basically"])

    t.heading(f"7 · {words['community']}: {words['day']}")
    await run.say(STAFF_CHAT, STAFF, "/subscribe")
    await run.say(STAFF_CHAT, STAFF, f"/meeting {words['meeting']}")
    await run.pass_time(timedelta(hours=8))  # Sunday 19:01: the 24-hour reminder
    t.show(STAFF_CHAT)
    reminder = run.emu.bot_messages(STAFF_CHAT)[-1]
    if words["attend"] not in reminder.button_texts():
        raise DemoFailed("the consultation day's reminder did not arrive")
    await run.vote(STAFF_CHAT, reminder, DIRECTOR, words["attend"])
    await run.vote(STAFF_CHAT, reminder, STAFF, words["leave"])
    await run.say(BUILDING_A, HEAD_A, f"/export {_number(ballot_a)}")

    t.heading(f"8 · {words['community']}: {words['digest']}")
    await run.pass_time(timedelta(hours=13, minutes=30))  # Monday 08:31: the weekly digest
    t.show(STAFF_CHAT)
    saved = run.save_files(BUILDING_A, output) + run.save_files(STAFF_CHAT, output)
    if not any(path.suffix == ".png" for path in saved):
        raise DemoFailed("the Monday digest came without its chart")
    return int(_number(ballot_a))


async def play_web(
    run: DemoRun,
    web: WebBeside,
    words: dict[str, str],
    output: Path,
    stream: TextIO,
    topic: int,
) -> None:
    """Building A's head schedules a meeting, 钱阿姨 answers it; her pages (the topic, the
    meeting, "my household") and a household invitation's page: their links, and screenshots
    where Chromium is installed."""
    t = run.transcript
    t.heading(f"9 · {words['a']}: {words['web']}")
    await run.say(BUILDING_A, HEAD_A, f"/meeting {words['meeting_a']}")
    note = next(
        (m for m in reversed(run.emu.bot_messages(BUILDING_A)) if (m.text or "").startswith("📅")),
        None,
    )
    if note is None:
        raise DemoFailed("building A's meeting was not announced")
    await run.vote(BUILDING_A, note, QIAN, words["attend"])
    await run.settle()
    found = await resident_pages(
        run,
        web,
        resident=QIAN,
        officer=HEAD_A,
        building_chat=BUILDING_A,
        topic=topic,
        meeting=int(_number(note, "📅")),
        unit=words["unit"],
    )
    print(f"\n{words['links']}", file=stream)
    for path in found.pages.values():
        print(f"  {found.base}{path}", file=stream)
    print(f"{words['join_link']}\n  {found.base}{found.join}", file=stream)
    saved = await screenshots(found, output, stream)
    if saved:
        print(f"{words['shots']} {', '.join(path.name for path in saved)}", file=stream)


def _number(message: object, mark: str = "📋") -> str:
    """The number a topic's (or a meeting's) message shows, ``#12`` -> ``12``."""
    text = getattr(message, "text", "") or ""
    for word in text.split():
        if text.startswith(mark) and word.startswith("#") and word[1:].isdigit():
            return word[1:]
    return "1"
