"""The button under a Telegram message that opens its topic's or meeting's web page.

A URL button, never a ``web_app`` one: the Bot API allows ``web_app`` buttons "only in private
chats between a user and the bot" (core.telegram.org/bots/api#inlinekeyboardbutton), and the
ballot and meeting messages are in groups. With a Mini App configured (YISHI_TELEGRAM_MINIAPP,
its short name from /newapp in @BotFather) the button is the Mini App's direct link,
``https://t.me/<bot>/<short name>?startapp=t12`` (core.telegram.org/bots/webapps, "Direct Link
Mini Apps"; the parameter's letters: bot/services/web_links.py), which opens the page inside
Telegram, signed in by its ``initData``; otherwise the page's own address, opened in the
browser. The link depends only on the item, so a refreshed message keeps its fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton

from bot.services.web_links import Page, WebLinks, start_param
from locales import Translator


@dataclass(frozen=True, slots=True)
class PageButtons:
    links: WebLinks
    translator: Translator
    bot_username: str
    miniapp: str | None = None  # the Mini App's short name

    def url(self, page: Page, item: int) -> str | None:
        """Where the button goes: the Mini App's direct link, or the page; None: web off."""
        address = self.links.page(page, item)
        if address is None:
            return None
        if self.miniapp is not None and self.bot_username:
            return (
                f"https://t.me/{self.bot_username}/{self.miniapp}"
                f"?startapp={start_param(page, item)}"
            )
        return address

    def button(self, locale: str, page: Page, item: int, label: str) -> InlineKeyboardButton | None:
        """The button labelled with ``share.<label>``; None while the web is off."""
        url = self.url(page, item)
        if url is None:
            return None
        return InlineKeyboardButton(self.translator.plain(locale, f"share.{label}"), url=url)

    def row(
        self, locale: str, page: Page, item: int, label: str
    ) -> list[list[InlineKeyboardButton]]:
        """The button as a keyboard row of its own (no rows while the web is off)."""
        button = self.button(locale, page, item, label)
        return [] if button is None else [[button]]
