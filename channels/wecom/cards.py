"""WeCom's drawing of the living messages' views (bot/services/views.py) as template cards,
and the codec of what a press on them sends back.

- a ballot: a ``vote_interaction`` card, one option per ``VoteAction`` (WeCom allows 20), the
  tally in the title's description unless it is hidden until the close (then it says so),
  with whether the vote is secret and which chats vote together; frozen (``disable``) once
  closed. An opinion topic (nothing to vote) is a markdown message. A card is its face
  (``BallotFace``: all but the tally, kept per topic as it is, per language and layout) and
  the tally filled in (``VoteCard``), encoded around the JSON of the face.
- an escalation card, a meeting message, a registration card, a rating request: a
  ``button_interaction`` card with at most six buttons, one per action.

Cards take no markup: their texts are plain (``WeComText.plain``). A card's ``task_id`` must
be new for every card the bot sends (WeCom refuses a reused one), so the caller gives it in
the ``Card`` context. Each button's ``key`` (and the vote's ``submit_button.key``) is encoded
here and parsed by :func:`parse_key`: a key that does not parse is a stale or foreign card.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, assert_never

from bot.services.escalation.views import CardMove, EscalationCardView, RateAction
from bot.services.meetings.views import MeetingMessageView, MeetingMove, MeetingStatus
from bot.services.registration.views import RegistrationCardView
from bot.services.topics.guided import Action
from bot.services.topics.service import TopicSnapshot
from bot.services.topics.views import (
    BallotState,
    BallotView,
    Verdict,
    VoteAction,
    ballot_view,
    turnout_key,
)
from bot.services.views import ViewRenderer
from bot.services.web_links import WebLinks
from channels.wecom.replies import EncodedCard
from channels.wecom.text import Markdown, WeComText, cut, literal, message
from storage.records import Topic

MAX_BUTTONS = 6
MAX_OPTIONS = 20
QUESTION = "ballot"
TITLE_BYTES = 120  # WeCom shows about 26 characters of a title; the rest is cut there
DESC_BYTES = 240
SUBTITLE_BYTES = 1000
FACES = 4096  # vote cards' faces kept (a topic's, per language and layout of its chats)
_JSON = json.JSONEncoder(ensure_ascii=False)  # as json.dumps(…, ensure_ascii=False) encodes


def new_task_id(kind: str, item: int) -> str:
    """A task_id no card of this bot had: WeCom refuses a reused one."""
    return f"{kind}-{item}-{secrets.token_hex(6)}"


@dataclass(frozen=True, slots=True)
class Card:
    """The context a card is drawn in: the chat's language and the card's task_id."""

    locale: str
    task_id: str


# What a press sends back --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VotePress:
    topic_id: int


@dataclass(frozen=True, slots=True)
class EscalationPress:
    escalation_id: int
    move: CardMove


@dataclass(frozen=True, slots=True)
class MeetingPress:
    occurrence_id: int
    move: MeetingMove


@dataclass(frozen=True, slots=True)
class RegistrationPress:
    registration_id: int
    approve: bool


@dataclass(frozen=True, slots=True)
class RatingPress:
    topic_id: int
    rating: str


@dataclass(frozen=True, slots=True)
class ProposalPress:
    """A press on a proposal card: ``step`` is one of PROPOSAL_STEPS."""

    proposal_id: int
    step: str


# a: accept (choose the category), d: decline (choose the reason), b: back, c: accept with
# the category chosen, r: decline with the reason chosen, x: decided (nothing left to do)
PROPOSAL_STEPS = frozenset("adbcrx")


@dataclass(frozen=True, slots=True)
class TopicStepPress:
    """A press on a guided /topic's card: which draft (its serial), what the button does."""

    serial: int
    action: Action
    arg: int


Press = (
    VotePress
    | EscalationPress
    | MeetingPress
    | RegistrationPress
    | RatingPress
    | ProposalPress
    | TopicStepPress
)


def topic_step_key(serial: int, action: Action, arg: int = 0) -> str:
    return f"tw:{serial}:{action.value}:{arg}"


def vote_key(topic_id: int) -> str:
    return f"vote:{topic_id}"


def option_id(option: int) -> str:
    return f"o{option}"


