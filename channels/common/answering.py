"""A person who acts is answered first: what their change caused (the domain's events: notices,
cards, refreshes, posts in other chats) is acted on once the answer to them went out. A
channel opens an :class:`AnsweringFirst` around the handling of one message or press; its
event subscribers defer through :func:`after_the_answer`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar

log = logging.getLogger(__name__)

Effect = Callable[[], None]


class _Answering:
    """A handler answering: what its changes caused waits until it answered."""

    __slots__ = ("later", "open")

    def __init__(self) -> None:
        self.open = True
        self.later: list[Effect] = []


_answering: ContextVar[_Answering | None] = ContextVar("answering", default=None)


def after_the_answer(effect: Effect) -> bool:
    """Run ``effect`` once the handler running in this context answered (the confirmation
    first, then the notices and cards its change caused); False if no handler is answering
    here, and ``effect`` is the caller's to run now (a timer, the outbox, a background task)."""
    answering = _answering.get()
    if answering is None or not answering.open:
        return False
    answering.later.append(effect)
    return True


class AnsweringFirst:
    """The scope of one handler's answer: effects wait in it until the handler is done."""

    __slots__ = ("_answering", "_token")

    def __init__(self) -> None:
        self._answering = _Answering()
        self._token = _answering.set(self._answering)

    def answered(self) -> None:
        _answering.reset(self._token)
        self._answering.open = False  # tasks it started see it closed: theirs run at once
        for effect in self._answering.later:
            try:
                effect()
            except Exception:
                log.exception("acting on what a change caused failed")
