"""Numbers as people write them: ``15``, ``１５``, ``十五``, ``两``, ``二十``, ``零五``.

Chinese numerals are read by ``cn2an`` (a kept library) rather than a converter of our own;
this module only decides which runs of text are numerals and refuses what is not a whole
number written the usual way (``两两`` is not 22), so a caller never gets a guess.
"""

from __future__ import annotations

import unicodedata

import cn2an  # type: ignore[import-untyped]

# The characters a numeral may be written with, for the parsers' regular expressions.
NUMERAL = r"(?:[0-9]{1,9}|[零〇一二两三四五六七八九十百千]{1,12})"
MAX_LENGTH = 12  # longer than any number a date, time or duration needs


class NotANumber(ValueError):
    """The text is not a whole number written in digits or in Chinese numerals."""


def number(text: str) -> int:
    """The whole number ``text`` writes, in ASCII or full-width digits or Chinese numerals."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if not folded or len(folded) > MAX_LENGTH:
        raise NotANumber(text)
    if folded.isascii():
        if not folded.isdigit():
            raise NotANumber(text)
        return int(folded)
    if any(ch.isdigit() for ch in folded):  # "1十" mixes the two ways of writing
        raise NotANumber(text)
    if len(folded) == 4 and all(ch in _DIGIT_BY_DIGIT for ch in folded):
        return _read(folded, "normal")  # a year said digit by digit: 二〇二六
    # cn2an's "strict" mode refuses digit strings such as 两两 (which "normal" reads as 22);
    # the two everyday forms it lacks are given to it spelt out: 两 first (两百 = 二百) and
    # a leading 零 (七点零五).
    spelt = "二" + folded[1:] if folded.startswith("两") else folded
    while len(spelt) > 1 and spelt[0] in "零〇":
        spelt = spelt[1:]
    return _read(spelt.replace("〇", "零"), "strict")


_DIGIT_BY_DIGIT = frozenset("〇零一二三四五六七八九")


def _read(text: str, mode: str) -> int:
    try:
        value = cn2an.cn2an(text, mode)
    except ValueError:
        raise NotANumber(text) from None
    if not isinstance(value, int):
        raise NotANumber(text)
    return value