def parse_option(value: str) -> int | None:
    return int(value[1:]) if value.startswith("o") and value[1:].isdigit() else None


def selected(payload: dict[str, Any], question_key: str) -> str | None:
    """The option id chosen for ``question_key`` in a press (a vote card's checkbox, a button
    card's drop-down): ``selected_items.selected_item[].option_ids.option_id[]``."""
    chosen_items = payload.get("selected_items")
    items = chosen_items.get("selected_item") if isinstance(chosen_items, dict) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("question_key") != question_key:
            continue
        ids = item.get("option_ids")
        chosen = ids.get("option_id") if isinstance(ids, dict) else None
        if isinstance(chosen, list) and chosen:
            return str(chosen[0])
    return None


def parse_key(key: str) -> Press | None:
    """The press a card's key stands for; None for a key Yishi never made."""
    parts = key.split(":")
    try:
        match parts:
            case ["vote", topic]:
                return VotePress(int(topic))
            case ["esc", escalation, move]:
                return EscalationPress(int(escalation), CardMove(move))
            case ["meet", occurrence, move]:
                return MeetingPress(int(occurrence), MeetingMove(move))
            case ["reg", registration, approve]:
                return RegistrationPress(int(registration), approve == "1")
            case ["rate", topic, rating]:
                return RatingPress(int(topic), rating)
            case ["prop", proposal, step] if step in PROPOSAL_STEPS:
                return ProposalPress(int(proposal), step)
            case ["tw", serial, action, arg]:
                return TopicStepPress(int(serial), Action(action), int(arg))
    except ValueError:
        return None
    return None


# Vote cards, tally by tally -------------------------------------------------------------


class BallotFace:
    """What a vote card shows that no tally changes: the topic's title, options, state and
    facts in one chat's language and layout, drawn once, and its JSON around the title's
    description and the task_id, encoded once. A tally only fills in the description (its
    counts and turnout, through a ``str.format`` pattern) and encodes that: a burst of
    presses draws a card for about every other press."""

    __slots__ = ("_around", "_desc", "disable", "key", "options", "submit", "title", "topic_id")

    def __init__(
        self,
        topic_id: int,
        title: str,
        desc: str,
        options: Sequence[tuple[str, str]],
        disable: bool,
        submit: str,
        key: str,
    ) -> None:
        """``desc``: the title's description as a pattern of the tally, its counts
        positional (``{0!s}``: the first option's), ``{cast!s}``, ``{eligible!s}`` and
        ``{opinions!s}``; ``options``: each one's id and label, as shown."""
        self.topic_id = topic_id
        self.title = title
        self.options = tuple(options)
        self.disable = disable
        self.submit = submit
        self.key = key
        self._desc = desc
        self._around: tuple[str, str] | None = None  # the JSON, once a card was encoded

    def drawn(self, counts: Sequence[int], cast: int, eligible: int, opinions: int) -> VoteCard:
        """The card of this tally (``counts``: by option, in the topic's order)."""
        desc = self._desc.format(*counts, cast=cast, eligible=eligible, opinions=opinions)
        return VoteCard(self, cut(desc, DESC_BYTES))

    def template(self, desc: str, task_id: str) -> dict[str, Any]:
        """The card with this description, as a ``template_card`` (a new dict: the caller
        may change it)."""
        return {
            "card_type": "vote_interaction",
            "main_title": {"title": self.title, "desc": desc},
            "checkbox": self._checkbox(),
            "submit_button": self._submit_button(),
            "task_id": task_id,
        }

    def encoded(self, desc: str, task_id: str) -> EncodedCard:
        """:meth:`template`'s JSON: only the description and the task_id are encoded."""
        around = self._around
        if around is None:
            around = self._around = self._json_around()
        encode = _JSON.encode
        return EncodedCard(around[0] + encode(desc) + around[1] + encode(task_id) + "}")

    def _json_around(self) -> tuple[str, str]:
        """The card's JSON before its description, and between that and its task_id: the
        keys in :meth:`template`'s order, as ``json.dumps`` writes them
        (tests/channel_wecom/test_vote_cards.py holds them to it)."""
        encode = _JSON.encode
        before_desc = (
            '{"card_type": "vote_interaction", '
            f'"main_title": {{"title": {encode(self.title)}, "desc": '
        )
        before_task_id = (
            f'}}, "checkbox": {encode(self._checkbox())}, '
            f'"submit_button": {encode(self._submit_button())}, "task_id": '
        )
        return before_desc, before_task_id

    def _checkbox(self) -> dict[str, Any]:
        return {
            "question_key": QUESTION,
            "mode": 0,
            "disable": self.disable,
            "option_list": [
                {"id": id_, "text": text, "is_checked": False} for id_, text in self.options
            ],
        }

    def _submit_button(self) -> dict[str, str]:
        return {"text": self.submit, "key": self.key}


