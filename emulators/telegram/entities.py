"""Telegram text processing: HTML parse_mode parsing/validation and automatic entities.

Entity offsets and lengths are in UTF-16 code units, as in the real Bot API.  The HTML
parser follows tdlib's ``parse_html`` (same error messages) but is deliberately stricter
about ``&``: an ampersand that does not start ``&lt;``, ``&gt;``, ``&amp;``, ``&quot;`` or a
numeric character reference is rejected, so that missing escaping is caught in tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from emulators.telegram.errors import ApiError, bad_request

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAME_TOKEN_RE = re.compile(r"[A-Za-z0-9.\-]*")
_SPACES = " \t\r\n\f\v"

_AUTO_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bot_command", re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{2,31}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("url", re.compile(r"(?<![\w/])https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'}]")),
)
_NO_AUTO_INSIDE = {"code", "pre", "text_link", "url", "bot_command", "mention"}


class EntityParseError(Exception):
    pass


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


@dataclass
class _OpenTag:
    name: str
    begin: int  # code point index in the source (for error messages)
    offset: int  # UTF-16 offset in the output text
    attrs: dict[str, str] = field(default_factory=dict)


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    m = _ENTITY_RE.match(text, i)
    if m is None:
        return None
    if m.group(1):
        return _NAMED_ENTITIES[m.group(1)], m.end()
    code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), m.end()


def _parse_attrs(text: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Parses attributes starting at ``i`` up to and including ``>``; returns (attrs, end)."""
    n = len(text)
    attrs: dict[str, str] = {}
    where = f'the tag "{tag}" at byte offset {_byte_offset(text, begin)}'
    unclosed = f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
    while True:
        while i < n and text[i] in _SPACES:
            i += 1
        if i >= n:
            raise EntityParseError(unclosed)
        if text[i] == ">":
            return attrs, i + 1
        start = i
        while i < n and text[i] not in _SPACES and text[i] not in "=>":
            i += 1
        name = text[start:i].lower()
        if not name:
            raise EntityParseError(f"Empty attribute name in {where}")
        while i < n and text[i] in _SPACES:
            i += 1
        if i >= n:
            raise EntityParseError(unclosed)
        if text[i] != "=":
            attrs[name] = ""  # valueless attribute, e.g. <blockquote expandable>
            continue
        i += 1
        while i < n and text[i] in _SPACES:
            i += 1
        if i >= n:
            raise EntityParseError(unclosed)
        if text[i] in "'\"":
            quote = text[i]
            i += 1
            chars: list[str] = []
            while i < n and text[i] != quote:
                decoded = _decode_entity(text, i) if text[i] == "&" else None
                if decoded is not None:
                    chars.append(decoded[0])
                    i = decoded[1]
                else:
                    chars.append(text[i])
                    i += 1
            if i >= n:
                raise EntityParseError(unclosed)
            attrs[name] = "".join(chars)
            i += 1
        else:
            m = _NAME_TOKEN_RE.match(text, i)
            end = m.end() if m else i
            if end >= n:
                raise EntityParseError(unclosed)
            if text[end] not in _SPACES and text[end] != ">":
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(text, i)}"
                )
            attrs[name] = text[i:end].lower()
            i = end


