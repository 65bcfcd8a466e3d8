"""Validation of the names people give nodes (社区, 网格, 楼栋)."""

from __future__ import annotations

import unicodedata

from bot.services.errors import Refusal

MAX_NAME_LENGTH = 32


def clean_name(text: str) -> str:
    """A node name: trimmed, inner whitespace collapsed, 1..32 characters, no control characters.

    Raises :class:`Refusal`: ``orgs.name_missing``, ``orgs.name_too_long``, ``orgs.name_invalid``.
    """
    name = " ".join(text.split())
    # Zero-width and bidi control characters would let two names look alike.
    name = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")
    if not name:
        raise Refusal("orgs.name_missing")
    if len(name) > MAX_NAME_LENGTH:
        raise Refusal("orgs.name_too_long", limit=MAX_NAME_LENGTH, length=len(name))
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in name):
        raise Refusal("orgs.name_invalid")
    if name.startswith("/"):
        raise Refusal("orgs.name_invalid")
    return name
