"""``yishi demo --channel wecom``: the real WeCom channel, played through a consultation
against the local WeCom emulator, every card printed as a person in the group sees it.

社区 → 网格 → 楼栋 set up from WeCom groups (``@议事 /setup``, ``/newgrid``, ``/newbuilding``,
``/bind``), a topic published as a vote card, residents voting on it (each press answered
with the card's new tally), and the outcome at the deadline; a second building's tie going up
to the grid as an escalation card, taken on and decided there (its buttons and
``@议事 /resolve``), the decision coming down with a rating card; the community's monthly
协商议事日 scheduled, its reminder card answered. Roles are given through the services, as
the director would give them (noted in the transcript). Time moves on the injected clock;
nothing sleeps. Needs no WeCom account and no network.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bot.catalogue import load_catalogue
from bot.clock import ManualClock
from bot.demo.runner import DemoFailed
from bot.demo.script import WORDS
from bot.services import Services
from bot.services.actors import Actor, ChatKind, Place
from bot.settings import load_settings
from channels.wecom.channel import WeComChannel
from emulators.wecom.server import WeComEmulator
from emulators.wecom.world import Place as WeComPlace
from emulators.wecom.world import Seen
from locales import Translator
from storage import migrate
from storage.database import Database
from storage.records import ChatType, Platform, RoleName

BOT_ID, SECRET = "aib_yishi_demo", "demo-secret"
START = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)  # Sunday 09:00 in Asia/Shanghai
STAFF, GRID, BUILDING, BUILDING_B = "wrStaff", "wrGrid", "wrBuilding1", "wrBuilding2"
# Each person of the script (named in WORDS) and their WeCom account: what WeCom tells a bot
# of who wrote or pressed (no display name), so what the bot shows of them.
USERIDS = {
    "director": "WangJianGuo",
    "staff": "LiXiaoMei",
    "worker": "ZhangWei",
    "head_a": "ZhaoMing",
    "qian": "QianShuFen",
    "sun": "SunDeFu",
    "head_b": "ZhouHong",
    "wu": "WuLiPing",
    "zheng": "ZhengQiang",
}
_CODE = re.compile(r"/bind ([a-z0-9]+)")


@dataclass
class WeComTranscript:
    """Prints what a member of each group sees there: new messages, and a card again when
    a press changed it."""

    emu: WeComEmulator
    out: TextIO
    names: dict[str, str]
    titles: dict[str, str]
    viewer: dict[str, str]  # per group, whose eyes
    shown: dict[str, dict[int, str]] = field(default_factory=dict)

    def heading(self, text: str) -> None:
        print(f"\n== {text} ==", file=self.out)

    def note(self, text: str) -> None:
        print(f"  · {text}", file=self.out)

    def show(self, chatid: str) -> None:
        place = WeComPlace("group", chatid)
        shown = self.shown.setdefault(chatid, {})
        for seen in self.emu.world.seen_by(self.viewer[chatid], place):
            looks = _looks(seen)
            if shown.get(seen.seq) == looks:
                continue
            updated = seen.seq in shown
            shown[seen.seq] = looks
            bot = seen.sender.startswith("bot:")
            who = "🤖 Yishi" if bot else self.names.get(seen.sender, seen.sender)
            label = f"[{self.titles[chatid]}] {who}{' (card updated)' if updated else ''}:"
            print(f"{label}\n      {looks}", file=self.out)


def _looks(seen: Seen) -> str:
    """A message as it shows: its text, or a card's title, description and what to press."""
    if seen.card is None:
        return (seen.text or "").replace("\n", "\n      ")
    card: dict[str, Any] = seen.card
    title = card.get("main_title", {})
    lines = [f"🗂 {title.get('title', '')}"]
    if title.get("desc"):
        lines.append(str(title["desc"]).replace("\n", " · "))
    if card.get("sub_title_text"):
        lines.append(str(card["sub_title_text"]).replace("\n", " · "))
    options = card.get("checkbox", {}).get("option_list", [])
    if options:
        lines.append("  ".join(f"( ) {option['text']}" for option in options))
    buttons = card.get("button_list", [])
    submit = card.get("submit_button", {}).get("text")
    labels = [str(button.get("text", "")) for button in buttons] + ([submit] if submit else [])
    if labels:
        lines.append("  ".join(f"[{label}]" for label in labels))
    return "\n      ".join(lines)