class VoteCard:
    """A vote card as one tally draws it: its face and the title's description saying the
    tally. Its JSON is kept for the last task_id it answered on (the presses on a chat's
    card all answer on that card's task_id)."""

    __slots__ = ("_encoded", "_task_id", "desc", "face")

    def __init__(self, face: BallotFace, desc: str) -> None:
        self.face = face
        self.desc = desc
        self._task_id: str | None = None
        self._encoded: tuple[str, EncodedCard] | None = None

    @property
    def task_id(self) -> str:
        """The card's own task_id, for an answer on none (made when first asked for: a
        press names the card it answers)."""
        if self._task_id is None:
            self._task_id = new_task_id("ballot", self.face.topic_id)
        return self._task_id

    def body(self, task_id: str | None = None) -> dict[str, Any]:
        """The card as a message (a new dict), on ``task_id`` or else its own."""
        template = self.face.template(self.desc, task_id or self.task_id)
        return {"msgtype": "template_card", "template_card": template}

    def encoded(self, task_id: str) -> EncodedCard:
        """The card as the answer to a press on the card ``task_id`` (the card WeCom
        updates; none given: its own), encoded once for every answer that shows it."""
        task_id = task_id or self.task_id
        known = self._encoded
        if known is not None and known[0] == task_id:
            return known[1]
        encoded = self.face.encoded(self.desc, task_id)
        self._encoded = (task_id, encoded)
        return encoded


# Drawing -------------------------------------------------------------------------------


