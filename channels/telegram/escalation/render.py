"""How escalations look: the card in the parent's chat, and the history in /result."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import assert_never

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services.escalation.views import (
    RATINGS,
    CardAction,
    CardMove,
    EscalationCardView,
    RateAction,
)
from bot.services.web_links import Page
from channels.telegram.callbacks import CardAction as CardActionData
from channels.telegram.callbacks import RatingChoice
from channels.telegram.page_buttons import PageButtons
from locales import Html, Translator

RATING_KEYS = RATINGS  # a rating's index is its callback data (channels/telegram/callbacks.py)
_FIRST_ROW = {CardMove.ACCEPT, CardMove.VOTE, CardMove.VOTE_HERE, CardMove.VOTE_ALL}


class EscalationRenderer:
    def __init__(
        self, translator: Translator, zone: tzinfo, pages: PageButtons | None = None
    ) -> None:
        self.t = translator
        self.zone = zone
        self.pages = pages  # the topic's web page (its whole record) under the card

    def when(self, locale: str, moment: datetime) -> str:
        return self.t.datetime(locale, moment, self.zone)

    def age(self, locale: str, delta: timedelta) -> str:
        hours = int(delta.total_seconds() // 3600)
        if hours >= 48:
            return f"{hours // 24}天" if locale == "zh_CN" else f"{hours // 24} days"
        if hours >= 1:
            return f"{hours}小时" if locale == "zh_CN" else f"{hours} h"
        minutes = max(int(delta.total_seconds() // 60), 0)
        return f"{minutes}分钟" if locale == "zh_CN" else f"{minutes} min"

    def card(
        self, locale: str, view: EscalationCardView
    ) -> tuple[Html, InlineKeyboardMarkup | None]:
        t = self.t
        lines: list[str] = [
            t(locale, "escalation.card_title", id=view.topic_id, title=view.title),
            t(
                locale,
                "escalation.card_from",
                level=t(locale, f"levels.{view.from_level}"),
                name=view.from_name,
            ),
        ]
        reason = t(locale, f"reasons.{view.reason}")
        if view.note:
            lines.append(t(locale, "escalation.card_reason_note", reason=reason, note=view.note))
        else:
            lines.append(t(locale, "escalation.card_reason", reason=reason))
        if view.tally is not None:
            counts = " · ".join(
                t(locale, "topics.tally_line", option=option, count=count)
                for option, count in view.tally
            )
            lines.append(
                t(
                    locale,
                    "escalation.card_tally" if view.roll_known else "escalation.card_tally_unknown",
                    counts=Html(counts),
                    cast=view.cast,
                    eligible=view.eligible,
                )
            )
        recent = ""
        if view.recent_opinions:
            recent = (
                t(locale, "escalation.card_recent_title")
                + "\n"
                + "\n".join(
                    t(locale, "escalation.card_opinion", author=author, text=text[:200])
                    for author, text in view.recent_opinions
                )
            )
        lines.append(
            t(locale, "escalation.card_opinions", count=view.opinions, recent=Html(recent))
        )
        if view.sla_due_at is not None:
            lines.append(
                t(
                    locale,
                    "escalation.card_age",
                    age=self.age(locale, view.age),
                    due=self.when(locale, view.sla_due_at),
                )
            )
        lines.append(self.state_line(locale, view))
        markup = self.buttons(locale, view.actions)
        page = (
            self.pages.row(locale, Page.TOPIC, view.topic_id, "topic_record_button")
            if self.pages is not None
            else []
        )
        if page:
            markup = InlineKeyboardMarkup([*(markup.inline_keyboard if markup else ()), *page])
        return Html("\n".join(lines)), markup

    def state_line(self, locale: str, view: EscalationCardView) -> Html:
        if view.state == "accepted":
            return self.t(locale, "escalation.card_state_accepted", officer=view.officer or "")
        if view.state == "escalated":
            level = self.t(locale, f"levels.{view.above_level}")
            return self.t(locale, "escalation.card_state_escalated", level=level)
        return self.t(locale, f"escalation.card_state_{view.state}")

    def buttons(self, locale: str, actions: tuple[CardAction, ...]) -> InlineKeyboardMarkup | None:
        """The card's actions as buttons: taking on and voting first, then deciding."""
        if not actions:
            return None
        rows: list[list[InlineKeyboardButton]] = [[], []]
        for action in actions:
            key, letter = card_button(action.move)
            params = {}
            if action.level is not None:
                params["level"] = self.t.plain(locale, f"levels.{action.level}")
            button = InlineKeyboardButton(
                self.t.plain(locale, f"escalation.{key}", **params),
                callback_data=CardActionData(action.escalation_id, letter).encode(),
            )
            rows[0 if action.move in _FIRST_ROW else 1].append(button)
        return InlineKeyboardMarkup([row for row in rows if row])

    def rating_buttons(self, locale: str, actions: tuple[RateAction, ...]) -> InlineKeyboardMarkup:
        """The ratings on one row; the callback data carries a rating's place in RATINGS."""
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        self.t.plain(locale, f"escalation.rate_{action.rating}"),
                        callback_data=RatingChoice(
                            action.topic_id, RATING_KEYS.index(action.rating)
                        ).encode(),
                    )
                    for action in actions
                ]
            ]
        )


def card_button(move: CardMove) -> tuple[str, str]:
    """A card action's label key, and its letter in the callback data
    (channels/telegram/callbacks.py ``CardAction``); mypy checks that every move has one."""
    match move:
        case CardMove.ACCEPT:
            return "accept_button", "a"
        case CardMove.VOTE:
            return "vote_button", "v"
        case CardMove.RESOLVE:
            return "resolve_button", "r"
        case CardMove.SEND_UP:
            return "escalate_button", "u"
        case CardMove.VOTE_HERE:
            return "vote_here_button", "h"
        case CardMove.VOTE_ALL:
            return "vote_all_button", "l"
        case CardMove.BACK:
            return "back_button", "b"
        case _:
            assert_never(move)
