"""Faults a test switches on: a dropped connection, a refused frame, slow acks, dropped events.

- :meth:`Faults.drop_connection`: the bot's socket dies now, as on a network failure (no close
  frame); :meth:`Faults.drop_connection_after`: it dies after the bot's next ``frames`` frames
  (mid-burst: the last of them is handled but its ack is lost).
- :meth:`Faults.refuse_next`: the next frames of a cmd are refused with an errcode.
- :meth:`Faults.delay_acks`: every ack comes ``seconds`` late (a slow WeCom).
- :meth:`Faults.delay_pushes`: every callback reaches the bot ``seconds`` after the person
  acted (a slow WeCom: less of the 5 s is left for the answer).
- :meth:`Faults.drop_unanswered_events`: an event not answered within ``after`` seconds is
  dropped by WeCom; any later answer is refused (846605).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulators.wecom.errors import WeComError

if TYPE_CHECKING:
    from emulators.wecom.replies import Issued
    from emulators.wecom.server import Connection


class Faults:
    """Mixin of :class:`WeComEmulator` holding the switched-on faults."""

    live: dict[str, Connection]

    def __init__(self) -> None:
        self._refusals: dict[str, list[WeComError]] = {}
        self._drop_after: dict[str, int] = {}
        self.ack_delay = 0.0
        self.push_delay = 0.0
        self.drop_events_after: float | None = None
        self.dropped_events: list[Issued] = []

    def refuse_next(self, cmd: str, errcode: int, errmsg: str = "", *, count: int = 1) -> None:
        """The next ``count`` frames of ``cmd`` are refused with ``errcode`` (nothing done)."""
        error = WeComError(errcode, errmsg or f"refused by the emulator ({errcode})")
        self._refusals.setdefault(cmd, []).extend([error] * count)

    def take_refusal(self, cmd: str) -> WeComError | None:
        queue = self._refusals.get(cmd)
        return queue.pop(0) if queue else None

    def delay_acks(self, seconds: float) -> None:
        """Every ack from now on is sent ``seconds`` after the frame was handled (0: at once)."""
        self.ack_delay = seconds

    def delay_pushes(self, seconds: float) -> None:
        """Every callback from now on is pushed ``seconds`` after the person acted (0: at
        once); its answer window still counts from the act."""
        self.push_delay = seconds

    def drop_connection(self, bot_id: str) -> bool:
        """Kills the bot's live connection at once; False if it had none."""
        connection = self.live.get(bot_id)
        if connection is None:
            return False
        connection.abort()
        return True

    def drop_connection_after(self, bot_id: str, frames: int) -> None:
        """Kills the bot's connection once it has sent ``frames`` more frames (not pings)."""
        if frames < 1:
            raise ValueError("frames must be at least 1")
        self._drop_after[bot_id] = frames

    def count_for_drop(self, bot_id: str | None) -> bool:
        """Counts a frame; True when the connection is to be dropped now."""
        if bot_id is None or bot_id not in self._drop_after:
            return False
        self._drop_after[bot_id] -= 1
        if self._drop_after[bot_id] > 0:
            return False
        del self._drop_after[bot_id]
        return True

    def drop_unanswered_events(self, after: float | None = 5.0) -> None:
        """WeCom gives up on events unanswered after ``after`` seconds (None: switched off)."""
        self.drop_events_after = after

    def clear_faults(self) -> None:
        self._refusals.clear()
        self._drop_after.clear()
        self.ack_delay = 0.0
        self.push_delay = 0.0
        self.drop_events_after = None
