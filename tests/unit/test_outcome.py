"""Outcome rules (PRODUCT.md "Voting rules"): exact boundaries, every reason, and properties."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.topics.outcome import (
    HOUSEHOLD_RULES,
    RULES,
    HouseholdBallot,
    Outcome,
    Reason,
    TallyInput,
    Verdict,
    decide,
    leading,
)

DEFAULT = ("同意", "反对", "弃权")
CUSTOM = ("Red", "Green", "Blue")


def vote(
    rule: str,
    counts: tuple[int, ...],
    *,
    eligible: int = 100,
    quorum: int | None = None,
    default: bool = True,
    options: tuple[str, ...] | None = None,
) -> Outcome:
    if options is None:
        options = DEFAULT if default else CUSTOM[: len(counts)]
    return decide(TallyInput(rule, options, counts, eligible, quorum, default))


def house_tally(
    rule: str,
    ballots: Sequence[tuple[str | None, int]],
    *,
    total_area: str | None = None,
    total_households: int | None = None,
    quorum: int | None = None,
) -> TallyInput:
    """Household ballots as (area, option); totals default to exactly the participants."""
    households = tuple(
        HouseholdBallot(i, None if area is None else Decimal(area), option)
        for i, (area, option) in enumerate(ballots)
    )
    counts = tuple(sum(1 for b in households if b.option == i) for i in range(len(DEFAULT)))
    area = (
        Decimal(total_area)
        if total_area is not None
        else sum((b.area or Decimal(0) for b in households), Decimal(0))
    )
    total = len(households) if total_households is None else total_households
    return TallyInput(rule, DEFAULT, counts, total, quorum, True, households, area, total)


def house(
    rule: str,
    ballots: Sequence[tuple[str | None, int]],
    *,
    total_area: str | None = None,
    total_households: int | None = None,
    quorum: int | None = None,
) -> Outcome:
    return decide(
        house_tally(
            rule,
            ballots,
            total_area=total_area,
            total_households=total_households,
            quorum=quorum,
        )
    )


AGREE, AGAINST, ABSTAIN = 0, 1, 2


# --- majority and 2/3, default options -------------------------------------------------------


def test_majority_at_exactly_half_is_rejected() -> None:
    outcome = vote("majority", (5, 4, 1))
    assert (outcome.verdict, outcome.reason, outcome.winner) == (Verdict.REJECTED, None, None)


@pytest.mark.parametrize("rule", ["majority", "2/3"])
def test_as_many_against_as_agree_is_a_tie(rule: str) -> None:
    outcome = vote(rule, (5, 5, 1))
    assert (outcome.verdict, outcome.reason, outcome.winner) == (
        Verdict.UNRESOLVED,
        Reason.TIE,
        None,
    )


def test_majority_at_half_plus_one_passes() -> None:
    outcome = vote("majority", (6, 5, 0))
    assert (outcome.verdict, outcome.reason, outcome.winner) == (Verdict.PASSED, None, 0)


def test_majority_abstentions_count_as_cast() -> None:
    assert vote("majority", (5, 2, 3)).verdict is Verdict.REJECTED
    assert vote("majority", (6, 2, 3)).verdict is Verdict.PASSED


def test_two_thirds_at_exactly_two_thirds_passes() -> None:
    assert vote("2/3", (6, 3, 0)).verdict is Verdict.PASSED
    assert vote("2/3", (4, 1, 1)).verdict is Verdict.PASSED


def test_two_thirds_just_below_is_rejected() -> None:
    assert vote("2/3", (5, 3, 0)).verdict is Verdict.REJECTED
    assert vote("2/3", (199, 101, 0)).verdict is Verdict.REJECTED  # 199/300 < 2/3
    assert vote("2/3", (200, 100, 0)).verdict is Verdict.PASSED


@pytest.mark.parametrize("rule", ["majority", "2/3"])
def test_no_ballots_is_no_votes(rule: str) -> None:
    outcome = vote(rule, (0, 0, 0))
    assert (outcome.verdict, outcome.reason, outcome.winner) == (
        Verdict.UNRESOLVED,
        Reason.NO_VOTES,
        None,
    )
    assert outcome.cast == 0
    assert outcome.turnout == 0


@pytest.mark.parametrize("rule", ["majority", "2/3"])
def test_no_ballots_is_no_votes_even_with_quorum_zero(rule: str) -> None:
    assert vote(rule, (0, 0, 0), quorum=0).reason is Reason.NO_VOTES


def test_turnout_and_cast() -> None:
    outcome = vote("majority", (3, 1, 2), eligible=9)
    assert outcome.cast == 6
    assert outcome.turnout == Fraction(2, 3)
    assert outcome.area_participation is None
    assert outcome.household_participation is None
    assert outcome.area_agree is None
    assert outcome.household_agree is None


def test_turnout_with_no_eligible_is_zero() -> None:
    outcome = vote("majority", (1, 0, 0), eligible=0)
    assert outcome.turnout == 0
    assert outcome.verdict is Verdict.PASSED


# --- quorum -----------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["majority", "2/3"])
def test_quorum_at_exactly_the_percentage_is_reached(rule: str) -> None:
    assert vote(rule, (10, 0, 0), eligible=20, quorum=50).verdict is Verdict.PASSED
    # 30% of 7 = 2.1: three ballots reach it.
    assert vote(rule, (3, 0, 0), eligible=7, quorum=30).verdict is Verdict.PASSED


@pytest.mark.parametrize("rule", ["majority", "2/3"])
def test_quorum_one_below_is_not_reached(rule: str) -> None:
    outcome = vote(rule, (9, 0, 0), eligible=20, quorum=50)
    assert (outcome.verdict, outcome.reason) == (Verdict.UNRESOLVED, Reason.NO_QUORUM)
    assert vote(rule, (2, 0, 0), eligible=7, quorum=30).reason is Reason.NO_QUORUM


def test_quorum_applies_to_custom_options() -> None:
    outcome = vote("majority", (5, 4), eligible=20, quorum=45, default=False)
    assert (outcome.verdict, outcome.winner) == (Verdict.PASSED, 0)
    assert vote("majority", (5, 4), eligible=20, quorum=50, default=False).reason is (
        Reason.NO_QUORUM
    )


def test_quorum_is_checked_before_the_tie() -> None:
    outcome = vote("majority", (2, 2), eligible=20, quorum=50, default=False)
    assert outcome.reason is Reason.NO_QUORUM


def test_quorum_of_100_needs_everyone() -> None:
    assert vote("majority", (9, 0, 0), eligible=10, quorum=100).reason is Reason.NO_QUORUM
    assert vote("majority", (9, 1, 0), eligible=10, quorum=100).verdict is Verdict.PASSED


# --- custom options ---------------------------------------------------------------------------


def test_custom_majority_plurality_wins_without_half() -> None:
    outcome = vote("majority", (3, 4, 2), default=False)
    assert (outcome.verdict, outcome.reason, outcome.winner) == (Verdict.PASSED, None, 1)


def test_custom_tie_for_first_is_unresolved() -> None:
    outcome = vote("majority", (4, 4, 2), default=False)
    assert (outcome.verdict, outcome.reason, outcome.winner) == (
        Verdict.UNRESOLVED,
        Reason.TIE,
        None,
    )


def test_custom_tie_for_second_does_not_matter() -> None:
    assert vote("majority", (5, 2, 2), default=False).winner == 0


def test_custom_two_thirds_leader_needs_two_thirds() -> None:
    outcome = vote("2/3", (6, 3, 0), default=False)
    assert (outcome.verdict, outcome.winner) == (Verdict.PASSED, 0)
    outcome = vote("2/3", (3, 5, 0), default=False)
    assert (outcome.verdict, outcome.reason, outcome.winner) == (Verdict.REJECTED, None, None)
    assert vote("2/3", (0, 2, 1), default=False).winner == 1


def test_custom_two_thirds_tie_is_unresolved() -> None:
    assert vote("2/3", (3, 3, 0), default=False).reason is Reason.TIE


def test_custom_no_ballots() -> None:
    assert vote("majority", (0, 0), default=False).reason is Reason.NO_VOTES


def test_custom_single_option() -> None:
    assert vote("majority", (1,), default=False).winner == 0


def test_default_options_first_is_agree_even_when_not_leading() -> None:
    # With default options there is no plurality: against leading is simply a rejection.
    outcome = vote("majority", (2, 5, 0))
    assert (outcome.verdict, outcome.winner) == (Verdict.REJECTED, None)


def test_leading() -> None:
    assert leading([3, 5, 5, 1]) == [1, 2]
    assert leading([0, 0]) == []
    assert leading([]) == []
    assert leading([7]) == [0]


# --- opinion ----------------------------------------------------------------------------------


def test_opinion_always_closes_with_opinion() -> None:
    outcome = decide(TallyInput("opinion", (), (), 10, None, False))
    assert outcome == Outcome(Verdict.OPINION, None, None, 0, Fraction(0))
    outcome = decide(TallyInput("opinion", DEFAULT, (3, 2, 1), 10, 90, True))
    assert (outcome.verdict, outcome.reason, outcome.winner, outcome.cast) == (
        Verdict.OPINION,
        None,
        None,
        0,
    )


# --- 278: participation ---------------------------------------------------------------------


@pytest.mark.parametrize("rule", sorted(HOUSEHOLD_RULES))
def test_278_participation_at_exactly_two_thirds_is_reached(rule: str) -> None:
    outcome = house(rule, [("100", AGREE), ("100", AGREE)], total_area="300", total_households=3)
    assert outcome.verdict is Verdict.PASSED
    assert outcome.winner == 0
    assert outcome.area_participation == Fraction(2, 3)
    assert outcome.household_participation == Fraction(2, 3)
    assert outcome.area_agree == 1
    assert outcome.household_agree == 1


@pytest.mark.parametrize("rule", sorted(HOUSEHOLD_RULES))
def test_278_area_participation_just_below(rule: str) -> None:
    outcome = house(rule, [("100", AGREE), ("99.99", AGREE)], total_area="300", total_households=3)
    assert (outcome.verdict, outcome.reason) == (Verdict.UNRESOLVED, Reason.NO_QUORUM)
    assert outcome.household_participation == Fraction(2, 3)
    assert outcome.area_participation == Fraction(19999, 30000)
    assert outcome.area_agree == 1  # shares are still reported for display


@pytest.mark.parametrize("rule", sorted(HOUSEHOLD_RULES))
def test_278_household_participation_just_below(rule: str) -> None:
    exact = [("1", AGREE)] * 200
    assert house(rule, exact, total_area="300", total_households=300).verdict is Verdict.PASSED
    below = [("2", AGREE)] + [("1", AGREE)] * 198  # 199 households, still 200 of area
    outcome = house(rule, below, total_area="300", total_households=300)
    assert (outcome.verdict, outcome.reason) == (Verdict.UNRESOLVED, Reason.NO_QUORUM)
    assert outcome.area_participation == Fraction(2, 3)
    assert outcome.household_participation == Fraction(199, 300)


@pytest.mark.parametrize("rule", sorted(HOUSEHOLD_RULES))
def test_278_zero_total_area_is_no_quorum(rule: str) -> None:
    outcome = house(rule, [("0", AGREE)], total_area="0", total_households=1)
    assert (outcome.verdict, outcome.reason) == (Verdict.UNRESOLVED, Reason.NO_QUORUM)
    assert outcome.area_participation is None
    outcome = house(rule, [(None, AGREE)], total_area="0", total_households=1)
    assert outcome.reason is Reason.NO_QUORUM


@pytest.mark.parametrize("rule", sorted(HOUSEHOLD_RULES))
def test_278_zero_total_households_is_no_quorum(rule: str) -> None:
    outcome = house(rule, [("10", AGREE)], total_area="10", total_households=0)
    assert outcome.reason is Reason.NO_QUORUM
    assert outcome.household_participation is None


@pytest.mark.parametrize("rule", sorted(HOUSEHOLD_RULES))
def test_278_no_ballots_is_no_votes(rule: str) -> None:
    outcome = house(rule, [], total_area="300", total_households=3)
    assert (outcome.verdict, outcome.reason) == (Verdict.UNRESOLVED, Reason.NO_VOTES)
    assert outcome.cast == 0
    assert outcome.area_participation == 0
    assert outcome.household_participation == 0
    assert outcome.area_agree is None
    assert outcome.household_agree is None
    # No ballots is NO_VOTES even where the totals would make it NO_QUORUM.
    assert house(rule, [], total_area="0", total_households=0).reason is Reason.NO_VOTES


@pytest.mark.parametrize("rule", sorted(HOUSEHOLD_RULES))
def test_278_unknown_area_counts_as_zero_area(rule: str) -> None:
    # The unknown-area household participates as a household but adds no area.
    outcome = house(rule, [("100", AGREE), (None, AGREE)], total_area="150", total_households=3)
    assert outcome.household_participation == Fraction(2, 3)
    assert outcome.area_participation == Fraction(2, 3)
    assert outcome.verdict is Verdict.PASSED
    outcome = house(rule, [("99", AGREE), (None, AGAINST)], total_area="100")
    assert outcome.area_agree == 1
    assert outcome.household_agree == Fraction(1, 2)
    assert outcome.verdict is Verdict.REJECTED


@pytest.mark.parametrize("rule", sorted(HOUSEHOLD_RULES))
def test_278_quorum_percent_is_an_extra_condition(rule: str) -> None:
    ballots: list[tuple[str | None, int]] = [("100", AGREE), ("100", AGREE)]
    reached = house(rule, ballots, total_area="300", total_households=3, quorum=66)
    assert reached.verdict is Verdict.PASSED
    missed = house(rule, ballots, total_area="300", total_households=3, quorum=67)
    assert missed.reason is Reason.NO_QUORUM


def test_278_ignores_default_options_flag() -> None:
    tally = house_tally("278", [("60", AGREE), ("40", AGAINST)])
    custom = TallyInput(
        "278", CUSTOM, tally.counts, 2, None, False, tally.households, tally.total_area, 2
    )
    assert decide(custom).verdict is Verdict.REJECTED  # 1 of 2 households is exactly half


# --- 278: the decision ------------------------------------------------------------------------


def test_278_area_at_exactly_half_is_rejected() -> None:
    outcome = house("278", [("25", AGREE), ("25", AGREE), ("50", AGAINST)])
    assert outcome.area_agree == Fraction(1, 2)
    assert outcome.household_agree == Fraction(2, 3)
    assert (outcome.verdict, outcome.reason, outcome.winner) == (Verdict.REJECTED, None, None)


def test_278_area_just_above_half_passes() -> None:
    outcome = house("278", [("25", AGREE), ("25.01", AGREE), ("50", AGAINST)])
    assert outcome.area_agree == Fraction(5001, 10001)
    assert (outcome.verdict, outcome.winner) == (Verdict.PASSED, 0)


def test_278_households_at_exactly_half_is_rejected() -> None:
    outcome = house("278", [("40", AGREE), ("40", AGREE), ("10", AGAINST), ("10", ABSTAIN)])
    assert outcome.area_agree == Fraction(4, 5)
    assert outcome.household_agree == Fraction(1, 2)
    assert outcome.verdict is Verdict.REJECTED


def test_278_households_just_above_half_passes() -> None:
    ballots = [("40", AGREE)] * 101 + [("1", AGAINST)] * 100
    outcome = house("278", ballots)
    assert outcome.household_agree == Fraction(101, 201)
    assert outcome.verdict is Verdict.PASSED


def test_278_abstentions_count_as_participating() -> None:
    outcome = house("278", [("50", AGREE), ("50", ABSTAIN)])
    assert (outcome.area_agree, outcome.household_agree) == (Fraction(1, 2), Fraction(1, 2))
    assert outcome.verdict is Verdict.REJECTED


def test_278_major_at_exactly_three_quarters_passes() -> None:
    outcome = house("278-major", [("25", AGREE), ("25", AGREE), ("25", AGREE), ("25", AGAINST)])
    assert outcome.area_agree == Fraction(3, 4)
    assert outcome.household_agree == Fraction(3, 4)
    assert (outcome.verdict, outcome.winner) == (Verdict.PASSED, 0)


def test_278_major_area_just_below_three_quarters_is_rejected() -> None:
    outcome = house(
        "278-major", [("25", AGREE), ("25", AGREE), ("24.99", AGREE), ("25.01", AGAINST)]
    )
    assert outcome.area_agree == Fraction(7499, 10000)
    assert outcome.household_agree == Fraction(3, 4)
    assert outcome.verdict is Verdict.REJECTED


def test_278_major_households_just_below_three_quarters_is_rejected() -> None:
    exact = [("10", AGREE)] * 300 + [("1", AGAINST)] * 100
    assert house("278-major", exact).verdict is Verdict.PASSED
    below = [("10", AGREE)] * 299 + [("1", AGAINST)] * 101
    outcome = house("278-major", below)
    assert outcome.household_agree == Fraction(299, 400)
    assert outcome.area_agree is not None and outcome.area_agree > Fraction(3, 4)
    assert outcome.verdict is Verdict.REJECTED


def test_278_major_is_stricter_than_278() -> None:
    ballots = [("20", AGREE), ("20", AGREE), ("20", AGAINST)]
    assert house("278", ballots).verdict is Verdict.PASSED
    assert house("278-major", ballots).verdict is Verdict.REJECTED


def test_278_turnout_is_per_household() -> None:
    outcome = house("278", [("1", AGREE), ("1", AGREE)], total_area="3", total_households=3)
    assert outcome.cast == 2
    assert outcome.turnout == Fraction(2, 3)


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tally",
    [
        TallyInput("plurality", DEFAULT, (1, 0, 0), 5, None, True),
        TallyInput("majority", DEFAULT, (1, 0), 5, None, True),
        TallyInput("majority", DEFAULT, (1, -1, 0), 5, None, True),
        TallyInput("majority", DEFAULT, (1, 0, 0), -1, None, True),
        TallyInput("majority", DEFAULT, (1, 0, 0), 5, 101, True),
        TallyInput("majority", DEFAULT, (1, 0, 0), 5, -1, True),
        TallyInput("majority", (), (), 5, None, False),
        TallyInput("opinion", DEFAULT, (1,), 5, None, True),
        TallyInput("majority", DEFAULT, (1, 0, 0), 5, None, True, (HouseholdBallot(1, None, 0),)),
        # 278: option out of range, household twice, counts disagreeing, bad areas and totals.
        house_tally("278", [("1", 3)]),
        house_tally("278", [("1", -1)]),
        TallyInput(
            "278",
            DEFAULT,
            (2, 0, 0),
            2,
            None,
            True,
            (HouseholdBallot(1, Decimal(1), 0), HouseholdBallot(1, Decimal(1), 0)),
            Decimal(2),
            2,
        ),
        TallyInput(
            "278", DEFAULT, (0, 1, 0), 1, None, True, (HouseholdBallot(1, None, 0),), Decimal(1), 1
        ),
        house_tally("278", [("-1", AGREE)], total_area="1"),
        house_tally("278", [("NaN", AGREE)], total_area="1"),
        house_tally("278", [("Infinity", AGREE)], total_area="1"),
        house_tally("278", [("1", AGREE)], total_area="-1"),
        house_tally("278", [("1", AGREE)], total_area="Infinity"),
        house_tally("278", [("1", AGREE)], total_households=-1),
    ],
)
def test_invalid_inputs_raise(tally: TallyInput) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        decide(tally)


# --- properties -------------------------------------------------------------------------------

counts_3 = st.tuples(*(st.integers(0, 60) for _ in range(3)))
quorums = st.none() | st.integers(0, 100)


@st.composite
def valid_tallies(draw: st.DrawFn) -> TallyInput:
    rule = draw(st.sampled_from(sorted(RULES)))
    quorum = draw(quorums)
    if rule in HOUSEHOLD_RULES:
        n_options = draw(st.integers(1, 4))
        options = DEFAULT[:n_options] if n_options <= 3 else (*DEFAULT, "其他")
        areas = st.none() | st.decimals(0, 500, places=2, allow_nan=False, allow_infinity=False)
        ballots = draw(st.lists(st.tuples(areas, st.integers(0, n_options - 1)), max_size=12))
        households = tuple(
            HouseholdBallot(i, area, option) for i, (area, option) in enumerate(ballots)
        )
        counts = tuple(sum(1 for b in households if b.option == i) for i in range(n_options))
        participating = sum((b.area or Decimal(0) for b in households), Decimal(0))
        extra_area = draw(st.decimals(0, 1000, places=2, allow_nan=False, allow_infinity=False))
        # Membership may have shrunk since voting: totals can also be below the participants.
        total_households = draw(st.integers(0, 2 * len(households) + 2))
        total_area = draw(st.sampled_from([participating + extra_area, extra_area]))
        eligible = draw(st.integers(0, 30))
        return TallyInput(
            rule,
            options,
            counts,
            eligible,
            quorum,
            draw(st.booleans()),
            households,
            total_area,
            total_households,
        )
    default = draw(st.booleans())
    if default:
        options = DEFAULT
    else:
        options = tuple(draw(st.lists(st.text(min_size=1), min_size=1, max_size=6, unique=True)))
    counts = tuple(draw(st.lists(st.integers(0, 50), min_size=len(options), max_size=len(options))))
    if rule == "opinion":
        options, counts = (), ()
    return TallyInput(rule, options, counts, draw(st.integers(0, 300)), quorum, default)


@given(valid_tallies())
def test_decide_never_raises_for_valid_inputs(tally: TallyInput) -> None:
    outcome = decide(tally)
    assert (outcome.reason is not None) == (outcome.verdict is Verdict.UNRESOLVED)
    if outcome.verdict is Verdict.PASSED:
        assert outcome.winner is not None
        assert 0 <= outcome.winner < len(tally.options)
    else:
        assert outcome.winner is None
    if tally.rule in HOUSEHOLD_RULES:
        assert outcome.cast == len(tally.households)
    else:
        assert outcome.area_participation is None
        assert outcome.household_participation is None
        assert outcome.area_agree is None
        assert outcome.household_agree is None


@given(valid_tallies())
def test_removing_all_ballots_gives_no_votes(tally: TallyInput) -> None:
    if tally.rule == "opinion":
        return
    emptied = TallyInput(
        tally.rule,
        tally.options,
        (0,) * len(tally.options),
        tally.eligible,
        tally.quorum_percent,
        tally.default_options,
        (),
        tally.total_area,
        tally.total_households,
    )
    outcome = decide(emptied)
    assert (outcome.verdict, outcome.reason, outcome.cast) == (
        Verdict.UNRESOLVED,
        Reason.NO_VOTES,
        0,
    )


@given(valid_tallies(), st.integers(0, 300))
def test_turnout_is_a_share_when_cast_fits(tally: TallyInput, extra: int) -> None:
    cast = sum(tally.counts)
    fitted = TallyInput(
        tally.rule,
        tally.options,
        tally.counts,
        cast + extra,
        tally.quorum_percent,
        tally.default_options,
        tally.households,
        tally.total_area,
        tally.total_households,
    )
    assert 0 <= decide(fitted).turnout <= 1


@pytest.mark.parametrize("rule", ["majority", "2/3"])
@given(counts=counts_3, eligible_extra=st.integers(0, 200), quorum=quorums)
def test_an_extra_agree_ballot_never_rejects_a_passed_vote(
    rule: str, counts: tuple[int, int, int], eligible_extra: int, quorum: int | None
) -> None:
    eligible = sum(counts) + 1 + eligible_extra  # the extra voter was eligible all along
    before = vote(rule, counts, eligible=eligible, quorum=quorum)
    after = vote(rule, (counts[0] + 1, *counts[1:]), eligible=eligible, quorum=quorum)
    if before.verdict is Verdict.PASSED:
        assert after.verdict is Verdict.PASSED
    assert after.verdict is not Verdict.UNRESOLVED or after.reason in (Reason.NO_QUORUM, Reason.TIE)


@pytest.mark.parametrize("rule", sorted(HOUSEHOLD_RULES))
@given(
    ballots=st.lists(
        st.tuples(st.integers(1, 300), st.integers(0, 2), st.booleans()), min_size=1, max_size=15
    )
)
def test_an_extra_agreeing_household_never_rejects_a_passed_278_vote(
    rule: str, ballots: list[tuple[int, int, bool]]
) -> None:
    """Households are (area, option, voted); the last one joins and agrees."""
    (*others, (new_area, _, _)) = ballots
    voted: list[tuple[str | None, int]] = [
        (str(area), option) for area, option, did in others if did
    ]
    total_area = str(sum(area for area, _, _ in ballots))
    before = house(rule, voted, total_area=total_area, total_households=len(ballots))
    after = house(
        rule,
        [*voted, (str(new_area), AGREE)],
        total_area=total_area,
        total_households=len(ballots),
    )
    if before.verdict is Verdict.PASSED:
        assert after.verdict is Verdict.PASSED


@pytest.mark.parametrize("rule", ["majority", "2/3"])
@given(
    counts=st.lists(st.integers(0, 30), min_size=1, max_size=6),
    quorum=quorums,
    eligible=st.integers(0, 200),
    data=st.data(),
)
def test_custom_outcome_does_not_depend_on_option_order(
    rule: str, counts: list[int], quorum: int | None, eligible: int, data: st.DataObject
) -> None:
    options = tuple(f"option {i}" for i in range(len(counts)))
    order = data.draw(st.permutations(range(len(counts))))
    shuffled_options = tuple(options[i] for i in order)
    shuffled_counts = tuple(counts[i] for i in order)
    before = decide(TallyInput(rule, options, tuple(counts), eligible, quorum, False))
    after = decide(TallyInput(rule, shuffled_options, shuffled_counts, eligible, quorum, False))
    assert (before.verdict, before.reason, before.cast, before.turnout) == (
        after.verdict,
        after.reason,
        after.cast,
        after.turnout,
    )
    assert (before.winner is None) == (after.winner is None)
    if before.winner is not None and after.winner is not None:
        assert options[before.winner] == shuffled_options[after.winner]
