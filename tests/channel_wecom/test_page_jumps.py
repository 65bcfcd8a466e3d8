"""WeCom's cards with the web on: the meeting, escalation and rating cards jump to their page
(card_action type 1, as WeCom checks it), one with nothing left to press is a message whose
last line is the page; the vote card has no jump (WeCom's vote card takes none)."""

from __future__ import annotations

from typing import Any

from bot.services.escalation.views import CardAction, CardMove, rating_actions
from bot.services.meetings.views import meeting_message_view
from bot.services.topics.views import ballot_view
from bot.services.web_links import WebLinks
from channels.wecom.cards import Card, WeComViews
from emulators.wecom.cards import check_card
from storage.records import MeetingPost
from tests.channel_wecom.test_renderers import TEXT, escalation
from tests.unit.test_meeting_render import view as meeting_view
from tests.unit.test_views import snap

PUBLIC = "https://yishi.example.org"
VIEWS = WeComViews(TEXT, WebLinks(PUBLIC))


def jump(body: dict[str, Any]) -> Any:
    assert body["msgtype"] == "template_card"
    check_card(body["template_card"])
    return body["template_card"].get("card_action")


def test_cards_jump_to_their_page() -> None:
    shown = meeting_view()
    post = MeetingPost(7, 0, -1, 1, shown.occurrence.created_at, False, None, None)
    message = meeting_message_view(shown, post, live=True)
    meeting = VIEWS.meeting_message(message, Card("zh_CN", "meet-7-a"))
    assert jump(meeting) == {"type": 1, "url": f"{PUBLIC}/m/{shown.meeting.id}"}
    card = escalation((CardAction(5, CardMove.ACCEPT),))
    assert jump(VIEWS.escalation_card(card, Card("zh_CN", "esc-5-a"))) == {
        "type": 1,
        "url": f"{PUBLIC}/t/{card.topic_id}",
    }
    assert jump(VIEWS.rating_card(rating_actions(12), "en")) == {
        "type": 1,
        "url": f"{PUBLIC}/t/12",
    }


def test_a_card_with_nothing_to_press_ends_with_the_page_and_a_vote_card_has_no_jump() -> None:
    card = escalation(())
    done = VIEWS.escalation_card(card, Card("zh_CN", "esc-5-c"))
    assert done["msgtype"] == "markdown"
    link = f"{PUBLIC}/t/{card.topic_id}"
    assert done["markdown"]["content"].splitlines()[-1] == f"🌐 网页：[{link}]({link})"
    vote = VIEWS.ballot(ballot_view(snap(), voting=True, level=None), Card("zh_CN", "ballot-1-a"))
    assert jump(vote) is None and "jump_list" not in vote["template_card"]
