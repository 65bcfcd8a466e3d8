"""A vote card is drawn from its face, kept per topic as it is, and the tally filled in: the
card and its JSON are exactly what drawing the whole card and ``json.dumps`` of it give
(``drawn_whole`` below is the drawing as it was before faces), and a face is never used for
a topic that changed since it was drawn."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.topics.service import TopicSnapshot
from bot.services.topics.views import BallotState, BallotView, Verdict, VoteAction, ballot_view
from channels.wecom import cards
from channels.wecom.cards import (
    DESC_BYTES,
    MAX_OPTIONS,
    QUESTION,
    TITLE_BYTES,
    Card,
    WeComViews,
    option_id,
    vote_key,
)
from channels.wecom.replies import EncodedCard
from channels.wecom.text import WeComText, cut
from locales import Translator
from storage.records import Topic, TopicPost
from tests.unit.test_views import TOPIC

TEXT = WeComText(Translator(), ZoneInfo("Asia/Shanghai"))


def drawn_whole(views: WeComViews, view: BallotView, card: Card) -> dict[str, Any]:
    """A vote card drawn whole, as WeComViews.ballot drew one before the faces."""
    t, locale = TEXT, card.locale
    assert view.tally is not None
    title = t.plain(locale, "wecom.ballot_title", id=view.topic_id, title=view.title)
    deadline = t.plain(locale, "topics.deadline", deadline=t.when(locale, view.deadline))
    turnout = t.plain(
        locale, "topics.turnout", cast=view.cast, eligible=view.eligible, opinions=view.opinions
    )
    if view.tally_hidden:
        counts = t.plain(locale, "topics.tally_hidden")
    else:
        counts = " · ".join(
            t.plain(locale, "topics.tally_line", option=option, count=count)
            for option, count in view.tally
        )
    facts = [t.plain(locale, "wecom.secret_short")] if view.secret else []
    if view.scope_level is not None:
        level = t.plain(locale, f"levels.{view.scope_level}")
        facts.append(t.plain(locale, "topics.scope_all", level=level))
    desc = "\n".join([*facts, counts, turnout])
    votes = [action for action in view.actions if isinstance(action, VoteAction)]
    open_ = view.state is BallotState.OPEN and bool(votes)
    if view.state is BallotState.CANCELLED:
        desc = f"{t.plain(locale, 'topics.cancelled_footer')}\n{desc}"
    elif view.state is BallotState.CLOSED:
        verdict = views.verdict(locale, view.verdict or Verdict("opinion"))
        desc = f"{t.plain(locale, 'topics.closed_footer', verdict=verdict)}\n{desc}"
    else:
        desc = f"{deadline}\n{desc}"
    options = (
        [(action.option, action.label) for action in votes]
        if open_
        else [(index, option) for index, (option, _) in enumerate(view.tally)]
    )
    submit = "wecom.vote_button" if open_ else "wecom.vote_closed_button"
    return {
        "msgtype": "template_card",
        "template_card": {
            "card_type": "vote_interaction",
            "main_title": {"title": cut(title, TITLE_BYTES), "desc": cut(desc, DESC_BYTES)},
            "checkbox": {
                "question_key": QUESTION,
                "mode": 0,
                "disable": not open_,
                "option_list": [
                    {"id": option_id(index), "text": cut(label, 64), "is_checked": False}
                    for index, label in options[:MAX_OPTIONS]
                ],
            },
            "submit_button": {"text": t.plain(locale, submit), "key": vote_key(view.topic_id)},
            "task_id": card.task_id,
        },
    }


def encoded_whole(template: dict[str, Any], task_id: str) -> str:
    """A press's answer as it was encoded before the faces (LatestCards.encoded)."""
    return EncodedCard.of(template | {"task_id": task_id or template["task_id"]}).json