class WeComDemo:
    def __init__(
        self, emu: WeComEmulator, transcript: WeComTranscript, services: Services, locale: str
    ) -> None:
        self.emu, self.t, self.services, self.locale = emu, transcript, services, locale

    async def say(self, person: str, chatid: str, text: str, expect: str | None = None) -> str:
        """``person`` @-mentions the bot with ``text``; the answer as the group sees it."""
        issued = await self.emu.mention(USERIDS[person], chatid, text)
        frame = await self.emu.wait_for_frame("aibot_respond_msg", req_id=issued.req_id, timeout=5)
        if frame.errcode != 0:
            raise DemoFailed(f"WeCom refused the answer to {text!r}: {frame.errcode}")
        self.t.show(chatid)
        seen = self.emu.world.seen_by(self.t.viewer[chatid], WeComPlace("group", chatid))
        answer = _looks(seen[-1])
        if expect is not None and expect not in answer:
            raise DemoFailed(f"{text!r} was answered {answer!r}, expected {expect!r}")
        return answer

    async def topic(self, person: str, chatid: str, text: str) -> dict[str, Any]:
        """``/topic``: answered with the ballot message, then its vote card (returned)."""
        issued = await self.emu.mention(USERIDS[person], chatid, f"/topic {text}")

        def card_sent() -> bool:
            return any(
                frame.cmd == "aibot_respond_msg"
                and frame.req_id == issued.req_id
                and frame.body.get("msgtype") == "template_card"
                for frame in self.emu.frames
            )

        await self.emu.wait_for(card_sent, timeout=5)
        self.t.show(chatid)
        seen = self.emu.world.seen_by(self.t.viewer[chatid], WeComPlace("group", chatid))
        card = next((s.card for s in reversed(seen) if s.card), None)
        if card is None or card.get("card_type") != "vote_interaction":
            raise DemoFailed("the topic came without its vote card")
        return card

    async def vote(self, person: str, chatid: str, card: dict[str, Any], option: str) -> None:
        ids = {item["text"]: item["id"] for item in card["checkbox"]["option_list"]}
        pressed = await self.emu.submit_vote(USERIDS[person], str(card["task_id"]), [ids[option]])
        frame = await self.emu.wait_for_frame(
            "aibot_respond_update_msg", req_id=pressed.req_id, timeout=5
        )
        if frame.errcode != 0:
            raise DemoFailed(f"WeCom refused the card update: {frame.errcode}")
        name = self.t.names[USERIDS[person]]
        self.t.note(f"{name} ▸ ({option}) [{card['submit_button']['text']}]")
        self.t.show(chatid)

    async def press(self, person: str, chatid: str, card: dict[str, Any], label: str) -> None:
        """``person`` presses the card's button labelled ``label``; WeCom takes the card's
        update within 5 s."""
        keys = [b["key"] for b in card.get("button_list", []) if b["text"].startswith(label)]
        if not keys:
            raise DemoFailed(f"no {label!r} button on {card.get('main_title')}")
        pressed = await self.emu.press_button(USERIDS[person], str(card["task_id"]), keys[0])
        frame = await self.emu.wait_for_frame(
            "aibot_respond_update_msg", req_id=pressed.req_id, timeout=5
        )
        if frame.errcode != 0:
            raise DemoFailed(f"WeCom refused the card update: {frame.errcode}")
        self.t.note(f"{self.t.names[USERIDS[person]]} ▸ [{label}]")
        self.t.show(chatid)

    async def card_in(self, chatid: str, label: str) -> dict[str, Any]:
        """The newest card in ``chatid`` with a ``label`` button, once it arrived."""

        def found() -> dict[str, Any] | None:
            seen = self.emu.world.seen_by(self.t.viewer[chatid], WeComPlace("group", chatid))
            for shown in reversed(seen):
                labels = [b["text"] for b in (shown.card or {}).get("button_list", [])]
                if any(text.startswith(label) for text in labels):
                    return shown.card
            return None

        await self.emu.wait_for(lambda: found() is not None, timeout=5)
        card = found()
        assert card is not None
        return card

    async def give_role(self, person: str, chatid: str, role: RoleName) -> None:
        """What ``/role`` would do: the role given at the group's node."""
        async with self.services.database.transaction() as repos:
            chat_id, _ = await repos.chats.seen_on(
                Platform.WECOM, chatid, type=ChatType.GROUP, title=None, now=START
            )
            userid = USERIDS[person]
            user_id, _ = await repos.users.seen_on(Platform.WECOM, userid, name=userid, now=START)
        await self.services.roles.grant(
            Actor(0, is_superadmin=True), Place(chat_id, ChatKind.GROUP), user_id, role
        )
        label = Translator().plain(self.locale, f"role_names.{role}")
        self.t.note(f"{self.t.names[USERIDS[person]]} ← {label}")