class WeComViews:
    def __init__(self, text: WeComText, links: WebLinks | None = None) -> None:
        self._t = text
        self._links = links or WebLinks(None)  # the pages' links; none while the web is off
        # vote cards' faces by (topic, language, voting, level), with the topic they show;
        # the least recently drawn first
        self._faces: dict[tuple[int, str, bool, str | None], tuple[Topic, BallotFace | None]] = {}

    @property
    def links(self) -> WebLinks:
        return self._links

    @property
    def text(self) -> WeComText:
        """The catalogues the cards are written from."""
        return self._t

    def verdict(self, locale: str, verdict: Verdict) -> str:
        t = self._t
        if verdict.key == "winner":
            return t.plain(locale, "verdicts.winner", option=verdict.option or "")
        if verdict.key == "unresolved":
            reason = t.plain(locale, f"verdicts.{verdict.reason or 'no_votes'}")
            return t.plain(locale, "verdicts.unresolved", reason=reason)
        return t.plain(locale, f"verdicts.{verdict.key}")

    def _title(self, title: str, desc: str) -> dict[str, str]:
        return {"title": cut(title, TITLE_BYTES), "desc": cut(desc, DESC_BYTES)}

    def ballot(self, view: BallotView, card: Card) -> dict[str, Any]:
        if view.tally is None:  # an opinion topic: nothing to vote on, a message
            t, locale = self._t, card.locale
            title = t.plain(locale, "wecom.ballot_title", id=view.topic_id, title=view.title)
            deadline = t.plain(locale, "topics.deadline", deadline=t.when(locale, view.deadline))
            turnout = t.plain(
                locale,
                turnout_key(view),
                cast=view.cast,
                eligible=view.eligible,
                opinions=view.opinions,
            )
            lines = [f"**{title}**", view.description or "", deadline, turnout]
            return message("\n\n".join(line for line in lines if line))
        face = self.ballot_face(view, card.locale)
        counts = [count for _, count in view.tally]
        return face.drawn(counts, view.cast, view.eligible, view.opinions).body(card.task_id)

    def vote_card(
        self, snap: TopicSnapshot, *, voting: bool, level: str | None, locale: str
    ) -> VoteCard | None:
        """The vote card of a chat (``voting``: its people vote there; ``level``: as for
        :func:`ballot_view`) from the tally ``snap``, None for an opinion topic (it has no
        card). Its face is drawn again only when the topic is not as the face drew it (any
        field: title, options, state, deadline, outcome, ...): each tally of an unchanged
        topic fills in its counts alone."""
        topic = snap.topic
        key = (topic.id, locale, voting, level)
        known = self._faces.pop(key, None)
        if known is None or known[0] != topic:
            view = ballot_view(snap, voting=voting, level=level)
            known = (topic, None if view.tally is None else self.ballot_face(view, locale))
        self._faces[key] = known
        if len(self._faces) > FACES:
            del self._faces[next(iter(self._faces))]
        face = known[1]
        if face is None:
            return None
        return face.drawn(snap.counts, snap.cast, snap.eligible, snap.opinions)

    def ballot_face(self, view: BallotView, locale: str) -> BallotFace:
        """The face of ``view``'s vote card (a topic that has a tally) in ``locale``: all
        but its tally's counts and turnout, which stay fields of its description."""
        assert view.tally is not None
        t = self._t
        title = t.plain(locale, "wecom.ballot_title", id=view.topic_id, title=view.title)
        if view.tally_hidden:
            counts = literal(t.plain(locale, "topics.tally_hidden"))
        else:
            counts = " · ".join(
                t.plain_pattern(locale, "topics.tally_line", {"count": str(index)}, option=option)
                for index, (option, _) in enumerate(view.tally)
            )
        turnout = t.plain_pattern(locale, turnout_key(view), _TURNOUT)
        votes = [action for action in view.actions if isinstance(action, VoteAction)]
        open_ = view.state is BallotState.OPEN and bool(votes)
        if view.state is BallotState.CANCELLED:
            first = t.plain(locale, "topics.cancelled_footer")
        elif view.state is BallotState.CLOSED:
            verdict = self.verdict(locale, view.verdict or Verdict("opinion"))
            first = t.plain(locale, "topics.closed_footer", verdict=verdict)
        else:
            first = t.plain(locale, "topics.deadline", deadline=t.when(locale, view.deadline))
        facts = [first]
        if view.secret:
            facts.append(t.plain(locale, "wecom.secret_short"))
        if view.scope_level is not None:
            level = t.plain(locale, f"levels.{view.scope_level}")
            facts.append(t.plain(locale, "topics.scope_all", level=level))
        desc = "\n".join([literal("\n".join(facts)), counts, turnout])
        options = (
            [(action.option, action.label) for action in votes]
            if open_
            else [(index, option) for index, (option, _) in enumerate(view.tally)]
        )
        return BallotFace(
            topic_id=view.topic_id,
            title=cut(title, TITLE_BYTES),
            desc=desc,
            options=[(option_id(index), cut(label, 64)) for index, label in options[:MAX_OPTIONS]],
            disable=not open_,
            submit=t.plain(locale, "wecom.vote_button" if open_ else "wecom.vote_closed_button"),
            key=vote_key(view.topic_id),
        )

    def stale_vote_card(self, said: str, locale: str, task_id: str) -> dict[str, Any]:
        """What a press on a vote card Yishi cannot read is answered with: ``said``, and
        nothing left to press."""
        return {
            "card_type": "vote_interaction",
            "main_title": self._title(said, ""),
            "checkbox": {
                "question_key": QUESTION,
                "mode": 0,
                "disable": True,
                "option_list": [{"id": "o0", "text": "—", "is_checked": False}],
            },
            "submit_button": {
                "text": self._t.plain(locale, "wecom.vote_closed_button"),
                "key": "stale",
            },
            "task_id": task_id,
        }

    def page_line(self, locale: str, link: str | None) -> str:
        """``🌐 网页：<link>`` as a markdown link line; empty while the web is off."""
        if link is None:
            return ""
        return self._t(locale, "share.page_line", link=markdown_link(link))

    def _buttons(
        self,
        card: Card,
        title: str,
        desc: str,
        body: str,
        buttons: list[tuple[str, str]],
        link: str | None = None,
    ) -> dict[str, Any]:
        """A button card, opening ``link`` (the item's web page) when the card itself is
        tapped; with no buttons (nothing left to do) a markdown message, the link its last
        line."""
        if not buttons:
            page = self.page_line(card.locale, link)
            parts = (f"**{title}**", desc, body, page)
            return message("\n\n".join(part for part in parts if part))
        drawn: dict[str, Any] = {
            "card_type": "button_interaction",
            "main_title": self._title(title, desc),
            "sub_title_text": cut(body, SUBTITLE_BYTES),
            "button_list": [
                {"text": cut(text, 40), "style": 1, "key": key}
                for text, key in buttons[:MAX_BUTTONS]
            ],
            "task_id": card.task_id,
        }
        if link is not None:
            # CardAction (doc 101032): type 1 jumps to ``url`` when the card is tapped
            drawn["card_action"] = {"type": 1, "url": link}
        return {"msgtype": "template_card", "template_card": drawn}

    def escalation_card(
        self, view: EscalationCardView, card: Card, *, inert_key: str | None = None
    ) -> dict[str, Any]:
        """With nothing left to do, a message; or, given ``inert_key``, a card with one
        button saying so (a pressed card is answered with a card, which needs a button)."""
        t, locale = self._t, card.locale
        title = t.plain(locale, "escalation.card_title", id=view.topic_id, title=view.title)
        state = self._escalation_state(view, locale)
        lines = [
            t.plain(
                locale,
                "escalation.card_from",
                level=t.plain(locale, f"levels.{view.from_level}"),
                name=view.from_name,
            ),
            t.plain(
                locale,
                "escalation.card_reason",
                reason=t.plain(locale, f"reasons.{view.reason}"),
            ),
        ]
        if view.note:
            lines.append(view.note)
        if view.tally is not None:
            lines.append(
                " · ".join(
                    t.plain(locale, "topics.tally_line", option=option, count=count)
                    for option, count in view.tally
                )
            )
        if view.sla_due_at is not None:
            lines.append(t.plain(locale, "wecom.due", due=t.when(locale, view.sla_due_at)))
        buttons = []
        for action in view.actions:
            params = {}
            if action.level is not None:
                params["level"] = t.plain(locale, f"levels.{action.level}")
            label = t.plain(locale, f"escalation.{_move_label(action.move)}", **params)
            buttons.append((label, f"esc:{action.escalation_id}:{action.move.value}"))
        if not buttons and inert_key is not None:
            buttons.append((t.plain(locale, "wecom.nothing_to_do_button"), inert_key))
        link = self._links.topic(view.topic_id)
        return self._buttons(card, title, state, "\n".join(lines), buttons, link)

    def _escalation_state(self, view: EscalationCardView, locale: str) -> str:
        t = self._t
        if view.state == "accepted":
            return t.plain(locale, "escalation.card_state_accepted", officer=view.officer or "")
        if view.state == "escalated":
            level = t.plain(locale, f"levels.{view.above_level}")
            return t.plain(locale, "escalation.card_state_escalated", level=level)
        return t.plain(locale, f"escalation.card_state_{view.state}")

    def meeting_message(self, view: MeetingMessageView, card: Card) -> dict[str, Any]:
        t, locale = self._t, card.locale
        meeting, occurrence = view.occurrence.meeting, view.occurrence.occurrence
        key = "meetings.reminder_title" if view.reminder else "meetings.announce_title"
        title = t.plain(locale, key, id=meeting.id, title=meeting.title)
        lines = [t.plain(locale, "meetings.time", when=t.when(locale, occurrence.starts_at))]
        if meeting.place:
            lines.append(t.plain(locale, "meetings.place", place=meeting.place))
        if meeting.link:
            lines.append(t.plain(locale, "meetings.link", link=meeting.link))
        if meeting.note:
            lines.append(t.plain(locale, "meetings.note", note=meeting.note))
        for number, line in enumerate(view.occurrence.agenda, 1):
            lines.append(f"{number}. {line.text}")
        status = ""
        if view.status is not MeetingStatus.AHEAD:
            status = t.plain(locale, f"meetings.status_{view.status.value}")
        elif view.shows_counts:
            counts = view.occurrence
            status = t.plain(locale, "meetings.counts", yes=counts.attending, no=counts.absent)
        labels = {
            MeetingMove.ATTEND: "button_yes",
            MeetingMove.EXCUSE: "button_no",
            MeetingMove.WHO: "button_who",
        }
        buttons = [
            (
                t.plain(locale, f"meetings.{labels[action.move]}"),
                f"meet:{action.occurrence_id}:{action.move.value}",
            )
            for action in view.actions
        ]
        link = self._links.meeting(meeting.id)
        return self._buttons(card, title, status, "\n".join(lines), buttons, link)

    def registration_card(
        self, view: RegistrationCardView, card: Card, *, kept: bool = False
    ) -> dict[str, Any]:
        """The first three pending units, each with its approve and reject buttons (WeCom
        allows six buttons); the rest are counted; the latest decisions below. With nothing
        pending it is a message, or, ``kept`` (a press's answer must be a card), a card whose
        one button says all is decided (a press on it is answered as stale)."""
        t, locale = self._t, card.locale
        title = t.plain(locale, "registration.card_title", count=view.pending)
        lines = []
        for line in view.shown:
            area = (
                t.plain(locale, "registration.area_unknown")
                if line.area is None
                else t.plain(
                    locale, "registration.area", area=t.translator.number(locale, line.area)
                )
            )
            lines.append(
                t.plain(locale, "registration.card_line", unit=line.unit, area=area, user=line.name)
            )
        if view.more:
            lines.append(t.plain(locale, "registration.card_more", count=view.more))
        if not view.pending:
            lines.append(t.plain(locale, "registration.card_none"))
        if view.decided:
            lines.append(t.plain(locale, "registration.card_decided_title"))
        for decided in view.decided:
            key = "card_approved_line" if decided.approved else "card_rejected_line"
            lines.append(
                t.plain(locale, f"registration.{key}", unit=decided.unit, user=decided.name)
            )
        buttons = []
        for action in view.actions:
            key = "card_approve_button" if action.approve else "card_reject_button"
            label = t.plain(locale, f"registration.{key}", unit=action.unit)
            buttons.append((label, f"reg:{action.registration_id}:{int(action.approve)}"))
        if kept and not buttons:
            buttons.append((t.plain(locale, "wecom.registration_all_decided"), "reg:done"))
        return self._buttons(card, title, "", "\n".join(lines), buttons)

    def rating_card(
        self, actions: tuple[RateAction, ...], locale: str, task_id: str | None = None
    ) -> dict[str, Any]:
        """The request to rate a decision: one button per rating."""
        topic = actions[0].topic_id if actions else 0
        card = Card(locale, task_id or new_task_id("rate", topic))
        buttons = [
            (
                self._t.plain(locale, f"escalation.rate_{action.rating}"),
                f"rate:{action.topic_id}:{action.rating}",
            )
            for action in actions
        ]
        title = self._t.plain(locale, "wecom.rate_title", id=topic)
        link = self._links.topic(topic) if actions else None  # the decision, on the page
        return self._buttons(card, title, "", "", buttons, link)


# a vote card's turnout, left for each tally to fill in (under the same names)
_TURNOUT = {"cast": "cast", "eligible": "eligible", "opinions": "opinions"}


def markdown_link(url: str) -> Markdown:
    """``url`` as a markdown link showing itself (never escaped: a ``\\_`` breaks a URL)."""
    return Markdown(f"[{url}]({url})")


def _move_label(move: CardMove) -> str:
    """A card action's label key (mypy checks that every move has one)."""
    match move:
        case CardMove.ACCEPT:
            return "accept_button"
        case CardMove.VOTE:
            return "vote_button"
        case CardMove.RESOLVE:
            return "resolve_button"
        case CardMove.SEND_UP:
            return "escalate_button"
        case CardMove.VOTE_HERE:
            return "vote_here_button"
        case CardMove.VOTE_ALL:
            return "vote_all_button"
        case CardMove.BACK:
            return "back_button"
        case _:
            assert_never(move)


def _views_complete(views: WeComViews) -> ViewRenderer[Card, dict[str, Any]]:
    """Never called: mypy checks here that WeCom draws every view."""
    return views
