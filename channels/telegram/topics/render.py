"""How topics look in Telegram: the ballot message and the outcome."""

from __future__ import annotations

import hashlib
from datetime import tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.catalogue import Catalogue
from bot.services.announcement_texts import (
    ballot_facts,
    topic_outcome,
    verdict_said,
)
from bot.services.topics.views import (
    BallotState,
    BallotView,
    OpinionAction,
    PrivateOpinionAction,
    Verdict,
    VoteAction,
    turnout_key,
)
from bot.services.web_links import Page
from channels.common.told import Writer
from channels.telegram.callbacks import VoteChoice
from channels.telegram.page_buttons import PageButtons
from locales import Html, Translator, escape
from storage.records import Topic


class TopicRenderer:
    def __init__(
        self,
        translator: Translator,
        catalogue: Catalogue,
        zone: tzinfo,
        bot_username: str,
        pages: PageButtons | None = None,
    ) -> None:
        self.t = translator
        self.catalogue = catalogue
        self.zone = zone
        self.bot_username = bot_username
        self.pages = pages  # the topic's web page under its message, when the web is on
        self.writer = Writer(translator, escape, zone)

    def verdict_text(self, locale: str, verdict: Verdict) -> Html:
        return Html(self.writer.said(locale, verdict_said(verdict)))

    def _facts(self, locale: str, view: BallotView) -> list[str]:
        facts = ballot_facts(view, self.catalogue, locale)
        return [self.writer.line(locale, line) for line in facts]

    def ballot(self, locale: str, view: BallotView) -> tuple[Html, InlineKeyboardMarkup | None]:
        """The ballot message of one chat: text and buttons (none once closed)."""
        parts: list[str] = [self.t(locale, "topics.header", id=view.topic_id, title=view.title)]
        if view.description:
            parts.append(escape(view.description))
        parts.append("\n".join(self._facts(locale, view)))
        if view.tally is not None:
            if view.tally_hidden:
                parts.append(self.t(locale, "topics.tally_hidden"))
            else:
                tally = [
                    self.t(locale, "topics.tally_title"),
                    *(
                        self.t(locale, "topics.tally_line", option=option, count=count)
                        for option, count in view.tally
                    ),
                ]
                parts.append("\n".join(tally))
        parts.append(
            self.t(
                locale,
                turnout_key(view),
                cast=view.cast,
                eligible=view.eligible,
                opinions=view.opinions,
            )
        )
        if view.state is BallotState.CANCELLED:
            parts.append(self.t(locale, "topics.cancelled_footer"))
            return Html("\n\n".join(parts)), None
        if view.state is BallotState.CLOSED:
            verdict = self.verdict_text(locale, view.verdict or Verdict("opinion"))
            parts.append(self.t(locale, "topics.closed_footer", verdict=verdict))
            # the page keeps the record: the outcome, where the matter went, the decision
            page = self._page_row(locale, view, "topic_record_button")
            return Html("\n\n".join(parts)), InlineKeyboardMarkup(page) if page else None
        votes = [action for action in view.actions if isinstance(action, VoteAction)]
        if votes:
            parts.append(self.t(locale, "topics.how_to_vote"))
        elif any(isinstance(action, OpinionAction) for action in view.actions):
            parts.append(self.t(locale, "topics.how_to_opine"))
        rows = [[self.button(locale, action)] for action in votes]
        rows.extend(
            [self.button(locale, action)]
            for action in view.actions
            if isinstance(action, PrivateOpinionAction)
        )
        rows.extend(self._page_row(locale, view, "topic_button"))
        return Html("\n\n".join(parts)), InlineKeyboardMarkup(rows)

    def _page_row(
        self, locale: str, view: BallotView, label: str
    ) -> list[list[InlineKeyboardButton]]:
        if self.pages is None:
            return []
        return self.pages.row(locale, Page.TOPIC, view.topic_id, label)

    def button(
        self, locale: str, action: VoteAction | PrivateOpinionAction
    ) -> InlineKeyboardButton:
        """A ballot action as Telegram shows it: a button with callback data, or a link."""
        if isinstance(action, VoteAction):
            data = VoteChoice(action.topic_id, action.option).encode()
            return InlineKeyboardButton(action.label, callback_data=data)
        link = f"https://t.me/{self.bot_username}?start=op_{action.topic_id}"
        return InlineKeyboardButton(self.t.plain(locale, "topics.private_button"), url=link)

    def outcome(self, locale: str, topic: Topic) -> Html:
        """The announcement posted when a topic closes or is cancelled."""
        return Html(self.writer.lines(locale, topic_outcome(topic)))


def fingerprint(text: str, markup: InlineKeyboardMarkup | None) -> str:
    """What a ballot message shows, hashed: an edit that changes nothing is never sent."""
    payload = text + "\x00" + (str(markup.to_dict()) if markup is not None else "")
    return hashlib.sha256(payload.encode()).hexdigest()