def bind_code(answer: str) -> str:
    match = _CODE.search(answer)
    if not match:
        raise DemoFailed(f"no bind code in {answer!r}")
    return match.group(1)


async def run_wecom_demo(
    *, lang: str = "zh", db_path: str | None = None, out: TextIO | None = None
) -> int:
    stream = out or sys.stdout
    words = WORDS[lang]
    workdir = Path(tempfile.mkdtemp(prefix="yishi-wecom-demo-"))
    database_path = Path(db_path) if db_path else workdir / "yishi.db"
    emu = WeComEmulator()
    emu.add_bot(BOT_ID, SECRET)
    names = {userid: words[person] for person, userid in USERIDS.items()}
    for userid, name in names.items():
        emu.add_person(userid, name)
    for chatid, title, people in (
        (STAFF, words["staff_chat"], ("director", "staff")),
        (GRID, words["grid_chat"], ("staff", "worker")),
        (BUILDING, words["a_chat"], ("worker", "head_a", "qian", "sun")),
        (BUILDING_B, words["b_chat"], ("worker", "head_b", "wu", "zheng")),
    ):
        emu.add_group(chatid, title, [USERIDS[person] for person in people])
    await emu.start()
    locale = "zh_CN" if lang == "zh" else "en"
    settings = load_settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{database_path}",
        YISHI_WECOM_ADMIN_USERIDS=USERIDS["director"],
        YISHI_LOCALE=locale,
        _env_file=None,
    )
    database = Database(settings.database_url)
    await migrate.upgrade(database)
    clock = ManualClock(START)
    services = Services.build(database, clock, settings, load_catalogue(), realtime=False)
    channel = WeComChannel(
        services, Translator(locale), url=emu.ws_url, bot_id=BOT_ID, secret=SECRET
    )
    titles = {
        STAFF: words["staff_chat"],
        GRID: words["grid_chat"],
        BUILDING: words["a_chat"],
        BUILDING_B: words["b_chat"],
    }
    # whose eyes each group is seen through (the grid worker's: who is told how to resolve)
    eyes = {STAFF: "staff", GRID: "worker", BUILDING: "qian", BUILDING_B: "wu"}
    viewer = {chatid: USERIDS[person] for chatid, person in eyes.items()}
    transcript = WeComTranscript(emu, stream, names, titles, viewer)
    started = time.monotonic()
    status = 0
    try:
        await channel.start(wait=5)
        await play(WeComDemo(emu, transcript, services, locale), words, clock, channel)
    except (DemoFailed, TimeoutError, LookupError) as error:
        print(f"\nDemo failed: {error}", file=sys.stderr)
        status = 1
    finally:
        await channel.stop()
        await services.outbox.close()
        await database.close()
        await emu.stop()
    print(
        f"\nDatabase: {database_path}\nFinished in {time.monotonic() - started:.1f} s.", file=stream
    )
    return status