# What people type into titles and options: braces as str.format reads them, markdown,
# quotes and backslashes for JSON, controls, emoji, and long enough to be cut.
words = st.text(
    alphabet=st.sampled_from(list('{}{0}{count}!s:>3"\\\n\t\x00\x1f<>*_#`议事电梯 aZ9·😀\u2028')),
    min_size=1,
    max_size=90,
)
outcomes = st.one_of(
    st.none(),
    st.sampled_from(["passed", "rejected", "opinion", "no_quorum", "tie"]).map(
        lambda verdict: {"verdict": verdict}
    ),
    st.integers(0, 2).map(lambda winner: {"verdict": "passed", "winner": winner}),
    st.sampled_from([None, "tie", "no_quorum", "no_votes"]).map(
        lambda reason: {"verdict": "unresolved", "reason": reason}
    ),
)


@st.composite
def topics(draw: st.DrawFn, topic_id: int | None = None) -> Topic:
    options = draw(
        st.one_of(
            st.just(("同意", "反对")),
            st.just(("Agree", "Disagree", "Abstain")),
            st.lists(words, min_size=3, max_size=MAX_OPTIONS + 3).map(tuple),
        )
    )
    return replace(
        TOPIC,
        id=topic_id if topic_id is not None else draw(st.integers(1, 10**9)),
        title=draw(words),
        description=draw(st.sampled_from(["", "加装电梯的方案"])),
        options=options,
        rule=draw(st.sampled_from(["majority", "two_thirds", "opinion"])),
        secret=draw(st.booleans()),
        hide_results=draw(st.booleans()),
        scope=draw(st.sampled_from(["here", "all"])),
        status=draw(st.sampled_from(["open", "closed", "cancelled"])),
        deadline=draw(
            st.datetimes(datetime(2020, 1, 1), datetime(2040, 1, 1), timezones=st.just(UTC))
        ),
        outcome=draw(outcomes),
    )


@st.composite
def tallies(draw: st.DrawFn, topic: Topic) -> TopicSnapshot:
    counts = tuple(draw(st.integers(0, 10**7)) for _ in topic.options)
    cast = sum(counts)
    eligible = cast + draw(st.integers(0, 10**6))
    post = TopicPost(topic.id, -1, 3, 9, True, 10, None)
    return TopicSnapshot(topic, [post], counts, cast, eligible, draw(st.integers(0, 10**6)))


layouts = st.tuples(
    st.sampled_from(["zh_CN", "en", "fr"]),  # fr: a language Yishi has no words in
    st.booleans(),  # voting there
    st.sampled_from(["building", "grid", "community"]),  # the level, for scope=all
)
task_ids = st.one_of(st.just(""), st.text(max_size=30), st.just("ballot-12-0a1b2c3d4e5f"))


@settings(max_examples=400, deadline=None)
@given(data=st.data(), layout=layouts, task_id=task_ids)
def test_a_card_drawn_from_its_face_is_the_card_drawn_whole_and_encodes_as_json_dumps(
    data: st.DataObject, layout: tuple[str, bool, str], task_id: str
) -> None:
    locale, voting, level = layout
    topic = data.draw(topics())
    snap = data.draw(tallies(topic))
    views = WeComViews(TEXT)
    view = ballot_view(snap, voting=voting, level=level)
    card = views.vote_card(snap, voting=voting, level=level, locale=locale)
    if topic.is_opinion:  # no card: a message, drawn as it always was
        assert card is None
        assert views.ballot(view, Card(locale, "t"))["msgtype"] == "markdown"
        return
    assert card is not None
    whole = drawn_whole(views, view, Card(locale, card.task_id))
    assert card.body() == whole
    assert views.ballot(view, Card(locale, card.task_id)) == whole
    encoded = card.encoded(task_id)
    assert encoded.json == encoded_whole(whole["template_card"], task_id)
    assert encoded.card == whole["template_card"] | {"task_id": task_id or card.task_id}
    assert card.encoded(task_id) is encoded  # encoded once for the presses on one card
    if task_id:
        assert card.body(task_id) == drawn_whole(views, view, Card(locale, task_id))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), layout=layouts)
