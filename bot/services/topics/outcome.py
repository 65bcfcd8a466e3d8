"""The outcome of a consultation: pure rules, exact arithmetic, no I/O.

The contract is PRODUCT.md, "Voting rules". Every share is a :class:`fractions.Fraction`, and every
threshold is compared by cross-multiplying integers (or exact fractions), never with floats, so the
boundaries are exact: a ``majority`` vote at exactly one half fails, a ``2/3`` vote at exactly two
thirds passes.

Choices made where the contract is silent (callers and tests rely on them):

* No ballots cast is ``UNRESOLVED``/``NO_VOTES`` under every voting rule; it is checked first.
* ``quorum_percent`` (0..100) is checked before the decision under every voting rule: the ballots
  cast must satisfy ``cast * 100 >= quorum_percent * eligible``, else ``UNRESOLVED``/``NO_QUORUM``.
  Under ``278``/``278-major`` it is an extra condition on top of the statutory two-thirds
  participation, so it can only make a decision stricter, never looser.
* Default options (agree/against/abstain), ``majority``: passed iff agree ballots are strictly
  more than half of the ballots cast (abstentions count as cast); ``2/3``: passed iff agree ballots
  are at least two thirds of the ballots cast. Otherwise, as many against as agree is
  ``UNRESOLVED``/``TIE`` (a split building is what escalation is for), and anything else is
  rejected. ``winner`` is 0 when passed and
  None when rejected.
* Custom options: the option with the most ballots is the outcome (``PASSED``, ``winner`` = its
  index). A tie for first place is ``UNRESOLVED``/``TIE`` (under both rules; the tie is checked
  first). Under ``majority`` a plurality suffices, the leader need not hold more than half. Under
  ``2/3`` the leader must also hold at least two thirds of the ballots cast, else ``REJECTED``
  with ``winner`` None.
* ``278``/``278-major`` (China Civil Code Art. 278) always read option 0 as "agree", whatever
  ``default_options`` says; every other option (against, abstain, ...) participates but does not
  agree. ``households`` lists each participating household once and must agree with ``counts``
  (``counts[i]`` is the number of households that chose option ``i``). A household whose area is
  unknown (``None``) counts as area 0: it still counts as a participating household, but adds no
  area (the caller refuses such ballots before they get here). Participation must reach two
  thirds of ``total_area`` AND two thirds of ``total_households``, else ``NO_QUORUM``; a
  ``total_area`` or ``total_households`` of 0 is ``NO_QUORUM`` too. Then ``278`` passes iff the
  agreeing area is strictly more than half of the participating area AND the agreeing households
  are strictly more than half of the participating households; ``278-major`` needs at least three
  quarters of both. Otherwise rejected.
* The four 278 shares are filled in for the 278 rules whenever their denominator is positive (also
  when the verdict is ``NO_QUORUM``, for display), and are None otherwise.
* ``opinion`` closes with ``Verdict.OPINION``, reason and winner None, ``cast`` 0, ``turnout`` 0.
* ``turnout`` is ``cast / eligible`` (0 when ``eligible`` is 0). It may exceed 1 if people left
  after voting; it is reported, never clamped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from storage.records import Rule

MAJORITY = Rule.MAJORITY
TWO_THIRDS = Rule.TWO_THIRDS
ART_278 = Rule.ART278
ART_278_MAJOR = Rule.ART278_MAJOR
OPINION = Rule.OPINION

#: Rules that decide by ballots (everything but ``opinion``).
VOTING_RULES = frozenset({MAJORITY, TWO_THIRDS, ART_278, ART_278_MAJOR})
#: Rules decided by household floor area and household count (Civil Code Art. 278).
HOUSEHOLD_RULES = frozenset({ART_278, ART_278_MAJOR})
RULES = VOTING_RULES | {OPINION}

_TWO_THIRDS = Fraction(2, 3)
_HALF = Fraction(1, 2)
_THREE_QUARTERS = Fraction(3, 4)


class Verdict(StrEnum):
    PASSED = "passed"
    REJECTED = "rejected"
    UNRESOLVED = "unresolved"
    OPINION = "opinion"


class Reason(StrEnum):
    """Why a consultation is unresolved."""

    NO_QUORUM = "no_quorum"
    TIE = "tie"
    NO_VOTES = "no_votes"


@dataclass(frozen=True, slots=True)
class HouseholdBallot:
    household_id: int
    area: Decimal | None  # registered floor area; None (unknown) counts as 0
    option: int  # option index; 0 is "agree"


@dataclass(frozen=True, slots=True)
class TallyInput:
    rule: str  # one of RULES (a Rule, or its value)
    options: tuple[str, ...]  # option texts, in order
    counts: tuple[int, ...]  # ballots per option (per person or per household, as cast)
    eligible: int  # eligible voters (persons or households)
    quorum_percent: int | None
    default_options: bool  # True for the standard agree/against/abstain set
    households: tuple[HouseholdBallot, ...] = ()  # 278 rules: one per participating household
    total_area: Decimal = Decimal(0)  # 278 rules: registered area of the eligible households
    total_households: int = 0  # 278 rules: number of eligible households


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    reason: Reason | None  # set iff verdict is UNRESOLVED
    winner: int | None  # winning option index (custom options), or 0 when agree passed
    cast: int  # ballots cast
    turnout: Fraction  # cast / eligible (0 if eligible == 0)
    # 278 rules only (None otherwise, or when the denominator is 0):
    area_participation: Fraction | None = None  # participating area / total area
    household_participation: Fraction | None = None  # participating / total households
    area_agree: Fraction | None = None  # agreeing area / participating area
    household_agree: Fraction | None = None  # agreeing / participating households


def leading(counts: Sequence[int]) -> list[int]:
    """Indexes of the options with the most ballots, in order; empty when no ballot was cast."""
    top = max(counts, default=0)
    if top <= 0:
        return []
    return [index for index, count in enumerate(counts) if count == top]


def decide(tally: TallyInput) -> Outcome:
    """The outcome of ``tally`` under its rule (see the module docstring for the exact rules).

    Raises :class:`ValueError` when the input is inconsistent: an unknown rule, ``counts`` not
    matching ``options``, a negative count, area or total, a quorum outside 0..100, an option index
    out of range, a household listed twice, or household ballots that disagree with ``counts``.
    """
    _validate(tally)
    if tally.rule == OPINION:
        return Outcome(Verdict.OPINION, None, None, 0, Fraction(0))
    cast = sum(tally.counts)
    turnout = Fraction(cast, tally.eligible) if tally.eligible > 0 else Fraction(0)
    if tally.rule in HOUSEHOLD_RULES:
        return _decide_278(tally, cast, turnout)

    def unresolved(reason: Reason) -> Outcome:
        return Outcome(Verdict.UNRESOLVED, reason, None, cast, turnout)

    if cast == 0:
        return unresolved(Reason.NO_VOTES)
    if not _quorum_reached(tally, cast):
        return unresolved(Reason.NO_QUORUM)
    threshold_met = _at_least_two_thirds if tally.rule == TWO_THIRDS else _more_than_half
    if tally.default_options:
        if threshold_met(tally.counts[0], cast):
            return Outcome(Verdict.PASSED, None, 0, cast, turnout)
        if len(tally.counts) > 1 and tally.counts[0] == tally.counts[1]:
            return unresolved(Reason.TIE)  # as many against as agree: the building is split
        return Outcome(Verdict.REJECTED, None, None, cast, turnout)
    leaders = leading(tally.counts)
    if len(leaders) > 1:
        return unresolved(Reason.TIE)
    (leader,) = leaders
    if tally.rule == TWO_THIRDS and not _at_least_two_thirds(tally.counts[leader], cast):
        return Outcome(Verdict.REJECTED, None, None, cast, turnout)
    return Outcome(Verdict.PASSED, None, leader, cast, turnout)


def _more_than_half(part: int, whole: int) -> bool:
    return part * 2 > whole


def _at_least_two_thirds(part: int, whole: int) -> bool:
    return part * 3 >= whole * 2


def _quorum_reached(tally: TallyInput, cast: int) -> bool:
    if tally.quorum_percent is None:
        return True
    return cast * 100 >= tally.quorum_percent * tally.eligible


def _share(part: Fraction, whole: Fraction) -> Fraction | None:
    return part / whole if whole > 0 else None


def _decide_278(tally: TallyInput, cast: int, turnout: Fraction) -> Outcome:
    """Civil Code Art. 278: two-thirds participation by area and households, then the threshold."""
    areas = [Fraction(ballot.area or 0) for ballot in tally.households]
    participating_area = sum(areas, Fraction(0))
    agree_area = sum(
        (area for area, ballot in zip(areas, tally.households, strict=True) if ballot.option == 0),
        Fraction(0),
    )
    participating = Fraction(len(tally.households))
    agreeing = Fraction(sum(1 for ballot in tally.households if ballot.option == 0))
    area_participation = _share(participating_area, Fraction(tally.total_area))
    household_participation = _share(participating, Fraction(tally.total_households))
    area_agree = _share(agree_area, participating_area)
    household_agree = _share(agreeing, participating)

    def outcome(verdict: Verdict, reason: Reason | None = None) -> Outcome:
        winner = 0 if verdict is Verdict.PASSED else None
        return Outcome(
            verdict,
            reason,
            winner,
            cast,
            turnout,
            area_participation,
            household_participation,
            area_agree,
            household_agree,
        )

    if cast == 0:
        return outcome(Verdict.UNRESOLVED, Reason.NO_VOTES)
    if (
        area_participation is None
        or household_participation is None
        or area_participation < _TWO_THIRDS
        or household_participation < _TWO_THIRDS
        or not _quorum_reached(tally, cast)
    ):
        return outcome(Verdict.UNRESOLVED, Reason.NO_QUORUM)
    # Participating area and households are positive here: both participations reached 2/3 > 0.
    assert area_agree is not None and household_agree is not None
    if tally.rule == ART_278_MAJOR:
        passed = area_agree >= _THREE_QUARTERS and household_agree >= _THREE_QUARTERS
    else:
        passed = area_agree > _HALF and household_agree > _HALF
    return outcome(Verdict.PASSED if passed else Verdict.REJECTED)


def _validate(tally: TallyInput) -> None:
    if tally.rule not in RULES:
        raise ValueError(f"unknown rule {tally.rule!r}")
    if len(tally.counts) != len(tally.options):
        raise ValueError(f"{len(tally.counts)} counts for {len(tally.options)} options")
    if any(count < 0 for count in tally.counts):
        raise ValueError(f"negative count in {tally.counts}")
    if tally.eligible < 0:
        raise ValueError(f"negative eligible {tally.eligible}")
    if tally.quorum_percent is not None and not 0 <= tally.quorum_percent <= 100:
        raise ValueError(f"quorum {tally.quorum_percent}% outside 0..100")
    if tally.rule in VOTING_RULES and not tally.options:
        raise ValueError(f"rule {tally.rule!r} needs at least one option")
    if tally.rule in HOUSEHOLD_RULES:
        _validate_households(tally)
    elif tally.households:
        raise ValueError(f"household ballots under rule {tally.rule!r}")


def _validate_households(tally: TallyInput) -> None:
    if not tally.total_area.is_finite() or tally.total_area < 0:
        raise ValueError(f"invalid total area {tally.total_area}")
    if tally.total_households < 0:
        raise ValueError(f"negative total households {tally.total_households}")
    seen: set[int] = set()
    for ballot in tally.households:
        if ballot.household_id in seen:
            raise ValueError(f"household {ballot.household_id} voted twice")
        seen.add(ballot.household_id)
        if not 0 <= ballot.option < len(tally.options):
            raise ValueError(f"option {ballot.option} out of range for {len(tally.options)}")
        if ballot.area is not None and (not ballot.area.is_finite() or ballot.area < 0):
            raise ValueError(f"invalid area {ballot.area} for household {ballot.household_id}")
    by_option = Counter(ballot.option for ballot in tally.households)
    if tuple(by_option[index] for index in range(len(tally.options))) != tally.counts:
        raise ValueError(f"counts {tally.counts} disagree with the household ballots")
