"""Template cards: sent, pressed, updated within 5 s of the press, and WeCom's limits."""

from __future__ import annotations

import pytest

from emulators.wecom.behaviour import EventSpelling
from emulators.wecom.server import WeComEmulator
from tests.emulator_wecom.conftest import GROUP, BotClient, button_card, vote_card


async def post_card(emu: WeComEmulator, bot: BotClient, card: dict) -> dict:
    """The bot answers a mention with ``card``; returns the ack."""
    issued = await emu.mention("zhangsan", GROUP, "/topic")
    await bot.next_push()
    body = {"msgtype": "template_card", "template_card": card}
    return await bot.call("aibot_respond_msg", body, issued.req_id)


def tallied(card: dict, text: str) -> dict:
    return {**card, "main_title": {"title": "加装电梯", "desc": text}}


async def test_a_vote_submits_its_choice_and_an_update_within_5_s_shows_to_everyone(
    emu: WeComEmulator, bot: BotClient, clock
):
    card = vote_card()
    assert (await post_card(emu, bot, card))["errcode"] == 0
    issued = await emu.submit_vote("lisi", "topic_12", ["o2"])
    push = await bot.next_push()
    assert push["headers"]["req_id"] == issued.req_id
    body = push["body"]
    assert body["msgtype"] == "event" and body["from"] == {"userid": "lisi"}
    assert body["chatid"] == GROUP and body["chattype"] == "group"
    assert body["event"]["eventtype"] == "template_card_event"
    assert body["event"]["template_card_event"] == {
        "card_type": "vote_interaction",
        "event_key": "submit_12",
        "task_id": "topic_12",
        "selected_items": {
            "selected_item": [{"question_key": "vote", "option_ids": {"option_id": ["o2"]}}]
        },
    }
    clock.advance(4.9)
    update = {"response_type": "update_template_card", "template_card": tallied(card, "1 票")}
    assert (await bot.call("aibot_respond_update_msg", update, issued.req_id))["errcode"] == 0
    for person in ("zhangsan", "lisi", "wangwu"):
        assert emu.world.seen_by(person)[-1].card["main_title"]["desc"] == "1 票"


async def test_an_update_after_5_s_is_refused_and_the_card_stays(
    emu: WeComEmulator, bot: BotClient, clock
):
    card = vote_card()
    await post_card(emu, bot, card)
    issued = await emu.submit_vote("lisi", "topic_12", ["o1"])
    await bot.next_push()
    clock.advance(5.1)
    update = {"response_type": "update_template_card", "template_card": tallied(card, "1 票")}
    ack = await bot.call("aibot_respond_update_msg", update, issued.req_id)
    assert ack["errcode"] == emu.behaviour.late_answer_errcode == 846605
    assert emu.world.seen_by("wangwu")[-1].card["main_title"]["desc"] == "三天内表决"


async def test_an_update_for_some_userids_changes_only_their_card(
    emu: WeComEmulator, bot: BotClient
):
    card = vote_card()
    await post_card(emu, bot, card)
    issued = await emu.submit_vote("lisi", "topic_12", ["o1"])
    await bot.next_push()
    frozen = tallied(card, "已投：选项1")
    frozen["checkbox"] = {**card["checkbox"], "disable": True}
    update = {
        "response_type": "update_template_card",
        "userids": ["lisi"],
        "template_card": frozen,
    }
    assert (await bot.call("aibot_respond_update_msg", update, issued.req_id))["errcode"] == 0
    assert emu.world.seen_by("lisi")[-1].card["main_title"]["desc"] == "已投：选项1"
    assert emu.world.seen_by("wangwu")[-1].card["main_title"]["desc"] == "三天内表决"
    with pytest.raises(ValueError, match="disabled"):
        await emu.submit_vote("lisi", "topic_12", ["o2"])  # lisi's card is frozen
    await emu.submit_vote("wangwu", "topic_12", ["o2"])  # wangwu's is not


async def test_a_stream_on_a_card_event_is_refused(emu: WeComEmulator, bot: BotClient):
    await post_card(emu, bot, button_card())
    issued = await emu.press_button("wangwu", "esc_7", "esc:7:0")
    push = await bot.next_push()
    payload = push["body"]["event"]["template_card_event"]
    assert payload == {
        "card_type": "button_interaction",
        "event_key": "esc:7:0",
        "task_id": "esc_7",
    }
    stream = {"msgtype": "stream", "stream": {"id": "s", "finish": True, "content": "已受理"}}
    assert (await bot.call("aibot_respond_msg", stream, issued.req_id))["errcode"] == 846605


@pytest.mark.parametrize(
    ("spelling", "keys"),
    [
        (EventSpelling.TABLE, {"cardtype", "taskid", "event_key"}),
        (EventSpelling.BOTH, {"cardtype", "taskid", "card_type", "task_id", "event_key"}),
    ],
)
async def test_the_event_field_spelling_is_a_setting(
    emu: WeComEmulator, bot: BotClient, spelling: EventSpelling, keys: set[str]
):
    emu.behaviour.event_spelling = spelling
    await post_card(emu, bot, button_card())
    await emu.press_button("wangwu", "esc_7", "esc:7:3")
    payload = (await bot.next_push())["body"]["event"]["template_card_event"]
    assert set(payload) == keys
    assert payload.get("taskid", payload.get("task_id")) == "esc_7"


@pytest.mark.parametrize(
    ("card", "errcode", "words"),
    [
        (vote_card(options=21), 40058, "option_list exceed max count 20"),
        (vote_card(options=0), 40058, "option_list needs at least 1"),
        (button_card(buttons=7), 40058, "button_list exceed max count 6"),
        ({**vote_card(), "task_id": "has space"}, 40058, "task_id invalid"),
        ({**vote_card(), "submit_button": None}, 40058, "submit_button"),
        (
            {**vote_card(), "checkbox": {**vote_card()["checkbox"], "mode": 2}},
            40058,
            "mode invalid",
        ),
    ],
)
async def test_cards_beyond_wecom_limits_are_refused(
    emu: WeComEmulator, bot: BotClient, card: dict, errcode: int, words: str
):
    ack = await post_card(emu, bot, card)
    assert ack["errcode"] == errcode
    assert words in ack["errmsg"]
    assert all(seen.card is None for seen in emu.world.seen_by("lisi"))


async def test_the_limits_themselves_are_accepted(emu: WeComEmulator, bot: BotClient):
    assert (await post_card(emu, bot, vote_card("v20", options=20, mode=1)))["errcode"] == 0
    assert (await post_card(emu, bot, button_card("b6", buttons=6)))["errcode"] == 0


async def test_a_task_id_is_used_once_per_bot(emu: WeComEmulator, bot: BotClient):
    assert (await post_card(emu, bot, vote_card("topic_1")))["errcode"] == 0
    ack = await post_card(emu, bot, vote_card("topic_1"))
    assert ack["errcode"] == emu.behaviour.task_id_reused_errcode == 42014


async def test_a_quoted_card_arrives_with_the_quote(emu: WeComEmulator, bot: BotClient):
    await post_card(emu, bot, vote_card())
    bubble = emu.world.card(emu.world.bot("aib_yishi"), "topic_12")
    await emu.quote("wangwu", bubble, "我反对，理由如下")
    body = (await bot.next_push())["body"]
    assert body["text"]["content"] == "@议事 我反对，理由如下"
    assert body["quote"]["msgtype"] == "template_card"
    assert body["quote"]["template_card"]["task_id"] == "topic_12"
