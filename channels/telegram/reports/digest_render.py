"""How the digest looks: sections of items, split between items at Telegram's limit."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import tzinfo

from bot.catalogue import Catalogue
from bot.services.reports.digest import Digest, DigestItem
from channels.telegram.escalation.render import RATING_KEYS, EscalationRenderer
from channels.telegram.topics.render import percent
from locales import Html, Translator

TELEGRAM_LIMIT = 4096
MAX_LISTED = 50


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    messages: list[Html]
    csv: bytes | None


def split_blocks(blocks: list[str], limit: int = TELEGRAM_LIMIT) -> list[Html]:
    """Pack blocks into messages of at most ``limit`` characters, never splitting a block."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        block = block[:limit]
        candidate = f"{current}\n{block}" if current else block
        if len(candidate) > limit:
            messages.append(current)
            current = block
        else:
            current = candidate
    if current:
        messages.append(current)
    return [Html(message) for message in messages]


class DigestRenderer:
    def __init__(self, translator: Translator, catalogue: Catalogue, zone: tzinfo) -> None:
        self.t = translator
        self.catalogue = catalogue
        self.zone = zone
        self.escalations = EscalationRenderer(translator, zone)

    def render(self, locale: str, digest: Digest) -> RenderedDigest:
        t = self.t
        when = self.escalations.when
        span = {
            "name": digest.community.name,
            "since": when(locale, digest.since),
            "until": when(locale, digest.until),
        }
        # Sent after an outage, it says so at once (the digest covers everything since the
        # previous one, however many mornings were missed).
        late = []
        if digest.late_since is not None:
            late.append(t(locale, "digest.late", due=when(locale, digest.late_since)))
        if digest.empty:
            return RenderedDigest(
                [Html("\n".join([t(locale, "digest.empty", **span), *late]))], None
            )
        blocks: list[str] = [t(locale, "digest.title", **span), *late]
        listed = 0
        for key, items in (
            ("new", digest.new),
            ("open", digest.open),
            ("resolved", digest.resolved),
        ):
            if not items:
                continue
            blocks.append("\n" + t(locale, f"digest.{key}_title", count=len(items)))
            for item in items:
                if listed >= MAX_LISTED:
                    break
                blocks.append(self.item(locale, key, item, digest))
                listed += 1
        if digest.participation:
            blocks.append("\n" + t(locale, "digest.participation_title"))
            for grid in digest.participation:
                if grid.turnout is None:
                    blocks.append(t(locale, "digest.participation_none", name=grid.name))
                else:
                    blocks.append(
                        t(
                            locale,
                            "digest.participation_item",
                            name=grid.name,
                            turnout=percent(grid.turnout),
                            topics=grid.topics,
                        )
                    )
        if digest.categories:
            blocks.append("\n" + t(locale, "digest.categories_title"))
            for key, count in digest.categories:
                entry = self.catalogue.find(key)
                name = entry.name(locale) if entry else key
                blocks.append(t(locale, "digest.category_item", name=name, count=count))
        attachment = None
        if digest.item_count > MAX_LISTED:
            blocks.append("\n" + t(locale, "digest.more_in_file", count=digest.item_count))
            attachment = self.csv(locale, digest)
        return RenderedDigest(split_blocks(blocks), attachment)

    def item(self, locale: str, section: str, item: DigestItem, digest: Digest) -> str:
        t = self.t
        reason = t(locale, f"reasons.{item.reason}")
        if section == "new":
            return t(
                locale,
                "digest.new_item",
                id=item.topic_id,
                title=item.title,
                from_name=item.from_name,
                to_name=item.to_name,
                reason=reason,
            )
        if section == "resolved":
            ratings = {key: item.ratings.get(key, 0) for key in RATING_KEYS}
            return t(
                locale,
                "digest.resolved_item",
                id=item.topic_id,
                title=item.title,
                decision=(item.decision or "")[:300].rstrip("。."),
                **ratings,
            )
        key = "digest.overdue_item" if item.overdue else "digest.open_item"
        return t(
            locale,
            key,
            id=item.topic_id,
            title=item.title,
            to_name=item.to_name,
            age=self.escalations.age(locale, digest.until - item.created_at),
            due=self.escalations.when(locale, item.sla_due_at) if item.sla_due_at else "—",
            state=t(locale, f"states.{item.state}"),
        )

    def csv(self, locale: str, digest: Digest) -> bytes:
        """Every item of the digest, for when the message would list more than 50."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(
            [
                "section",
                "topic",
                "title",
                "from",
                "to",
                "reason",
                "state",
                "escalated_at",
                "due",
                "overdue",
                "decision",
            ]
        )
        for section, items in (
            ("new", digest.new),
            ("open", digest.open),
            ("resolved", digest.resolved),
        ):
            for item in items:
                writer.writerow(
                    [
                        self.t.plain(locale, f"digest.{section}_title", count=len(items))
                        .replace("<b>", "")
                        .replace("</b>", ""),
                        f"#{item.topic_id}",
                        item.title,
                        item.from_name,
                        item.to_name,
                        self.t.plain(locale, f"reasons.{item.reason}"),
                        self.t.plain(locale, f"states.{item.state}"),
                        self.escalations.when(locale, item.created_at),
                        self.escalations.when(locale, item.sla_due_at) if item.sla_due_at else "",
                        "yes" if item.overdue else "",
                        item.decision or "",
                    ]
                )
        return buffer.getvalue().encode("utf-8-sig")
