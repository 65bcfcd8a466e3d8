"""How the digest looks on Telegram: its outline's blocks as HTML, split between items at
Telegram's limit, and past MAX_LISTED items the full list as a CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import tzinfo

from bot.catalogue import Catalogue
from bot.services.announcement_texts import digest_outline
from bot.services.reports.digest import Digest
from channels.common.told import Writer, pack
from channels.telegram.escalation.render import EscalationRenderer
from locales import Html, Translator, escape

TELEGRAM_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    messages: list[Html]
    csv: bytes | None


def split_blocks(blocks: list[str], limit: int = TELEGRAM_LIMIT) -> list[Html]:
    """Pack blocks into messages of at most ``limit`` characters, never splitting a block."""
    return [Html(message) for message in pack(blocks, limit, len, _truncate)]


def _truncate(block: str, limit: int) -> str:
    return block[:limit]


class DigestRenderer:
    def __init__(self, translator: Translator, catalogue: Catalogue, zone: tzinfo) -> None:
        self.t = translator
        self.catalogue = catalogue
        self.zone = zone
        self.escalations = EscalationRenderer(translator, zone)
        self.writer = Writer(translator, escape, zone, elapsed=self.escalations.age)

    def render(self, locale: str, digest: Digest) -> RenderedDigest:
        """The digest's outline (bot/services/announcement_texts.py) as HTML; past MAX_LISTED
        items, the full list attached as a CSV."""
        outline = digest_outline(digest, self.catalogue, locale)
        blocks = [self.writer.lines(locale, block) for block in outline.blocks]
        attachment = None
        if outline.more is not None:
            blocks.append("\n" + self.t(locale, "digest.more_in_file", count=outline.more))
            attachment = self.csv(locale, digest)
        return RenderedDigest(split_blocks(blocks), attachment)

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
