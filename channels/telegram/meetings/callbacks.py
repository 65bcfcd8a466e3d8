"""The buttons of meetings, as callback-data codecs (see ``channels.telegram.callbacks``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from channels.telegram.callbacks import CallbackData

ANSWER_CODES = {"y": "yes", "n": "no"}


@dataclass(frozen=True, slots=True)
class MeetingAnswer(CallbackData):
    """参加 (y) / 请假 (n) on a meeting message."""

    PREFIX: ClassVar[str] = "ma"
    occurrence_id: int
    answer: str


@dataclass(frozen=True, slots=True)
class MeetingWho(CallbackData):
    """An officer asks, privately, who answered what."""

    PREFIX: ClassVar[str] = "mw"
    occurrence_id: int


@dataclass(frozen=True, slots=True)
class MeetingCancel(CallbackData):
    """The answer to /cancelmeeting's question: o = this occurrence, s = the series, k = keep."""

    PREFIX: ClassVar[str] = "mc"
    meeting_id: int
    occurrence_id: int
    choice: str