async def play(
    run: WeComDemo, words: dict[str, str], clock: ManualClock, channel: WeComChannel
) -> None:
    t = run.t
    t.heading(f"1 · {words['community']} (WeCom)")
    await run.say("director", STAFF, f"/setup {words['community']}", expect=words["community"])
    await run.give_role("staff", STAFF, RoleName.COMMUNITY_STAFF)
    grid_code = bind_code(await run.say("staff", STAFF, f"/newgrid {words['grid']}"))

    t.heading(f"2 · {words['grid']}")
    await run.say("staff", GRID, f"/bind {grid_code}", expect=words["grid"])
    await run.give_role("worker", GRID, RoleName.GRID_WORKER)
    code = bind_code(await run.say("worker", GRID, f"/newbuilding {words['a']}"))

    t.heading(f"3 · {words['a']}")
    await run.say("worker", BUILDING, f"/bind {code}", expect=words["a"])
    await run.give_role("head_a", BUILDING, RoleName.BUILDING_HEAD)

    t.heading(f"4 · {words['a']}: {words['topic_a'].split(' ')[0]}")
    card = await run.topic("head_a", BUILDING, words["topic_a"])
    await run.vote("qian", BUILDING, card, words["agree"])
    await run.vote("sun", BUILDING, card, words["agree"])
    await run.vote("head_a", BUILDING, card, words["against"])

    await pass_time(run, clock, channel, timedelta(hours=2, minutes=1))
    t.show(BUILDING)
    outcome = run.emu.world.seen_by(USERIDS["qian"], WeComPlace("group", BUILDING))[-1].text or ""
    if words["topic_a"].split(" ")[0] not in outcome:
        raise DemoFailed("the outcome did not reach the building group")

    t.heading(f"5 · {words['b']}: {words['topic_b'].split(' ')[0]}")
    code_b = bind_code(await run.say("worker", GRID, f"/newbuilding {words['b']}"))
    await run.say("worker", BUILDING_B, f"/bind {code_b}", expect=words["b"])
    await run.give_role("head_b", BUILDING_B, RoleName.BUILDING_HEAD)
    ballot_b = await run.topic("head_b", BUILDING_B, words["topic_b"])
    await run.vote("wu", BUILDING_B, ballot_b, words["agree"])
    await run.vote("zheng", BUILDING_B, ballot_b, words["against"])
    await pass_time(run, clock, channel, timedelta(hours=2, minutes=1))
    t.show(BUILDING_B)

    t.heading(f"6 · {words['grid']}: {words['escalation']}")  # the tie goes up to the grid
    matter = await run.card_in(GRID, words["accept"])
    t.show(GRID)
    await run.press("worker", GRID, matter, words["accept"])
    await run.press("worker", GRID, await run.card_in(GRID, words["resolve"]), words["resolve"])
    topic_b = str(ballot_b["main_title"]["title"]).split()[0].lstrip("#")
    await run.say("worker", GRID, f"/resolve {topic_b} {words['decision']}")
    await channel.settle()
    rating = await run.card_in(BUILDING_B, words["satisfied"])
    t.show(BUILDING_B)
    await run.press("wu", BUILDING_B, rating, words["satisfied"])
    await run.press("zheng", BUILDING_B, rating, words["basically"])

    t.heading(f"7 · {words['community']}: {words['day']}")
    await run.say("staff", STAFF, f"/meeting {words['meeting']}")
    sunday_evening = START + timedelta(hours=10, minutes=1)  # 19:01: the 24-hour reminder
    await pass_time(run, clock, channel, sunday_evening - clock.now())
    t.show(STAFF)
    reminder = await run.card_in(STAFF, words["attend"])
    await run.press("director", STAFF, reminder, words["attend"])
    await run.press("staff", STAFF, reminder, words["leave"])


async def pass_time(
    run: WeComDemo, clock: ManualClock, channel: WeComChannel, span: timedelta
) -> None:
    """Time moves on by ``span``: what fell due meanwhile runs, and its messages go out."""
    clock.advance(span)
    hours, rest = divmod(int(span.total_seconds()), 3600)
    run.t.note(f"⏩ +{hours}:{rest // 60:02d}:{rest % 60:02d}")
    await run.services.timers.run_due()
    await channel.settle()
