"""The staff digest (汇总) as WeCom markdown: its sections as blocks, which the announcer packs
into messages of at most 4096 bytes (the group webhook's markdown limit), never splitting an
item. The same catalogue keys as Telegram's digest; its CSV and chart are Telegram's for now.
"""

from __future__ import annotations

from fractions import Fraction

from bot.catalogue import Catalogue
from bot.services.escalation.views import RATINGS
from bot.services.reports.digest import Digest, DigestItem
from channels.wecom.text import WeComText

MAX_LISTED = 50  # items listed; the rest counted


def percent(value: Fraction | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


class WeComDigest:
    def __init__(self, text: WeComText, catalogue: Catalogue) -> None:
        self._t = text
        self._catalogue = catalogue

    def blocks(self, locale: str, digest: Digest) -> list[str]:
        t = self._t
        span = {
            "name": digest.community.name,
            "since": t.when(locale, digest.since),
            "until": t.when(locale, digest.until),
        }
        late = []
        if digest.late_since is not None:
            late.append(t(locale, "digest.late", due=t.when(locale, digest.late_since)))
        if digest.empty:
            return ["\n".join([t(locale, "digest.empty", **span), *late])]
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
            for entry in items:
                if listed >= MAX_LISTED:
                    break
                blocks.append(self._digest_item(locale, key, entry, digest))
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
                found = self._catalogue.find(key)
                name = found.name(locale) if found else key
                blocks.append(t(locale, "digest.category_item", name=name, count=count))
        if digest.item_count > MAX_LISTED:
            blocks.append("\n" + t(locale, "wecom.digest_more", count=digest.item_count))
        return blocks

    def _digest_item(self, locale: str, section: str, item: DigestItem, digest: Digest) -> str:
        t = self._t
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
            ratings = {key: item.ratings.get(key, 0) for key in RATINGS}
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
            age=t.translator.duration(locale, digest.until - item.created_at),
            due=t.when(locale, item.sla_due_at) if item.sla_due_at else "—",
            state=t(locale, f"states.{item.state}"),
        )
