"""`@议事 /export 12` on WeCom: the same permission checks and CSV as Telegram's; the file comes
through the group's push webhook (uploaded, then posted as a `file` message); without one the
answer says why and how (`/pushwebhook`), with the figures inline within 4096 bytes."""

from __future__ import annotations

from bot.services.topics.syntax import TopicDraft, parse_topic
from emulators.wecom.world import Place
from tests.e2e_wecom.conftest import BUILDING_GROUP, SUPERADMIN, World, published
from tests.e2e_wecom.test_digest_on_wecom import STAFF_GROUP, a_wecom_staff_group, answers
from tests.e2e_wecom.test_topic_on_wecom import answered, bound_with_a_building_head, last_seen


async def a_voted_topic(world: World) -> int:
    """The building head's topic in the WeCom building group, two votes on its card."""
    await bound_with_a_building_head(world)
    issued = await world.emu.mention("zhangsan", BUILDING_GROUP, "/topic 加装电梯 期限=3d")
    await published(world, issued)
    card = last_seen(world, "lisi").card
    assert card is not None
    options = {o["text"]: o["id"] for o in card["checkbox"]["option_list"]}
    for userid, choice in (("lisi", "同意"), ("wangwu", "反对")):
        pressed = await world.emu.submit_vote(userid, card["task_id"], [options[choice]])
        await answered(world, pressed, "aibot_respond_update_msg")
    topic_id = int(card["main_title"]["title"].split()[0].lstrip("#"))
    return topic_id


async def test_without_a_webhook_the_answer_says_why_and_gives_the_figures(world: World) -> None:
    topic_id = await a_voted_topic(world)
    resident = await world.emu.mention("lisi", BUILDING_GROUP, f"/export {topic_id}")
    assert "只有议题" in (await answers(world, resident))[0]
    usage = await world.emu.mention("zhangsan", BUILDING_GROUP, "/export")
    assert "用法" in (await answers(world, usage))[0]
    unknown = await world.emu.mention("zhangsan", BUILDING_GROUP, "/export 999")
    assert "999" in (await answers(world, unknown))[0]

    head = await world.emu.mention("zhangsan", BUILDING_GROUP, f"/export #{topic_id}")
    [said] = await answers(world, head)
    assert "不能直接发文件" in said and "@议事 /pushwebhook" in said and "社区工作群" in said
    assert f"表决记录：#{topic_id} 加装电梯" in said
    assert "| 同意 | 1 | 50.0% |" in said and "| 反对 | 1 | 50.0% |" in said
    assert "李四" not in said  # the figures, not who voted what
    assert "2 / —" in said, said  # WeCom tells no group's size: cast, and no roll
    assert len(said.encode("utf-8")) <= 4096
    assert world.emu.webhook_messages == {}
    # In the one-to-one chat, the officer is told the same.
    private = await world.emu.write("zhangsan", f"/export {topic_id}")
    frame = await world.emu.wait_for_frame("aibot_respond_msg", req_id=private.req_id, timeout=5)
    assert "不能直接发文件" in frame.body["markdown"]["content"]


async def test_the_staff_group_gets_the_csv_through_its_push_webhook(world: World) -> None:
    grid = await a_wecom_staff_group(world)
    published_topic = await world.services.topics.publish(
        SUPERADMIN,
        grid,
        _draft(world, "修补道路 选项=修,不修"),
        world.channel.adapter.membership,
    )
    topic_id = published_topic.topic.id  # the staff group sees its grid's topics

    member = await world.emu.mention("staffli", STAFF_GROUP, f"/export {topic_id}")
    assert "只有议题" in (await answers(world, member))[0]
    none_yet = await world.emu.mention("staffchen", STAFF_GROUP, f"/export {topic_id}")
    [said] = await answers(world, none_yet)
    assert "本群还没有设置" in said and f"@议事 /export {topic_id}" in said
    assert "| 修 | 0 |" in said

    url = world.emu.add_webhook(STAFF_GROUP)
    await answers(world, await world.emu.mention("staffchen", STAFF_GROUP, f"/pushwebhook {url}"))
    sent = await world.emu.mention("staffchen", STAFF_GROUP, f"/export {topic_id}")
    [said] = await answers(world, sent)
    assert "中期记录" in said and "已通过本群的消息推送发到本群" in said
    [csv_file] = world.emu.webhook_files(STAFF_GROUP)
    assert csv_file.filename == f"topic-{topic_id}.csv"
    text = csv_file.data.decode("utf-8")
    assert text.startswith("\ufeff") and f"#{topic_id} 修补道路" in text and "修,0" in text
    seen = world.emu.world.seen_by("staffli", Place("group", STAFF_GROUP))
    assert any(s.msgtype == "file" and s.text == csv_file.filename for s in seen)

    world.emu.remove_webhook(STAFF_GROUP)  # removed in the group settings
    refused = await world.emu.mention("staffchen", STAFF_GROUP, f"/export {topic_id}")
    [said] = await answers(world, refused)
    assert "93000" in said and "/pushwebhook" in said and "| 修 | 0 |" in said
    assert len(world.emu.webhook_files(STAFF_GROUP)) == 1


def _draft(world: World, line: str) -> TopicDraft:
    services = world.services
    return parse_topic(
        line,
        now=services.clock.now(),
        zone=services.settings.zone,
        catalogue=services.catalogue,
        locale="zh_CN",
    )
