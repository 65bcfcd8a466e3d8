"""Callback data as a codec: ``<prefix>:<field>:<field>``, at most 64 bytes, parsed in one place.

Anything that fails to parse is answered and ignored by the handler that owns the prefix.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, ClassVar, Self

MAX_CALLBACK_BYTES = 64


class CallbackData:
    """Base of the frozen dataclasses that ride in inline buttons."""

    PREFIX: ClassVar[str]

    def encode(self) -> str:
        parts = [self.PREFIX]
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if isinstance(value, bool):
                parts.append("1" if value else "0")
            else:
                text = str(value)
                if ":" in text:
                    raise ValueError(f"{field.name} may not contain ':'")
                parts.append(text)
        data = ":".join(parts)
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def decode(cls, data: str | None) -> Self | None:
        """The decoded value, or None for anything malformed."""
        if not data or len(data.encode()) > MAX_CALLBACK_BYTES:
            return None
        prefix, *raw = data.split(":")
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        if prefix != cls.PREFIX or len(raw) != len(fields):
            return None
        values: dict[str, Any] = {}
        for field, text in zip(fields, raw, strict=True):
            if field.type in (bool, "bool"):
                if text not in ("0", "1"):
                    return None
                values[field.name] = text == "1"
            elif field.type in (int, "int"):
                if not re.fullmatch(r"-?\d{1,18}", text):
                    return None
                values[field.name] = int(text)
            else:
                if not text:
                    return None
                values[field.name] = text
        return cls(**values)

    @classmethod
    def pattern(cls) -> str:
        return rf"^{re.escape(cls.PREFIX)}:"


@dataclasses.dataclass(frozen=True, slots=True)
class RegistrationVerdict(CallbackData):
    """An officer's approve/reject button on a registration card."""

    PREFIX: ClassVar[str] = "rg"
    registration_id: int
    approve: bool


@dataclasses.dataclass(frozen=True, slots=True)
class VoteChoice(CallbackData):
    """A resident's press of an option button on a ballot message."""

    PREFIX: ClassVar[str] = "v"
    topic_id: int
    option: int


def is_vote(data: object) -> bool:
    """Whether a button's callback data is a vote's (its prefix; decoded by the handler)."""
    return isinstance(data, str) and data.startswith(f"{VoteChoice.PREFIX}:")


@dataclasses.dataclass(frozen=True, slots=True)
class ProposalStep(CallbackData):
    """An officer's step on a proposal card: a=accept, d=decline, b=back, c=category, r=reason."""

    PREFIX: ClassVar[str] = "pp"
    proposal_id: int
    step: str
    choice: int


@dataclasses.dataclass(frozen=True, slots=True)
class CardAction(CallbackData):
    """A button on an escalation card: a=take on, v=vote, h=vote here, l=vote in all
    buildings, r=resolve, u=send up, b=back."""

    PREFIX: ClassVar[str] = "e"
    escalation_id: int
    action: str


@dataclasses.dataclass(frozen=True, slots=True)
class RatingChoice(CallbackData):
    """A resident's rating of a resolution: 0 满意, 1 基本满意, 2 不满意."""

    PREFIX: ClassVar[str] = "rt"
    topic_id: int
    rating: int
