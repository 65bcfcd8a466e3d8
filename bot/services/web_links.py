"""Where the web pages are: the one place that writes a link to a topic's or a meeting's page
(YISHI_PUBLIC_URL + ``/t/<id>``, ``/m/<id>``, ``/me``), None while the web is off, and the
Telegram Mini App's start parameter that names the same pages.

Every channel asks here: Telegram's URL buttons, WeCom's card jumps and link lines, ``/share``.
A Mini App opened from a direct link (``t.me/<bot>/<short name>?startapp=t12``) gets the
parameter back as ``start_param``; :func:`page_of_start` turns it into the page's path for
the web server. Telegram allows ``A-Za-z0-9_-``, up to 512 characters, in it
(core.telegram.org/api/links, "Direct mini app links"): ``t<id>`` a topic, ``m<id>`` a
meeting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.settings import Settings


class Page(StrEnum):
    """A kind of page, as its letter in a path (``/t/12``) and in a start parameter (``t12``)."""

    TOPIC = "t"
    MEETING = "m"


START = re.compile(r"(?P<page>[tm])(?P<id>[1-9][0-9]{0,8})")  # ids as commands take them


@dataclass(frozen=True, slots=True)
class WebLinks:
    """The pages' links under ``public_url``; every link is None when the web is off."""

    public_url: str | None

    @classmethod
    def of(cls, settings: Settings) -> WebLinks:
        return cls(settings.public_url)

    @property
    def on(self) -> bool:
        return self.public_url is not None

    def page(self, page: Page, item: int) -> str | None:
        if self.public_url is None:
            return None
        return f"{self.public_url}/{page.value}/{item}"

    def topic(self, topic_id: int) -> str | None:
        """``https://yishi.example.org/t/12``: the topic's page."""
        return self.page(Page.TOPIC, topic_id)

    def meeting(self, meeting_id: int) -> str | None:
        """``https://yishi.example.org/m/3``: the meeting's page."""
        return self.page(Page.MEETING, meeting_id)

    def me(self) -> str | None:
        """ "My household"."""
        return None if self.public_url is None else f"{self.public_url}/me"


def start_param(page: Page, item: int) -> str:
    """The Mini App start parameter of a page: ``t12``, ``m3``."""
    return f"{page.value}{item}"


def page_of_start(param: str | None) -> str | None:
    """The path a Mini App's ``start_param`` names (``t12`` -> ``/t/12``, ``m3`` -> ``/m/3``),
    or None for anything else (the web server then opens "my household")."""
    match = START.fullmatch(param or "")
    if match is None:
        return None
    return f"/{match.group('page')}/{match.group('id')}"
