"""The staff digest (汇总) as WeCom markdown: its outline's blocks (bot/services/
announcement_texts.py), packed into messages of at most 4096 bytes (the
group webhook's markdown limit), never splitting an item. Past MAX_LISTED items it says how
many there were; the CSV and chart are Telegram's for now.
"""

from __future__ import annotations

from bot.catalogue import Catalogue
from bot.services.announcement_texts import digest_outline
from bot.services.reports.digest import Digest
from channels.common.told import Writer
from channels.wecom.text import DIGEST_BYTES, Markdown, WeComText, escape, split


class WeComDigest:
    def __init__(self, text: WeComText, catalogue: Catalogue) -> None:
        self._t = text
        self._catalogue = catalogue
        self._writer = Writer(text, escape, text.zone, elapsed=text.translator.duration)

    def blocks(self, locale: str, digest: Digest) -> list[str]:
        outline = digest_outline(digest, self._catalogue, locale)
        blocks = [self._writer.lines(locale, block) for block in outline.blocks]
        if outline.more is not None:
            blocks.append("\n" + self._t(locale, "wecom.digest_more", count=outline.more))
        return blocks

    def messages(self, locale: str, digest: Digest) -> list[Markdown]:
        """The blocks packed into messages of at most 4096 bytes, an item never split."""
        return split(self.blocks(locale, digest), DIGEST_BYTES)
