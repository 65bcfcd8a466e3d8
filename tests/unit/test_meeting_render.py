"""Meeting messages stay within Telegram's limits however long the agenda and the lists."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.services.meetings.views import AgendaLine, Detail, OccurrenceView, meeting_message_view
from channels.telegram.meetings.render import MeetingRenderer
from locales import Translator
from storage.records import Meeting, MeetingOccurrence, MeetingPost, Node

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def view() -> OccurrenceView:
    meeting = Meeting(
        id=3,
        node_id=1,
        chat_id=-1,
        title="协" * 100,
        note="说" * 1000,
        place="地" * 100,
        link="https://example.com/" + "x" * 470,
        repeat="monthly_day",
        repeat_day=31,
        repeat_nth=None,
        local_time="19:00",
        once_on=None,
        reminders=(86400, 3600),
        topic_ids=(),
        scope="here",
        holiday_shift=True,
        status="active",
        created_by=1,
        created_at=NOW,
    )
    occurrence = MeetingOccurrence(
        id=7,
        meeting_id=3,
        planned_at=NOW,
        starts_at=NOW,
        reminders_after=NOW,
        status="scheduled",
        created_at=NOW,
        cancelled_at=None,
    )
    node = Node(
        id=1,
        level="community",
        name="幸福社区",
        parent_id=None,
        requires_approval=True,
        created_at=NOW,
    )
    agenda = [AgendaLine("escalation", n, "题" * 200, "楼" * 64) for n in range(30)]
    agenda += [AgendaLine("item", None, "项" * 200) for _ in range(20)]
    post = MeetingPost(7, 0, -1, 1, NOW, False, None, None)
    return OccurrenceView(meeting, occurrence, node, {"yes": 500}, agenda, [post], 2027)


def test_a_long_agenda_is_cut_with_a_count() -> None:
    renderer = MeetingRenderer(Translator(), ZoneInfo("Asia/Shanghai"))
    shown = view()
    for locale in ("zh_CN", "en"):
        text, markup = renderer.post(locale, meeting_message_view(shown, shown.posts[0], live=True))
        assert len(text) < 4096 and markup is not None
        assert "还有" in text or "more" in text
        names = [(f"居民{n:04d}", "yes") for n in range(500)]
        detail = renderer.detail(locale, Detail(view=shown, answers=names))
        assert len(detail) < 4096 and "460" in detail
