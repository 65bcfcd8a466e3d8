"""What the core says (bot/services/announcement_texts.py) as each channel writes it: the same
keys, values and lines, in Telegram's HTML and WeCom's markdown, what people typed escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services.announcement_texts import Elapsed, Said, Told, Weekday
from channels.common.told import Writer
from channels.wecom.text import WeComText
from channels.wecom.text import escape as markdown
from locales import Translator, escape

ZONE = ZoneInfo("Asia/Shanghai")
TELEGRAM = Writer(Translator(), escape, ZONE)
WECOM = Writer(WeComText(Translator(), ZONE), markdown, ZONE, elapsed=Translator().duration)
AT = datetime(2026, 12, 15, 11, 0, tzinfo=UTC)  # 19:00 in Shanghai, a Tuesday

SENT_UP_LATE = Told(
    (
        Said(
            "escalation.sent_up",
            {
                "id": 7,
                "title": "<i>*1号楼*</i>",
                "reason": Said("reasons.no_quorum"),
                "level": Said("levels.community"),
                "name": "幸福社区",
            },
        ),
        Said("escalation.sent_up_late", {"due": AT}),
        "",
        "居民写的 *重点* <b>",
    )
)


def test_both_channels_say_the_same_lines_in_their_markup() -> None:
    html = TELEGRAM.text("en", SENT_UP_LATE).split("\n")
    md = WECOM.text("en", SENT_UP_LATE).split("\n")
    assert html[0].startswith("⬆️ Topic #7 &lt;i&gt;*1号楼*&lt;/i&gt; could not be settled here")
    assert html[0].endswith("it went up to the community <b>幸福社区</b>.")
    assert md[0].startswith("⬆️ Topic #7 \\<i\\>\\*1号楼\\*\\</i\\> could not be settled here")
    assert md[0].endswith("it went up to the community **幸福社区**.")
    assert "(2026-12-15 19:00)" in html[1] and "(2026-12-15 19:00)" in md[1]
    assert html[2:] == ["", "居民写的 *重点* &lt;b&gt;"]
    assert md[2:] == ["", "居民写的 \\*重点\\* \\<b\\>"]


def test_a_meeting_time_carries_its_weekday_in_the_chat_language() -> None:
    when = Said("meetings.when", {"at": AT, "day": Weekday(AT)})
    assert TELEGRAM.said("zh_CN", when) == "2026-12-15 19:00（周二）"
    assert WECOM.said("en", when) == "2026-12-15 19:00 (Tue)"


def test_an_age_is_written_by_the_channel_that_was_given_how() -> None:
    item = Said(
        "digest.open_item",
        {
            "id": 3,
            "title": "电梯",
            "to_name": "幸福社区",
            "age": Elapsed(timedelta(days=1, hours=2)),
            "due": AT,
            "state": Said("states.open"),
        },
    )
    assert "已 1天2小时，期限 2026-12-15 19:00" in WECOM.said("zh_CN", item)
