"""What WeCom shows: markdown escaped and within WeCom's byte limits, a digest split at 4096
bytes, ballots as vote cards and the other living messages as button cards that WeCom (the
emulator's checks) accepts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.catalogue import load_catalogue
from bot.services.escalation.views import CardAction, CardMove, EscalationCardView, rating_actions
from bot.services.meetings.views import meeting_actions, meeting_message_view
from bot.services.topics.views import ballot_view
from channels.wecom.cards import (
    Card,
    EscalationPress,
    MeetingPress,
    RatingPress,
    VotePress,
    WeComViews,
    new_task_id,
    parse_key,
    parse_option,
)
from channels.wecom.digest import WeComDigest
from channels.wecom.text import DIGEST_BYTES, MESSAGE_BYTES, WeComText, cut, escape, split, utf8_len
from emulators.wecom.cards import check_card
from locales import Translator
from storage.records import MeetingPost
from tests.unit.test_digest_render import item, sample
from tests.unit.test_meeting_render import view as meeting_view
from tests.unit.test_views import TOPIC, snap

ZONE = ZoneInfo("Asia/Shanghai")
TEXT = WeComText(Translator(), ZONE)
VIEWS = WeComViews(TEXT)


def card_of(body: dict[str, object]) -> dict[str, object]:
    assert body["msgtype"] == "template_card"
    card = body["template_card"]
    assert isinstance(card, dict)
    check_card(card)  # as WeCom checks it: 20 options, 6 buttons, keys, task_id
    return card


def test_what_people_typed_cannot_format_a_message() -> None:
    title = "*加装* _电梯_ [链接](http://x) <@all> #1\n- 一\n1. 二"
    shown = TEXT("zh_CN", "topics.closed_title", id=12, title=title)
    assert shown.startswith("🔒 **#12 \\*加装\\* \\_电梯\\_ \\[链接\\](http://x) \\<@all\\> \\#1")
    assert "\n\\- 一\n1\\. 二**" in shown  # list markers at a line's start are literal
    assert escape("a\\b") == "a\\\\b" and escape("12.5%") == "12.5%"
    assert TEXT.plain("en", "topics.closed_title", id=3, title="*x*") == "🔒 #3 *x* is closed"


def test_a_plain_pattern_fills_in_now_what_it_is_given_and_formats_the_rest_later() -> None:
    option = "{0} {count} {{x}} *同意*"  # braces are what people typed, not fields
    pattern = TEXT.plain_pattern("zh_CN", "topics.tally_line", {"count": "0"}, option=option)
    assert pattern.format(7) == TEXT.plain("zh_CN", "topics.tally_line", option=option, count=7)
    assert pattern.format(7) == "{0} {count} {{x}} *同意*：7"
    later = {"cast": "c", "eligible": "e", "opinions": "o"}
    turnout = TEXT.plain_pattern("en", "topics.turnout", later)
    assert turnout.format(c=4, e=10, o=2) == "Voted 4 / eligible 10 · 2 opinions"


def test_a_message_is_cut_within_the_byte_limit_never_inside_a_character() -> None:
    long = "议" * 10000  # 30000 bytes
    shown = cut(long, MESSAGE_BYTES)
    assert utf8_len(shown) <= MESSAGE_BYTES and shown.endswith("…")
    assert shown[:-1] == "议" * len(shown[:-1])
    assert cut("ab\\*def", 6) == "ab…"  # not "ab\\…": an escape is never cut in half


def test_a_digest_is_split_between_items_at_4096_bytes() -> None:
    digests = WeComDigest(TEXT, load_catalogue())
    digest = sample()
    many = replace(digest, new=[item(n, title="电梯加装与楼道整治" * 8) for n in range(1, 60)])
    blocks = digests.blocks("zh_CN", many)
    parts = split(blocks, DIGEST_BYTES)
    assert len(parts) > 1
    assert all(utf8_len(part) <= DIGEST_BYTES for part in parts)
    assert "\n".join(parts) == "\n".join(blocks)  # nothing lost, nothing cut
    assert "共 63 项，以上列出前 50 项。" in parts[-1]
    english = digests.blocks("en", digest)
    assert english[0].startswith("📊 **幸福社区 consultation digest**")


def test_a_ballot_is_a_vote_card_with_one_option_per_vote_and_its_tally() -> None:
    view = ballot_view(snap(), voting=True, level=None)
    task_id = new_task_id("ballot", 12)
    card = card_of(VIEWS.ballot(view, Card("zh_CN", task_id)))
    assert card["card_type"] == "vote_interaction" and card["task_id"] == task_id
    checkbox = card["checkbox"]
    assert isinstance(checkbox, dict) and checkbox["mode"] == 0 and not checkbox["disable"]
    options = [(o["id"], o["text"]) for o in checkbox["option_list"]]
    assert [(parse_option(i), text) for i, text in options] == [(0, "同意"), (1, "反对")]
    assert card["submit_button"] == {"text": "投票", "key": "vote:12"}
    assert parse_key("vote:12") == VotePress(12)
    title = card["main_title"]
    assert isinstance(title, dict) and title["title"] == "#12 换电梯"
    assert "同意：3 · 反对：1" in title["desc"] and "已投 4 / 应投 10" in title["desc"]
    assert new_task_id("ballot", 12) != task_id  # a card sent again is a new task


def test_a_hidden_tally_stays_hidden_and_a_closed_card_is_frozen() -> None:
    hidden = ballot_view(snap(replace(TOPIC, hide_results=True)), voting=True, level=None)
    card = card_of(VIEWS.ballot(hidden, Card("en", "t-1")))
    desc = card["main_title"]["desc"]  # type: ignore[index]
    assert "The tally will be shown after the deadline." in desc and "3" not in desc.split("\n")[1]
    closed = replace(TOPIC, status="closed", outcome={"verdict": "passed"})
    frozen = card_of(
        VIEWS.ballot(ballot_view(snap(closed), voting=True, level=None), Card("zh_CN", "t-2"))
    )
    assert frozen["checkbox"]["disable"] is True  # type: ignore[index]
    assert frozen["submit_button"]["text"] == "已结束"  # type: ignore[index]
    assert "已结束：通过" in frozen["main_title"]["desc"]  # type: ignore[index]


def test_an_opinion_topic_is_a_markdown_message() -> None:
    opinion = replace(TOPIC, rule="opinion")
    body = VIEWS.ballot(
        ballot_view(snap(opinion, counts=()), voting=True, level=None), Card("zh_CN", "t")
    )
    assert body["msgtype"] == "markdown"


def escalation(actions: tuple[CardAction, ...]) -> EscalationCardView:
    return EscalationCardView(
        topic_id=12,
        title="楼道堆物",
        from_level="building",
        from_name="3号楼",
        reason="tie",
        note=None,
        tally=(("同意", 2), ("反对", 2)),
        cast=4,
        eligible=9,
        roll_known=True,
        opinions=1,
        recent_opinions=(),
        age=timedelta(hours=3),
        sla_due_at=datetime(2026, 12, 9, tzinfo=UTC),
        state="open",
        officer=None,
        above_level="community",
        actions=actions,
    )


def test_the_escalation_card_is_a_button_card_of_at_most_six() -> None:
    actions = (
        CardAction(5, CardMove.ACCEPT),
        CardAction(5, CardMove.VOTE, "grid"),
        CardAction(5, CardMove.RESOLVE),
        CardAction(5, CardMove.SEND_UP, "community"),
    )
    card = card_of(VIEWS.escalation_card(escalation(actions), Card("zh_CN", "esc-5-a")))
    buttons = card["button_list"]
    assert isinstance(buttons, list)
    assert [b["text"] for b in buttons] == ["受理", "发起网格表决", "解决", "上报社区"]
    assert [parse_key(b["key"]) for b in buttons] == [
        EscalationPress(5, move)
        for move in (CardMove.ACCEPT, CardMove.VOTE, CardMove.RESOLVE, CardMove.SEND_UP)
    ]
    over = VIEWS.escalation_card(
        escalation(actions + tuple(replace(a, escalation_id=6) for a in actions)),
        Card("en", "esc-5-b"),
    )
    assert len(card_of(over)["button_list"]) == 6  # type: ignore[arg-type]
    done = VIEWS.escalation_card(escalation(()), Card("zh_CN", "esc-5-c"))
    assert done["msgtype"] == "markdown"


def test_a_meeting_message_and_a_rating_request_are_button_cards() -> None:
    shown = meeting_view()
    post = MeetingPost(7, 0, -1, 1, shown.occurrence.created_at, False, None, None)
    message = meeting_message_view(shown, post, live=True)
    assert message.actions == meeting_actions(shown, live=True)
    card = card_of(VIEWS.meeting_message(message, Card("zh_CN", "meet-7-a")))
    keys = [parse_key(b["key"]) for b in card["button_list"]]  # type: ignore[union-attr]
    assert keys == [MeetingPress(7, action.move) for action in message.actions]
    rating = card_of(VIEWS.rating_card(rating_actions(12), "en"))
    assert [parse_key(b["key"]) for b in rating["button_list"]] == [  # type: ignore[union-attr]
        RatingPress(12, r) for r in ("satisfied", "basically", "unsatisfied")
    ]


@pytest.mark.parametrize("key", ["", "vote", "vote:x", "esc:1:fly", "meet:1", "other:1:2"])
def test_a_key_yishi_never_made_is_no_press(key: str) -> None:
    assert parse_key(key) is None