def test_a_topic_that_changed_is_drawn_anew_and_a_tally_never_shows_an_older_one(
    data: st.DataObject, layout: tuple[str, bool, str]
) -> None:
    """One topic's tallies in turn, the topic changing between some (edited, extended,
    closed, cancelled, its outcome stored), the chat's language and layout too: every card
    is the one drawn whole from that tally."""
    views = WeComViews(TEXT)
    topic = data.draw(topics(topic_id=12))
    for _ in range(data.draw(st.integers(2, 8))):
        change = data.draw(
            st.sampled_from(["none", "none", "topic", "title", "status", "deadline", "layout"])
        )
        if change == "topic":
            topic = replace(data.draw(topics(topic_id=12)), options=topic.options)
        elif change == "title":
            topic = replace(topic, title=data.draw(words))
        elif change == "status":
            topic = replace(
                topic,
                status=data.draw(st.sampled_from(["open", "closed", "cancelled"])),
                outcome=data.draw(outcomes),
            )
        elif change == "deadline":
            topic = replace(topic, deadline=topic.deadline + timedelta(days=1))
        elif change == "layout":
            layout = data.draw(layouts)
        locale, voting, level = layout
        snap = data.draw(tallies(topic))
        card = views.vote_card(snap, voting=voting, level=level, locale=locale)
        if topic.is_opinion:
            assert card is None
            continue
        assert card is not None
        view = ballot_view(snap, voting=voting, level=level)
        assert card.body("t") == drawn_whole(views, view, Card(locale, "t"))


def test_an_unchanged_topic_shares_its_face_and_each_tally_fills_in_its_counts() -> None:
    views = WeComViews(TEXT)
    post = TopicPost(12, -1, 3, 9, True, 10, None)
    first = views.vote_card(
        TopicSnapshot(TOPIC, [post], (3, 1), 4, 10, 2), voting=True, level=None, locale="zh_CN"
    )
    # the next tally's topic is read again: equal, not the same object
    again = replace(TOPIC)
    second = views.vote_card(
        TopicSnapshot(again, [post], (3, 2), 5, 10, 2), voting=True, level=None, locale="zh_CN"
    )
    assert first is not None and second is not None and first.face is second.face
    assert "同意：3 · 反对：1" in first.desc and "同意：3 · 反对：2" in second.desc
    assert "已投 5 / 应投 10 · 意见 2 条" in second.desc
    english = views.vote_card(
        TopicSnapshot(again, [post], (3, 2), 5, 10, 2), voting=True, level=None, locale="en"
    )
    assert english is not None and english.face is not first.face
    renamed = replace(TOPIC, title="换电梯（修订）")
    third = views.vote_card(
        TopicSnapshot(renamed, [post], (3, 2), 5, 10, 2), voting=True, level=None, locale="zh_CN"
    )
    assert third is not None and third.face.title == "#12 换电梯（修订）"
    fourth = views.vote_card(
        TopicSnapshot(renamed, [post], (4, 2), 6, 10, 2), voting=True, level=None, locale="zh_CN"
    )
    assert fourth is not None and fourth.face is third.face


def test_the_faces_kept_are_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(cards, "FACES", 3)
    views = WeComViews(TEXT)
    post = TopicPost(12, -1, 3, 9, True, 10, None)
    for topic_id in range(1, 6):
        topic = replace(TOPIC, id=topic_id)
        snap = TopicSnapshot(topic, [post], (1, 0), 1, 10, 0)
        assert views.vote_card(snap, voting=True, level=None, locale="zh_CN") is not None
    assert [key[0] for key in views._faces] == [3, 4, 5]


def test_an_encoded_card_reads_back_as_the_card_it_encodes() -> None:
    card = {"card_type": "vote_interaction", "main_title": {"title": "#1 “议”\\", "desc": ""}}
    encoded = EncodedCard.of(card)
    assert encoded.json == json.dumps(card, ensure_ascii=False) and encoded.card == card
