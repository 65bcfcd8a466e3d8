"""/link: a resident on Telegram who also uses WeCom joins the two identities; from then on
they are one person — the vote they cast on WeCom is theirs on Telegram too, and a vote on
Telegram changes it rather than adding a second one."""

from __future__ import annotations

from datetime import timedelta

from emulators.wecom.server import WeComEmulator
from emulators.wecom.world import Place as WeComPlace
from tests.auxil.harness import Harness
from tests.auxil.world import BUILDING_CHAT, RESIDENT
from tests.e2e_mixed.conftest import (
    BOT_ID,
    a_grid_topic_card,
    answered,
)


async def wecom_privately(wecom: WeComEmulator, userid: str, text: str) -> str:
    issued = await wecom.write(userid, text)
    await answered(wecom, issued.req_id, "aibot_respond_msg")
    return wecom.world.seen_by(userid, WeComPlace("single", userid, BOT_ID))[-1].text or ""


async def test_linked_identities_are_one_voter(
    both_channels: tuple[Harness, WeComEmulator],
) -> None:
    h, wecom = both_channels
    card = await a_grid_topic_card(h, wecom)
    options = {option["text"]: option["id"] for option in card["checkbox"]["option_list"]}
    pressed = await wecom.submit_vote("lisi", card["task_id"], [options["反对"]])
    await answered(wecom, pressed.req_id, "aibot_respond_update_msg")

    # In a group, /link is refused: the code is for its owner's eyes.
    refused = await h.say(BUILDING_CHAT, RESIDENT, "/link")
    assert "私聊" in (refused.text or "")
    # A wrong code changes nothing and says what to do.
    said = await wecom_privately(wecom, "lisi", "/link 12345678")
    assert "关联码不对或已过期" in said, said

    issued = await h.say(RESIDENT, RESIDENT, "/link")
    code = (issued.text or "").split("关联码：")[1].split("（")[0].strip()
    assert len(code) == 8 and "企业微信" in (issued.text or ""), issued.text
    said = await wecom_privately(wecom, "lisi", f"/link {code}")
    assert "已关联" in said and "1 个未结束议题" in said, said
    # Used once: the same code again is refused.
    said = await wecom_privately(wecom, "lisi", f"/link {code}")
    assert "已经关联过了" in said or "关联码不对" in said, said

    # On Telegram the same person changes their vote; it is still one vote.
    ballot = next(
        m
        for m in h.emu.bot_messages(BUILDING_CHAT)
        if "统一更换门禁" in (m.text or "") and m.reply_markup
    )
    answer = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    assert "改" in (answer.get("text") or ""), answer  # changed, not a new vote
    # Someone else presses on WeCom first (the group is recorded again after the link)...
    pressed = await wecom.submit_vote("wangwu", card["task_id"], [options["同意"]])
    await answered(wecom, pressed.req_id, "aibot_respond_update_msg")
    # ...so lisi's press there records them with its ballot: as the person they now are,
    # whose vote it changes: still one vote.
    pressed = await wecom.submit_vote("lisi", card["task_id"], [options["弃权"]])
    await answered(wecom, pressed.req_id, "aibot_respond_update_msg")
    await h.pass_time(timedelta(days=2, minutes=1))
    outcome = [
        m.text or "" for m in h.emu.bot_messages(BUILDING_CHAT) if "统一更换门禁" in (m.text or "")
    ]
    assert any("同意：1" in text and "反对：0" in text and "弃权：1" in text for text in outcome), (
        outcome
    )
