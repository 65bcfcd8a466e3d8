"""Every announcement type and every view has a renderer on every channel, and an
announcement survives the outbox."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any, get_type_hints

import pytest

from bot.services.announcements import (
    ANNOUNCEMENT_TYPES,
    Announcement,
    DecisionPublished,
    DigestDue,
    GroupNudge,
    MatterDone,
    MeetingCancelled,
    MinutesOfTopic,
    SentUp,
    TopicClosed,
    UnknownAnnouncement,
    decode,
    render,
    renderer_method,
)
from bot.services.views import VIEW_METHODS, VIEW_TYPES, ViewRenderer
from channels.telegram.delivery.renderers import TelegramAnnouncements, TelegramViews
from channels.wecom.cards import WeComViews
from channels.wecom.renderers import WeComAnnouncements

# Each channel's registries: its classes of renderers (a new channel adds itself here).
CHANNELS: dict[str, type] = {"telegram": TelegramAnnouncements, "wecom": WeComAnnouncements}
VIEW_CHANNELS: dict[str, type] = {"telegram": TelegramViews, "wecom": WeComViews}
MOMENT = datetime(2026, 12, 6, 8, 30, tzinfo=UTC)


def sample(kind: type[Announcement]) -> Announcement:
    """An instance with every field set (none left to its default)."""
    values = {int: 7, str: "进展", bool: True, datetime: MOMENT}
    hints = get_type_hints(kind)
    fields = {}
    for field in dataclasses.fields(kind):
        hint = hints[field.name]
        base = next(v for t, v in values.items() if t is hint or t in getattr(hint, "__args__", ()))
        fields[field.name] = base
    return kind(**fields)


@pytest.mark.parametrize("channel", sorted(CHANNELS))
@pytest.mark.parametrize("kind", ANNOUNCEMENT_TYPES, ids=lambda kind: kind.__name__)
def test_every_channel_renders_every_announcement(channel: str, kind: type) -> None:
    method = getattr(CHANNELS[channel], renderer_method(kind), None)
    assert callable(method), f"{channel} has no renderer for {kind.__name__}"


@pytest.mark.parametrize("channel", sorted(VIEW_CHANNELS))
@pytest.mark.parametrize("kind", VIEW_TYPES, ids=lambda kind: kind.__name__)
def test_every_channel_draws_every_view(channel: str, kind: type) -> None:
    method = getattr(VIEW_CHANNELS[channel], VIEW_METHODS.get(kind, "?"), None)
    assert callable(method), f"{channel} has no renderer for {kind.__name__}"


def test_the_view_renderer_has_one_method_per_view() -> None:
    listed = {name for name in vars(ViewRenderer) if not name.startswith("_")}
    assert set(VIEW_METHODS) == set(VIEW_TYPES) and set(VIEW_METHODS.values()) == listed


async def test_dispatch_reaches_the_renderer_named_for_each_type() -> None:
    class Recorder:
        def __getattr__(self, name: str) -> Any:
            async def record(item: object, context: object) -> str:
                return name

            return record

    for kind in ANNOUNCEMENT_TYPES:
        assert await render(Recorder(), sample(kind), None) == renderer_method(kind)  # type: ignore[arg-type]


def test_kinds_are_distinct_and_every_type_survives_a_json_round_trip() -> None:
    assert len({kind.kind for kind in ANNOUNCEMENT_TYPES}) == len(ANNOUNCEMENT_TYPES)
    for kind in ANNOUNCEMENT_TYPES:
        item = sample(kind)
        stored = json.loads(json.dumps(item.fields()))
        assert decode(item.kind, stored) == item


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [  # exactly as the previous release wrote them
        ("topic.closed", {"topic_id": 4}, TopicClosed(topic_id=4)),
        ("topic.nudge_group", {"topic_id": 4, "missing": 9}, GroupNudge(topic_id=4, missing=9)),
        ("escalation.sent_up", {"escalation_id": 2}, SentUp(escalation_id=2)),
        (
            "escalation.sent_up",
            {"escalation_id": 2, "late_since": MOMENT.isoformat()},
            SentUp(escalation_id=2, late_since=MOMENT),
        ),
        (
            "matter.resolved",
            {"topic_id": 4, "rate": True},
            DecisionPublished(topic_id=4, rate=True),
        ),
        ("matter.done", {"topic_id": 4, "text": "办结"}, MatterDone(topic_id=4, text="办结")),
        (
            "digest",
            {
                "node_id": 1,
                "since": "2026-12-05T08:30:00+00:00",
                "until": MOMENT.isoformat(),
                "weekly": False,
                "late_since": None,
            },
            DigestDue(node_id=1, since=datetime(2026, 12, 5, 8, 30, tzinfo=UTC), until=MOMENT),
        ),
        (
            "meeting.cancelled",
            {"occurrence_id": 3, "whole": True},
            MeetingCancelled(occurrence_id=3, whole=True),
        ),
        (
            "meeting.minutes_topic",
            {"minutes_id": 5, "topic_id": 4},
            MinutesOfTopic(minutes_id=5, topic_id=4),
        ),
    ],
)
def test_rows_of_the_previous_release_decode(
    kind: str, payload: dict[str, Any], expected: Announcement
) -> None:
    assert decode(kind, payload) == expected


def test_a_kind_this_release_does_not_know_is_refused() -> None:
    with pytest.raises(UnknownAnnouncement):
        decode("poll.from_the_future", {"poll_id": 1})
    with pytest.raises(UnknownAnnouncement):  # a required field missing
        decode("topic.closed", {})
    with pytest.raises(UnknownAnnouncement):  # not of its type
        decode("digest", {"node_id": 1, "since": "yesterday", "until": MOMENT.isoformat()})
