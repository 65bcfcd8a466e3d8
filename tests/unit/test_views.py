"""What a ballot message says is a view built in the core; Telegram turns its actions into
buttons whose callback data its own codecs read back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.catalogue import load_catalogue
from bot.services.escalation.views import CardMove, rating_actions
from bot.services.meetings.views import MeetingMove, meeting_actions
from bot.services.registration.service import PendingCard
from bot.services.registration.views import registration_card_view
from bot.services.topics.service import TopicSnapshot
from bot.services.topics.views import (
    BallotState,
    OpinionAction,
    PrivateOpinionAction,
    Verdict,
    VoteAction,
    ballot_view,
)
from channels.telegram.callbacks import RatingChoice, VoteChoice
from channels.telegram.escalation.render import RATING_KEYS, EscalationRenderer, card_button
from channels.telegram.meetings.callbacks import MeetingAnswer, MeetingWho
from channels.telegram.meetings.render import MeetingRenderer
from channels.telegram.topics.render import TopicRenderer
from locales import Translator
from locales import load_catalogue as load_locale
from storage.records import Registration, Topic, TopicPost
from tests.unit.test_meeting_render import view as meeting_view

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
TOPIC = Topic(
    id=12,
    node_id=3,
    title="换电梯",
    description="",
    options=("同意", "反对"),
    rule="majority",
    category=None,
    quorum_percent=None,
    secret=False,
    household=False,
    hide_results=False,
    scope="here",
    status="open",
    deadline=NOW,
    created_by=1,
    created_at=NOW,
    closed_at=None,
    outcome=None,
    ballot_salt=None,
    last_nudge_at=None,
)


def snap(topic: Topic = TOPIC, counts: tuple[int, ...] = (3, 1)) -> TopicSnapshot:
    post = TopicPost(topic.id, -1, 3, 9, True, 10, None)
    return TopicSnapshot(topic, [post], counts, sum(counts), 10, 2)


def renderer() -> TopicRenderer:
    return TopicRenderer(Translator(), load_catalogue(), ZoneInfo("Asia/Shanghai"), "yishi_bot")


def test_a_voting_chat_may_vote_for_each_option_and_give_opinions() -> None:
    view = ballot_view(snap(), voting=True, level=None)
    assert view.state is BallotState.OPEN and view.verdict is None
    assert view.tally == (("同意", 3), ("反对", 1)) and not view.tally_hidden
    assert (view.cast, view.eligible, view.opinions) == (4, 10, 2)
    assert view.actions == (
        VoteAction(12, 0, "同意"),
        VoteAction(12, 1, "反对"),
        OpinionAction(12),
        PrivateOpinionAction(12),
    )
    text, markup = renderer().ballot("zh_CN", view)
    assert markup is not None
    votes, link = markup.inline_keyboard[:2], markup.inline_keyboard[2][0]
    assert [VoteChoice.decode(row[0].callback_data) for row in votes] == [  # type: ignore[arg-type]
        VoteChoice(12, 0),
        VoteChoice(12, 1),
    ]
    assert link.url == "https://t.me/yishi_bot?start=op_12"
    assert "同意：3" in text


def test_elsewhere_only_a_private_opinion_and_hidden_counts_stay_hidden() -> None:
    hidden = replace(TOPIC, hide_results=True)
    view = ballot_view(snap(hidden), voting=False, level=None)
    assert view.actions == (PrivateOpinionAction(12),) and view.tally_hidden
    text, markup = renderer().ballot("en", view)
    assert markup is not None and len(markup.inline_keyboard) == 1
    assert "The tally will be shown after the deadline." in text and "同意: 3" not in text


def test_a_closed_ballot_offers_nothing_and_says_its_verdict() -> None:
    closed = replace(TOPIC, status="closed", outcome={"verdict": "unresolved", "reason": "tie"})
    view = ballot_view(snap(closed), voting=True, level=None)
    assert view.actions == () and view.state is BallotState.CLOSED
    assert view.verdict == Verdict("unresolved", reason="tie")
    assert renderer().ballot("zh_CN", view)[1] is None


@pytest.mark.parametrize("move", list(CardMove), ids=lambda move: move.name)
def test_every_card_action_has_a_labelled_telegram_button(move: CardMove) -> None:
    key, letter = card_button(move)
    for locale in ("zh_CN", "en"):
        assert f"escalation.{key}" in load_locale(locale), (locale, key)
    assert len({card_button(other)[1] for other in CardMove}) == len(CardMove)
    assert len(letter) == 1


def test_a_live_meeting_message_offers_its_answers_and_a_held_one_nothing() -> None:
    shown = meeting_view()
    assert [a.move for a in meeting_actions(shown, live=True)] == list(MeetingMove)
    assert meeting_actions(shown, live=False) == ()
    held = replace(shown, occurrence=replace(shown.occurrence, status="held"))
    assert meeting_actions(held, live=True) == ()
    markup = MeetingRenderer(Translator(), ZoneInfo("Asia/Shanghai")).buttons(
        "zh_CN", meeting_actions(shown, live=True)
    )
    answers, who = markup.inline_keyboard
    assert [MeetingAnswer.decode(b.callback_data) for b in answers] == [  # type: ignore[arg-type]
        MeetingAnswer(7, "y"),
        MeetingAnswer(7, "n"),
    ]
    assert MeetingWho.decode(who[0].callback_data) == MeetingWho(7)  # type: ignore[arg-type]


def test_a_registration_card_offers_a_decision_on_the_first_few_pending() -> None:
    def registration(number: int) -> Registration:
        return Registration(
            number, 100 + number, 3, number, f"2-{number}", None, "pending", NOW, None
        )

    node = meeting_view().node
    card = PendingCard(node, -1, [(registration(n), None) for n in range(1, 8)], [], None)
    shown = registration_card_view(card, first=5)
    assert (shown.pending, len(shown.shown), shown.more) == (7, 5, 2)
    actions = shown.actions
    assert [(a.unit, a.approve) for a in actions[:2]] == [("2-1", True), ("2-1", False)]
    assert len(actions) == 10 and actions[-1].unit == "2-5"


def test_a_rating_request_offers_each_rating_and_telegram_reads_it_back() -> None:
    actions = rating_actions(12)
    assert [action.rating for action in actions] == ["satisfied", "basically", "unsatisfied"]
    markup = EscalationRenderer(Translator(), UTC).rating_buttons("en", actions)
    decoded = [RatingChoice.decode(b.callback_data) for b in markup.inline_keyboard[0]]  # type: ignore[arg-type]
    assert [(d.topic_id, RATING_KEYS[d.rating]) for d in decoded if d] == [
        (12, "satisfied"),
        (12, "basically"),
        (12, "unsatisfied"),
    ]