def parse_html(text: str, *, strict_amp: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parses Telegram-flavoured HTML into (plain text, entities). Raises EntityParseError.

    With ``strict_amp=False`` a bare ``&`` is kept literally, as real Telegram (tdlib) does.
    """
    out: list[str] = []
    pos = 0  # UTF-16 length of the output so far
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_entity(text, i)
            if decoded is None and not strict_amp:
                decoded = ("&", i + 1)
            if decoded is None:
                raise EntityParseError(
                    f"Character '&' at byte offset {_byte_offset(text, i)} must be escaped "
                    "as &amp; (unsupported HTML entity)"
                )
            out.append(decoded[0])
            pos += utf16_len(decoded[0])
            i = decoded[1]
            continue
        if ch != "<":
            out.append(ch)
            pos += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        if i + 1 < n and text[i + 1] == "/":
            end = text.find(">", i)
            if end == -1:
                raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, i)}")
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
            end_name = text[i + 2 : end].strip(_SPACES).lower()
            tag = stack.pop()
            if end_name and end_name != tag.name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                    f'expected "</{tag.name}>", found "</{end_name}>"'
                )
            _close_tag(tag, pos, "".join(out), stack, entities)
            i = end + 1
            continue
        j = i + 1
        while j < n and text[j] not in _SPACES and text[j] != ">":
            j += 1
        if j >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, i)}")
        name = text[i + 1 : j].lower()
        if name not in _SIMPLE_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, i)}'
            )
        attrs, i = _parse_attrs(text, j, name, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        stack.append(_OpenTag(name, begin, pos, attrs))
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return "".join(out), sort_entities(entities)


def _close_tag(
    tag: _OpenTag,
    pos: int,
    plain: str,
    stack: list[_OpenTag],
    entities: list[dict[str, Any]],
) -> None:
    length = pos - tag.offset
    kind = _SIMPLE_TAGS[tag.name]
    language = tag.attrs.get("class", "")
    if kind == "code" and language.startswith("language-") and stack and stack[-1].name == "pre":
        stack[-1].attrs["language"] = language.removeprefix("language-")
        return
    if length <= 0:
        return
    entity: dict[str, Any] = {"type": kind, "offset": tag.offset, "length": length}
    if kind == "text_link":
        url = tag.attrs.get("href")
        if url is None:
            url = plain.encode("utf-16-le")[tag.offset * 2 : pos * 2].decode("utf-16-le")
        if url.startswith("tg://user?id="):
            entity["type"] = "text_mention"
            entity["user"] = {"id": int(url.split("=", 1)[1] or 0), "is_bot": False}
            entity["user"]["first_name"] = ""
        else:
            entity["url"] = url
    elif kind == "pre" and tag.attrs.get("language"):
        entity["language"] = tag.attrs["language"]
    elif kind == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    entities.append(entity)


def sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def auto_entities(text: str, existing: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Adds the entities Telegram detects by itself (commands, mentions, hashtags, urls)."""
    existing = existing or []
    blocked = [
        (e["offset"], e["offset"] + e["length"]) for e in existing if e["type"] in _NO_AUTO_INSIDE
    ]
    found: list[dict[str, Any]] = list(existing)
    taken: list[tuple[int, int]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for m in pattern.finditer(text):
            start = utf16_len(text[: m.start()])
            end = start + utf16_len(m.group(0))
            if any(s < end and start < e for s, e in blocked + taken):
                continue
            taken.append((start, end))
            found.append({"type": kind, "offset": start, "length": end - start})
    return sort_entities(found)


def trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strips leading/trailing whitespace like Telegram, shifting and clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    result: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


def format_text(
    text: str | None,
    parse_mode: str | None,
    entities: list[dict[str, Any]] | None,
    *,
    caption: bool = False,
    strict_html: bool = True,
) -> tuple[str, list[dict[str, Any]]]:
    """Validates and parses a message text/caption as the Bot API does.

    Returns the plain text and its entities; raises :class:`ApiError` on Telegram errors.
    """
    raw = text or ""
    if entities is not None:
        plain, ents = raw, sort_entities(list(entities))
    elif parse_mode and parse_mode.lower() == "html":
        try:
            plain, ents = parse_html(raw, strict_amp=strict_html)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    elif parse_mode and parse_mode.lower() not in ("markdown", "markdownv2"):
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    else:
        # Markdown flavours are accepted but not interpreted by the emulator.
        plain, ents = raw, []
    plain, ents = trim(plain, ents)
    if not plain and not caption:
        raise bad_request("message text is empty")
    limit = CAPTION_LIMIT if caption else TEXT_LIMIT
    if len(plain) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return plain, auto_entities(plain, ents)


__all__ = [
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "ApiError",
    "EntityParseError",
    "auto_entities",
    "format_text",
    "parse_html",
    "trim",
    "utf16_len",
]
