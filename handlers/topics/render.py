"""How topics look in Telegram: the ballot message, the outcome, /result and /topics."""

from __future__ import annotations

import hashlib
from datetime import tzinfo
from fractions import Fraction
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.catalogue import Catalogue
from bot.services.topics.closing import fraction_of
from bot.services.topics.service import TopicSnapshot, TopicView
from handlers.callbacks import VoteChoice
from locales import Html, Translator, escape
from storage.records import Topic


class TopicRenderer:
    def __init__(
        self, translator: Translator, catalogue: Catalogue, zone: tzinfo, bot_username: str
    ) -> None:
        self.t = translator
        self.catalogue = catalogue
        self.zone = zone
        self.bot_username = bot_username

    def when(self, locale: str, topic: Topic) -> str:
        return self.t.datetime(locale, topic.deadline, self.zone)

    def verdict(self, locale: str, topic: Topic) -> Html:
        if topic.status == "cancelled":
            return self.t(locale, "verdicts.cancelled")
        outcome = topic.outcome or {}
        verdict = str(outcome.get("verdict", "opinion"))
        winner = outcome.get("winner")
        default = topic.options[:1] and topic.options[0] in ("同意", "Agree")
        if verdict == "passed" and winner is not None and not default:
            return self.t(locale, "verdicts.winner", option=topic.options[int(winner)])
        if verdict == "unresolved":
            reason = self.t(locale, f"verdicts.{outcome.get('reason') or 'no_votes'}")
            return self.t(locale, "verdicts.unresolved", reason=reason)
        return self.t(locale, f"verdicts.{verdict}")

    def _facts(self, locale: str, topic: Topic, level: str | None) -> list[str]:
        lines: list[str] = []
        entry = self.catalogue.find(topic.category) if topic.category else None
        if entry is not None:
            lines.append(self.t(locale, "topics.category", category=entry.name(locale)))
        lines.append(self.t(locale, "topics.rule", rule=self.t(locale, f"rules.{topic.rule}")))
        if topic.quorum_percent:
            lines.append(self.t(locale, "topics.quorum", percent=topic.quorum_percent))
        for flag in ("household", "secret"):
            if getattr(topic, flag):
                lines.append(self.t(locale, f"topics.{flag}"))
        if topic.hide_results:
            lines.append(self.t(locale, "topics.hidden"))
        if topic.scope == "all" and level is not None:
            lines.append(
                self.t(locale, "topics.scope_all", level=self.t(locale, f"levels.{level}"))
            )
        lines.append(self.t(locale, "topics.deadline", deadline=self.when(locale, topic)))
        return lines

    def tally_lines(self, locale: str, topic: Topic, counts: tuple[int, ...]) -> list[str]:
        lines: list[str] = [
            self.t(locale, "topics.tally_line", option=option, count=count)
            for option, count in zip(topic.options, counts, strict=True)
        ]
        return lines

    def ballot(
        self, locale: str, snap: TopicSnapshot, *, voting: bool, level: str | None
    ) -> tuple[Html, InlineKeyboardMarkup | None]:
        """The ballot message of one chat: text and buttons (none once closed)."""
        topic = snap.topic
        parts: list[str] = [self.t(locale, "topics.header", id=topic.id, title=topic.title)]
        if topic.description:
            parts.append(escape(topic.description))
        parts.append("\n".join(self._facts(locale, topic, level)))
        if not topic.is_opinion:
            if topic.hide_results and topic.is_open:
                parts.append(self.t(locale, "topics.tally_hidden"))
            else:
                tally = [
                    self.t(locale, "topics.tally_title"),
                    *self.tally_lines(locale, topic, snap.counts),
                ]
                parts.append("\n".join(tally))
        parts.append(
            self.t(
                locale,
                "topics.turnout",
                cast=snap.cast,
                eligible=snap.eligible,
                opinions=snap.opinions,
            )
        )
        if topic.status == "cancelled":
            parts.append(self.t(locale, "topics.cancelled_footer"))
            return Html("\n\n".join(parts)), None
        if not topic.is_open:
            parts.append(
                self.t(locale, "topics.closed_footer", verdict=self.verdict(locale, topic))
            )
            return Html("\n\n".join(parts)), None
        rows: list[list[InlineKeyboardButton]] = []
        if voting and not topic.is_opinion:
            parts.append(self.t(locale, "topics.how_to_vote"))
            rows = [
                [InlineKeyboardButton(option, callback_data=VoteChoice(topic.id, index).encode())]
                for index, option in enumerate(topic.options)
            ]
        elif voting:
            parts.append(self.t(locale, "topics.how_to_opine"))
        link = f"https://t.me/{self.bot_username}?start=op_{topic.id}"
        rows.append([InlineKeyboardButton(self.t.plain(locale, "topics.private_button"), url=link)])
        return Html("\n\n".join(parts)), InlineKeyboardMarkup(rows)

    def outcome(self, locale: str, topic: Topic) -> Html:
        """The announcement posted when a topic closes or is cancelled."""
        if topic.status == "cancelled":
            return self.t(locale, "topics.cancelled_title", id=topic.id, title=topic.title)
        lines: list[str] = [self.t(locale, "topics.closed_title", id=topic.id, title=topic.title)]
        lines.extend(self.record_lines(locale, topic))
        return Html("\n".join(lines))

    def record_lines(self, locale: str, topic: Topic) -> list[str]:
        outcome = topic.outcome or {}
        lines: list[str] = [
            self.t(locale, "topics.result_line", verdict=self.verdict(locale, topic))
        ]
        counts = tuple(int(count) for count in outcome.get("counts", ()))
        if counts and not topic.is_opinion:
            lines.append(" · ".join(self.tally_lines(locale, topic, counts)))
            lines.append(self.participation(locale, outcome))
        if outcome.get("area_participation"):
            lines.append(self.art278(locale, outcome))
        if outcome.get("unknown_area"):
            lines.append(self.t(locale, "topics.unknown_area", count=outcome["unknown_area"]))
        public, private = outcome.get("opinions", [0, 0])
        lines.append(self.t(locale, "topics.opinions_line", public=public, private=private))
        return lines

    def participation(self, locale: str, outcome: dict[str, Any]) -> Html:
        turnout = percent(fraction_of(outcome.get("turnout")))
        return self.t(
            locale,
            "topics.participation",
            cast=outcome.get("cast", 0),
            eligible=outcome.get("eligible", 0),
            percent=turnout,
        )

    def art278(self, locale: str, outcome: dict[str, Any]) -> Html:
        return self.t(
            locale,
            "topics.art278",
            area_part=percent(fraction_of(outcome.get("area_participation"))),
            household_part=percent(fraction_of(outcome.get("household_participation"))),
            area_agree=percent(fraction_of(outcome.get("area_agree"))),
            household_agree=percent(fraction_of(outcome.get("household_agree"))),
        )

    def result(self, locale: str, view: TopicView) -> Html:
        topic = view.topic
        lines: list[str] = [self.t(locale, "topics.header", id=topic.id, title=topic.title)]
        if topic.is_open:
            lines.append(self.t(locale, "topics.open_line", deadline=self.when(locale, topic)))
            if not topic.is_opinion and not topic.hide_results:
                lines.append(" · ".join(self.tally_lines(locale, topic, view.counts)))
            lines.append(
                self.t(
                    locale,
                    "topics.opinions_line",
                    public=view.opinions_public,
                    private=view.opinions_private,
                )
            )
        else:
            lines.extend(self.record_lines(locale, topic))
        offline = [
            self.t(locale, f"topics.channel_{channel}", count=count)
            for channel, count in sorted(view.channels.items())
            if channel != "button"
        ]
        if offline and not (topic.is_open and topic.hide_results):
            lines.append(self.t(locale, "topics.offline_line", channels=Html("、".join(offline))))
        if view.private_opinions:
            lines.append(self.t(locale, "topics.private_opinions_title"))
            lines.extend(
                self.t(locale, "topics.opinion_item", text=text) for text in view.private_opinions
            )
        return Html("\n".join(lines))


def percent(value: Fraction | None) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:.1f}%"


def fingerprint(text: str, markup: InlineKeyboardMarkup | None) -> str:
    """What a ballot message shows, hashed: an edit that changes nothing is never sent."""
    payload = text + "\x00" + (str(markup.to_dict()) if markup is not None else "")
    return hashlib.sha256(payload.encode()).hexdigest()
