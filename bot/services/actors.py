"""Who is asking and where: the transport-neutral view of an incoming request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    is_superadmin: bool = False


@dataclass(frozen=True, slots=True)
class Place:
    chat_id: int
    kind: ChatKind
    title: str | None = None
    # The forum topic (thread) of the group the request came from; None: no topics, General.
    thread_id: int | None = None

    @property
    def is_group(self) -> bool:
        return self.kind is ChatKind.GROUP
