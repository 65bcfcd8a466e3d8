"""Yishi's texts as WeCom shows them: markdown for messages, plain text for cards, within
WeCom's byte limits in UTF-8.

The catalogues (locales/) are written for Telegram's HTML: ``<b>`` and ``<code>`` are the only
tags they use. Here a template's tags become markdown (``**``, backticks) before the values go
in, each value escaped for markdown (a title of ``*1号楼*`` shows its stars), so what people
typed can never format a message. Cards take no markup at all: :meth:`WeComText.plain`.
Where a text speaks of Telegram's ways (reply to a message, /command without the mention),
locales/*/on_wecom.toml words the same key for WeCom, and that is used instead.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from channels.common.told import pack
from locales import Translator

MESSAGE_BYTES = 20480  # a markdown reply or proactive message (aibot_respond/send_msg)
DIGEST_BYTES = 4096  # a digest's messages: the group webhook's markdown limit, kept everywhere
ELLIPSIS = "…"
OWN_WORDS = "on_wecom"  # locales/*/on_wecom.toml: keys WeCom words its own way

_TAGS = {"<b>": "**", "</b>": "**", "<code>": "`", "</code>": "`"}
_TAG = re.compile("|".join(re.escape(tag) for tag in _TAGS))
_ANY_TAG = re.compile(r"</?(?:b|code)>")
_SPECIAL = re.compile(r"([\\`*_\[\]<>#~|])")
# A value's own lines must not start a list (its first line is mid-line in every template).
_BULLET = re.compile(r"(\n\s*)([-+=])")
_NUMBERED = re.compile(r"(\n\s*\d+)\.")
_FORMATTER = string.Formatter()


class Markdown(str):
    """Text already in WeCom markdown: inserted as it is."""

    __slots__ = ()


def escape(value: object) -> Markdown:
    """``value`` as literal text in markdown."""
    if isinstance(value, Markdown):
        return value
    escaped = _SPECIAL.sub(r"\\\1", str(value))
    escaped = _BULLET.sub(r"\1\\\2", escaped)
    return Markdown(_NUMBERED.sub(r"\1\\.", escaped))


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` bytes of UTF-8, an ellipsis where it was cut (never inside a
    character; a markdown escape cut in half loses its backslash too)."""
    if utf8_len(text) <= limit:
        return text
    budget = limit - utf8_len(ELLIPSIS)
    cut = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    if cut.endswith("\\") and not cut.endswith("\\\\"):
        cut = cut[:-1]
    return cut + ELLIPSIS


def split(blocks: list[str], limit: int) -> list[Markdown]:
    """Blocks packed into messages of at most ``limit`` bytes, a block never split unless it
    alone is longer than that (then it is cut)."""
    return [Markdown(message) for message in pack(blocks, limit, utf8_len, cut)]


class WeComText:
    """The catalogues for WeCom: ``self(locale, key, **values)`` gives markdown,
    :meth:`plain` the text for a card."""

    def __init__(self, translator: Translator, zone: tzinfo) -> None:
        self.translator = translator
        self.zone = zone
        # Each key's template for a card, its tags taken out once (cards are drawn again for
        # every change they show).
        self._plain: dict[tuple[str, str], str] = {}

    def _template(self, locale: str, key: str) -> str:
        """``key``'s text, worded for WeCom where on_wecom.toml words it so (a command is
        given as ``@议事 /…``; a person is named by their 账号, not by a reply)."""
        t = self.translator
        chosen, default = t.catalogues[t.resolve(locale)], t.catalogues[t.default_locale]
        own = f"{OWN_WORDS}.{key}"
        return chosen.get(own) or chosen.get(key) or default.get(own) or default[key]

    def __call__(self, locale: str, key: str, **values: Any) -> Markdown:
        template = _TAG.sub(lambda m: _TAGS[m.group(0)], self._template(locale, key))
        return Markdown(template.format_map({k: escape(v) for k, v in values.items()}))

    def plain(self, locale: str, key: str, **values: Any) -> str:
        template = self._plain.get((locale, key)) or self._plain_template(locale, key)
        return template.format_map({k: _unmarked(v) for k, v in values.items()})

    def plain_pattern(self, locale: str, key: str, later: Mapping[str, str], **values: Any) -> str:
        """:meth:`plain`'s text as a ``str.format`` pattern: ``values`` filled in now, each
        field named in ``later`` left for the pattern's ``format``, under the name ``later``
        gives it there (a vote card is drawn for every tally: only its counts change).
        Formatted, the pattern gives what :meth:`plain` gives with all the values (a value
        left for later is formatted from its ``str``, as :meth:`plain` formats every value)."""
        pattern: list[str] = []
        for text, field, spec, conversion in _FORMATTER.parse(self._plain_template(locale, key)):
            pattern.append(literal(text))
            if field is None:
                continue
            spec = f":{spec}" if spec else ""
            if field in later:
                if conversion:  # it would apply to the value's str, as plain formats it
                    raise ValueError(f"{key}: {field}'s conversion cannot be left for later")
                pattern.append(f"{{{later[field]}!s{spec}}}")
                continue
            conversion = f"!{conversion}" if conversion else ""
            filled = f"{{{field}{conversion}{spec}}}".format_map(
                {name: _unmarked(value) for name, value in values.items()}
            )
            pattern.append(literal(filled))
        return "".join(pattern)

    def _plain_template(self, locale: str, key: str) -> str:
        """``key``'s template for a card, its tags taken out once."""
        template = self._plain.get((locale, key))
        if template is None:
            template = self._plain[(locale, key)] = _ANY_TAG.sub("", self._template(locale, key))
        return template

    def when(self, locale: str, moment: datetime) -> str:
        return self.translator.datetime(locale, moment, self.zone)


def literal(text: str) -> str:
    """``text`` as a ``str.format`` pattern that gives it back as it is."""
    return text.replace("{", "{{").replace("}", "}}")


def _unmarked(value: object) -> str:
    """A value for a card: markdown given to a plain text loses its markup."""
    if isinstance(value, Markdown):
        return re.sub(r"\\(.)", r"\1", value.replace("**", "").replace("`", ""))
    return str(value)


def message(content: str, limit: int = MESSAGE_BYTES) -> dict[str, Any]:
    """A markdown message body, cut to ``limit`` bytes."""
    return {"msgtype": "markdown", "markdown": {"content": cut(content, limit)}}
