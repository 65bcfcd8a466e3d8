"""Residents pressing ballot buttons: the plan (who presses what, in which order) and the
driver that plays it against an emulator (Telegram's over its control API, WeCom's in process),
~200 presses in flight.

A resident never has two presses in flight, so "the last choice" is well defined and the
final counts can be checked exactly.
"""

from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from emulators.telegram import EmulatorClient

OPTIONS = ("同意", "反对", "弃权")


@dataclass
class Ballot:
    """One ballot message in one building chat, and the residents who may press it."""

    chat_id: int
    message_id: int
    residents: list[int]
    topic_id: int | None = None


@dataclass
class Plan:
    ballots: list[Ballot]
    presses: dict[int, list[str]]  # resident -> the options they press, in order
    ballot_of: dict[int, Ballot]

    @property
    def total(self) -> int:
        return sum(len(options) for options in self.presses.values())

    def last_choices(self, ballot: Ballot) -> dict[str, int]:
        counts = dict.fromkeys(OPTIONS, 0)
        for resident in ballot.residents:
            if self.presses[resident]:
                counts[self.presses[resident][-1]] += 1
        return counts


def make_plan(ballots: list[Ballot], *, seed: int = 6) -> Plan:
    """Each resident presses once; a third change their minds, some twice, a few press the
    same button again."""
    rng = random.Random(seed)
    presses: dict[int, list[str]] = {}
    ballot_of: dict[int, Ballot] = {}
    for ballot in ballots:
        for resident in ballot.residents:
            ballot_of[resident] = ballot
            choices = [rng.choice(OPTIONS)]
            if rng.random() < 0.35:
                choices.append(rng.choice([o for o in OPTIONS if o != choices[-1]]))
                if rng.random() < 0.3:
                    choices.append(rng.choice([o for o in OPTIONS if o != choices[-1]]))
            if rng.random() < 0.05:
                choices.append(choices[-1])  # pressed again: answered, nothing changes
            presses[resident] = choices
    return Plan(ballots, presses, ballot_of)


@dataclass
class Played:
    """What one phase measured."""

    presses: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # injection -> answer, seconds
    first_latencies: list[float] = field(default_factory=list)  # of residents' first presses
    unexpected: list[str] = field(default_factory=list)  # answers that do not name the option
    started_at: float = 0.0  # emulator clock (time.time) when the phase began

    @property
    def rate(self) -> float:
        return self.presses / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class Answer:
    """One press answered: when it was made and answered (the emulator's clock), and what
    was wrong with the answer, if anything."""

    id: str
    created: float
    answered: float
    problem: str | None = None


class Presses(Protocol):
    """How a driver presses on one platform's emulator."""

    async def press(self, batch: list[tuple[int, str]]) -> list[str]:
        """Makes the presses (resident, option) at once; their ids, in order."""

    async def answers(self, ids: list[str]) -> list[Answer]:
        """Waits until some of the presses ``ids`` are answered (at least one); those."""


class TelegramPresses:
    """Presses through the Bot API emulator's bulk control actions (press_buttons,
    wait_for_answers): the answer must name the option."""

    def __init__(self, client: EmulatorClient, plan: Plan) -> None:
        self.client, self.plan = client, plan
        self.options: dict[str, str] = {}

    async def press(self, batch: list[tuple[int, str]]) -> list[str]:
        ballot_of = self.plan.ballot_of
        presses = [[ballot_of[r].chat_id, ballot_of[r].message_id, r, o] for r, o in batch]
        ids = [str(id_) for id_ in await self.client.call("press_buttons", presses=presses)]
        self.options.update(zip(ids, (option for _, option in batch), strict=True))
        return ids

    async def answers(self, ids: list[str]) -> list[Answer]:
        answered = await self.client.call("wait_for_answers", ids=ids, timeout=30.0)
        result = []
        for answer in answered:
            text = answer["text"] or ""
            option = self.options.pop(str(answer["id"]))
            problem = None if option in text or text == "已记录" else text
            result.append(Answer(str(answer["id"]), answer["created"], answer["answered"], problem))
        return result


async def play(
    port: Presses,
    queue: deque[tuple[int, str]],
    *,
    in_flight: int,
    limit: int | None = None,
    pressed: set[int] | None = None,
) -> Played:
    """Presses from ``queue`` (resident, option) with at most ``in_flight`` unanswered, until
    ``limit`` presses were answered or the queue is empty. A resident's next press is queued
    (at the back) only when their previous one has been answered. ``pressed``: residents
    whose first press was answered before (added to as they are)."""
    played = Played(started_at=time.time())
    pressed = set() if pressed is None else pressed
    waiting: dict[str, tuple[int, str]] = {}
    busy: set[int] = set()
    held: deque[tuple[int, str]] = deque()  # presses of residents with one in flight
    start = time.perf_counter()
    budget = limit if limit is not None else len(queue)
    issued = 0
    while (queue or waiting) and played.presses < budget:
        batch: list[tuple[int, str]] = []
        while queue and len(waiting) + len(batch) < in_flight and issued < budget:
            resident, option = queue.popleft()
            if resident in busy:
                held.append((resident, option))
                continue
            busy.add(resident)
            batch.append((resident, option))
            issued += 1
        queue.extendleft(reversed(held))
        held.clear()
        if batch:
            ids = await port.press(batch)
            waiting.update(zip(ids, batch, strict=True))
        if not waiting:
            break
        answered = await port.answers(list(waiting))
        if not answered:
            raise TimeoutError(f"{len(waiting)} presses unanswered for 30 s")
        for answer in answered:
            resident, option = waiting.pop(answer.id)
            busy.discard(resident)
            played.presses += 1
            played.latencies.append(answer.answered - answer.created)
            if resident not in pressed:
                played.first_latencies.append(played.latencies[-1])
                pressed.add(resident)
            if answer.problem is not None:
                played.unexpected.append(answer.problem)
    played.seconds = time.perf_counter() - start
    return played


def press_queue(plan: Plan, *, seed: int = 7) -> deque[tuple[int, str]]:
    """Every planned press, residents interleaved: first presses in random order, then
    second presses, and so on (a resident's presses stay in their order)."""
    rng = random.Random(seed)
    rounds: list[list[tuple[int, str]]] = []
    for resident, options in plan.presses.items():
        for index, option in enumerate(options):
            while len(rounds) <= index:
                rounds.append([])
            rounds[index].append((resident, option))
    queue: deque[tuple[int, str]] = deque()
    for presses in rounds:
        rng.shuffle(presses)
        queue.extend(presses)
    return queue
