"""``/export <id>``: a topic's full record as files (CSV for spreadsheets, Markdown minutes).

The record is loaded once, with every privacy rule applied there, so the renderers cannot leak
what they were never given:

* secret ballots carry no voter, no household unit, no area, no channel, no recorder and no
  time (any of them, or the order of the rows, could link a ballot to a household: the audit
  log names the unit an officer visited and when); their rows are sorted by option;
* while an open topic hides its tally, no ballot's option, no count and no interim outcome;
* private opinions (texts only, never their authors) only in a private chat, to an officer.

The renderers are pure and language-neutral: every word comes from ``labels.t`` (a translator
bound to the reader's language), every time is shown in ``labels.zone``.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Any

from bot.catalogue import Catalogue, CatalogueEntry
from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.organisation.permissions import is_officer, rank_at
from bot.services.topics.closing import fraction_of, outcome_record, tally
from bot.services.topics.outcome import HOUSEHOLD_RULES, decide
from bot.services.topics.service import TopicService, snapshot
from storage.database import Database
from storage.records import Ballot, BallotChannel, Node, Scope, Topic, TopicStatus
from storage.repositories import Repositories

BOM = "\ufeff"
#: How ballots arrive, in the order the files list them.
CHANNELS = tuple(BallotChannel)
#: Cells of people's text that a spreadsheet would run as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Characters that carry meaning in Markdown text.
_MARKDOWN_SPECIALS = "\\`*_[]<>|~"


@dataclass(frozen=True, slots=True)
class ExportLabels:
    """What the renderers need from the adapter: words in the reader's language, a time zone.

    ``t(key, **params)`` returns plain text (no markup) for keys such as ``export.col_voter``,
    ``channels.paper``, ``rules.majority`` and ``verdicts.unresolved``.
    """

    t: Callable[..., str]
    zone: tzinfo
    locale: str


@dataclass(frozen=True, slots=True)
class BallotRow:
    voter: str | None  # display name; None for an offline ballot or a secret one
    unit: str | None  # household topics, not secret
    area: Decimal | None  # household topics, not secret
    option: int | None  # None while the tally is hidden
    channel: str | None  # button/paper/visit/video; None for secret ballots
    recorded_by: str | None  # the officer, for offline ballots that are not secret
    at: datetime | None  # None for secret ballots


@dataclass(frozen=True, slots=True)
class OpinionRow:
    author: str
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class TopicRecord:
    """Everything ``/export`` writes, already filtered for who asked and where."""

    topic: Topic
    path: tuple[str, ...]  # node names from the root down to the topic's node
    level: str
    category: CatalogueEntry | None
    creator: str
    ballots: tuple[BallotRow, ...]
    counts: tuple[int, ...] | None  # None while the tally is hidden
    cast: int
    eligible: int | None  # None: who may vote is not known (a WeCom group's size)
    channels: dict[str, int]
    outcome: dict[str, Any] | None  # the kept record, or the interim one (see ``interim``)
    public_opinions: tuple[OpinionRow, ...]
    private_count: int
    private_opinions: tuple[str, ...]  # only for an officer in a private chat
    exported_at: datetime

    @property
    def interim(self) -> bool:
        return self.topic.is_open

    @property
    def hidden(self) -> bool:
        return self.counts is None

    @property
    def secret(self) -> bool:
        return self.topic.secret

    @property
    def unit_columns(self) -> bool:
        return self.topic.household and not self.topic.secret


class ExportService:
    def __init__(self, database: Database, clock: Clock, catalogue: Catalogue) -> None:
        self._db = database
        self._clock = clock
        self._catalogue = catalogue

    async def record(self, actor: Actor, place: Place, topic_id: int) -> TopicRecord:
        """The record of a topic this chat can see, for an officer of its node or above.

        Where: as ``/result`` (a group the topic is posted in, or a chat of an ancestor node;
        or a private chat).
        """
        now = self._clock.now()
        async with self._db.transaction() as repos:
            topic = await repos.topics.get(topic_id)
            if topic is None or (
                place.is_group and not await TopicService._posted_here(repos, topic, place)
            ):
                raise Refusal("topics.unknown", id=topic_id)
            node = await repos.orgs.node(topic.node_id)
            assert node is not None
            if not is_officer(await rank_at(repos, actor, node), node):
                raise Refusal("export.needs_officer", id=topic.id)
            return await self._load(repos, topic, node, private=not place.is_group, now=now)

    async def _load(
        self, repos: Repositories, topic: Topic, node: Node, *, private: bool, now: datetime
    ) -> TopicRecord:
        snap = await snapshot(repos, topic.id)
        assert snap is not None
        hidden = topic.is_open and topic.hide_results and not topic.is_opinion
        ballots = await repos.topics.ballots(topic.id)
        opinions = await repos.topics.opinions(topic.id)
        found = await repos.users.many(
            sorted(
                {b.user_id for b in ballots if b.user_id is not None and not topic.secret}
                | {b.recorded_by for b in ballots if b.recorded_by and not topic.secret}
                | {o.user_id for o in opinions if o.public}
                | {topic.created_by}
            )
        )

        names = {user_id: user.display_name for user_id, user in found.items()}

        def name(user_id: int) -> str:
            return names.get(user_id) or str(user_id)

        units: dict[int, tuple[str, Decimal | None]] = {}
        if topic.household and not topic.secret:
            for household_id in {b.household_id for b in ballots if b.household_id is not None}:
                household = await repos.households.household_by_id(household_id)
                if household is not None:
                    units[household_id] = (household.unit, household.area)
        rows = ballot_rows(topic, ballots, names=names, units=units, hidden=hidden)
        outcome = topic.outcome
        if topic.is_open and not hidden:
            tally_input, extra = await tally(repos, topic)
            outcome = outcome_record(decide(tally_input), tally_input, extra)
        chain = await repos.orgs.ancestry(node.id)
        return TopicRecord(
            topic=replace(topic, ballot_salt=None),
            path=tuple(member.name for member in reversed(chain)),
            level=node.level,
            category=self._catalogue.find(topic.category) if topic.category else None,
            creator=name(topic.created_by),
            ballots=rows,
            counts=None if hidden else snap.counts,
            cast=snap.cast,
            eligible=snap.eligible if snap.roll_known else None,
            channels=Counter(ballot.channel for ballot in ballots),
            outcome=outcome,
            public_opinions=tuple(
                OpinionRow(author=name(o.user_id), at=o.created_at, text=o.text)
                for o in opinions
                if o.public
            ),
            private_count=sum(1 for o in opinions if not o.public),
            private_opinions=tuple(o.text for o in opinions if not o.public) if private else (),
            exported_at=now,
        )


def ballot_rows(
    topic: Topic,
    ballots: Iterable[Ballot],
    *,
    names: Mapping[int, str],
    units: Mapping[int, tuple[str, Decimal | None]],
    hidden: bool,
) -> tuple[BallotRow, ...]:
    """The rows a ballot table may show: for a secret topic nothing but the option (and not
    even the order of voting); while the tally is hidden, no option."""
    if topic.secret:
        chosen = sorted(ballot.option for ballot in ballots)
        return tuple(
            BallotRow(None, None, None, None if hidden else option, None, None, None)
            for option in chosen
        )
    rows: list[BallotRow] = []
    for ballot in ballots:
        unit, area = units.get(ballot.household_id or 0, (None, None))
        rows.append(
            BallotRow(
                voter=_name(names, ballot.user_id),
                unit=unit,
                area=ballot.area if ballot.area is not None else area,
                option=None if hidden else ballot.option,
                channel=ballot.channel,
                recorded_by=_name(names, ballot.recorded_by),
                at=ballot.updated_at,
            )
        )
    return tuple(rows)


def _name(names: Mapping[int, str], user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return names.get(user_id) or str(user_id)


# Shared wording ---------------------------------------------------------------------------


def percent(value: Fraction | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def number(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f")


def local_time(labels: ExportLabels, moment: datetime | None, *, seconds: bool = False) -> str:
    if moment is None:
        return ""
    return moment.astimezone(labels.zone).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def verdict_text(record: TopicRecord, labels: ExportLabels) -> str:
    """The outcome in words (as ``/result`` says it), or why there is none yet."""
    t, topic = labels.t, record.topic
    if topic.status == TopicStatus.CANCELLED:
        return t("verdicts.cancelled")
    if record.hidden or record.outcome is None:
        return t("export.hidden")
    outcome = record.outcome
    verdict = str(outcome.get("verdict", "opinion"))
    winner = outcome.get("winner")
    default = bool(topic.options) and topic.options[0] in ("同意", "Agree")
    if verdict == "passed" and winner is not None and not default:
        return t("verdicts.winner", option=topic.options[int(winner)])
    if verdict == "unresolved":
        reason = t(f"verdicts.{outcome.get('reason') or 'no_votes'}")
        return t("verdicts.unresolved", reason=reason)
    return t(f"verdicts.{verdict}")


def _status(record: TopicRecord, labels: ExportLabels) -> str:
    return labels.t(f"export.status_{record.topic.status}")


def _outcome_label(record: TopicRecord, labels: ExportLabels) -> str:
    return labels.t("export.outcome_interim" if record.interim else "export.outcome")


def _summary_pairs(record: TopicRecord, labels: ExportLabels) -> list[tuple[str, str]]:
    """(label, value) lines of the summary shared by both files."""
    t, topic, outcome = labels.t, record.topic, record.outcome or {}
    pairs: list[tuple[str, str]] = [(t("export.status"), _status(record, labels))]
    turnout = Fraction(record.cast, record.eligible) if record.eligible else None
    eligible = "—" if record.eligible is None else str(record.eligible)
    pairs.append((t("export.cast_eligible"), f"{record.cast} / {eligible}"))
    if not topic.is_opinion:
        pairs.append((t("export.turnout"), percent(turnout)))
    pairs.append((_outcome_label(record, labels), verdict_text(record, labels)))
    reason = outcome.get("reason")
    if reason and not record.hidden and topic.status != TopicStatus.CANCELLED:
        pairs.append((t("export.reason"), t(f"verdicts.{reason}")))
    if topic.rule in HOUSEHOLD_RULES and not record.hidden and outcome:
        if outcome.get("total_area") is not None:
            pairs.append((t("export.total_area"), number(Decimal(str(outcome["total_area"])))))
        for key in (
            "area_participation",
            "household_participation",
            "area_agree",
            "household_agree",
        ):
            pairs.append((t(f"export.{key}"), percent(fraction_of(outcome.get(key)))))
        if outcome.get("unknown_area"):
            pairs.append((t("export.unknown_area"), str(outcome["unknown_area"])))
    return [(str(label), str(value)) for label, value in pairs]


def _channel_name(labels: ExportLabels, channel: str) -> str:
    return labels.t(f"channels.{channel}") if channel in CHANNELS else channel


def _channel_counts(record: TopicRecord, labels: ExportLabels) -> list[tuple[str, int]]:
    """Ballots per channel: buttons first, then the offline ones."""
    known = [(c, record.channels[c]) for c in CHANNELS if c in record.channels]
    other = sorted((c, n) for c, n in record.channels.items() if c not in CHANNELS)
    return [(_channel_name(labels, c), n) for c, n in [*known, *other]]


def _option_text(record: TopicRecord, labels: ExportLabels, option: int | None) -> str:
    if option is None:
        return labels.t("export.hidden")
    options = record.topic.options
    return options[option] if 0 <= option < len(options) else str(option)


def _ballot_header(record: TopicRecord, labels: ExportLabels) -> list[str]:
    t = labels.t
    columns = ["export.col_voter"]
    if record.unit_columns:
        columns += ["export.col_unit", "export.col_area"]
    columns += ["export.col_option", "export.col_channel", "export.col_recorded_by"]
    columns.append("export.col_time")
    return [t(column) for column in columns]


def _ballot_cells(
    record: TopicRecord, labels: ExportLabels, row: BallotRow, *, seconds: bool
) -> list[str]:
    voter = labels.t("export.anonymous") if record.secret else (row.voter or "")
    cells = [voter]
    if record.unit_columns:
        cells += [row.unit or "", number(row.area)]
    cells += [
        _option_text(record, labels, row.option),
        _channel_name(labels, row.channel) if row.channel else "",
        row.recorded_by or "",
        local_time(labels, row.at, seconds=seconds),
    ]
    return cells


# CSV ----------------------------------------------------------------------------------------


def _cell(value: str) -> str:
    """People's text, made inert for spreadsheets (a leading ``=`` would be a formula)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def render_csv(record: TopicRecord, labels: ExportLabels) -> bytes:
    """UTF-8 with a BOM (so Excel reads it as UTF-8): the ballots, a blank line, the summary,
    then the public opinions (and private ones, text only, where the record carries them)."""
    t = labels.t
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def rows(lines: Iterable[Sequence[str]]) -> None:
        writer.writerows([_cell(str(value)) for value in line] for line in lines)

    rows([_ballot_header(record, labels)])
    rows(_ballot_cells(record, labels, row, seconds=True) for row in record.ballots)
    rows([[]])
    rows([[t("export.summary"), f"#{record.topic.id} {record.topic.title}"]])
    if record.interim:
        rows([[t("export.interim_note", time=local_time(labels, record.exported_at))]])
    if not record.topic.is_opinion:
        rows([[t("export.col_option"), t("export.col_count")]])
        for index, option in enumerate(record.topic.options):
            count = str(record.counts[index]) if record.counts is not None else t("export.hidden")
            rows([[option, count]])
    rows(_summary_pairs(record, labels))
    for channel, ballots in _channel_counts(record, labels):
        rows([[t("export.channel_count", channel=channel), str(ballots)]])
    rows([[]])
    rows([[t("export.public_opinions")]])
    rows([[t("export.col_author"), t("export.col_time"), t("export.col_text")]])
    rows([o.author, local_time(labels, o.at, seconds=True), o.text] for o in record.public_opinions)
    if record.private_opinions:
        rows([[], [t("export.private_opinions")], [t("export.col_text")]])
        rows([text] for text in record.private_opinions)
    return (BOM + buffer.getvalue()).encode("utf-8")


# Markdown -----------------------------------------------------------------------------------


def md(text: str) -> str:
    """People's text as inert Markdown on one line."""
    escaped = "".join("\\" + char if char in _MARKDOWN_SPECIALS else char for char in text)
    line = " ".join(escaped.split())
    return "\\" + line if line.startswith(("#", "-", "+", ">", "=")) else line


def _table(header: Sequence[str], body: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(md(cell) for cell in header) + " |"]
    lines.append("|" + "|".join(" --- " for _ in header) + "|")
    lines.extend("| " + " | ".join(md(cell) or " " for cell in row) + " |" for row in body)
    return lines


def render_markdown(record: TopicRecord, labels: ExportLabels) -> str:
    """The vote record (表决记录): facts, tally, turnout, outcome, channels, opinions.

    Light Markdown that reads as plain text; sent as a ``.txt`` (see
    channels/telegram/reports/export.py).
    """
    t, topic = labels.t, record.topic
    out: list[str] = [f"# {md(t('export.md_title', id=topic.id, title=topic.title))}", ""]
    if record.interim:
        out += [f"> {md(t('export.interim_note', time=local_time(labels, record.exported_at)))}"]
        out.append("")
    separator = t("export.separator")
    out += [f"- **{md(label)}**{separator}{md(value)}" for label, value in _facts(record, labels)]
    if topic.description:
        out += ["", f"## {md(t('export.description'))}", ""]
        out += [f"> {md(line)}" if line.strip() else ">" for line in topic.description.splitlines()]
    out += _md_tally(record, labels)
    out += _md_opinions(record, labels)
    if not topic.is_opinion:
        out += _md_ballots(record, labels)
    return "\n".join(out) + "\n"


def render_figures(record: TopicRecord, labels: ExportLabels) -> str:
    """The vote record's figures alone (title, counts, summary, channels), in the same light
    Markdown: what a chat that takes no file is told instead (WeCom without a push webhook)."""
    t, topic = labels.t, record.topic
    out: list[str] = [f"**{md(t('export.md_title', id=topic.id, title=topic.title))}**"]
    if record.interim:
        note = t("export.interim_note", time=local_time(labels, record.exported_at))
        out += ["", f"> {md(note)}"]
    out += _md_tally(record, labels)
    return "\n".join(out)


def _facts(record: TopicRecord, labels: ExportLabels) -> list[tuple[str, str]]:
    """Where, what kind, under which rule, by whom and when: the record's first list."""
    t, topic = labels.t, record.topic
    facts: list[tuple[str, str]] = [
        (
            t("export.node"),
            t("export.node_value", path=" › ".join(record.path), level=t(f"levels.{record.level}")),
        ),
    ]
    if record.category is not None:
        facts.append((t("export.category"), record.category.name(labels.locale)))
    facts.append((t("export.rule"), t(f"rules.{topic.rule}")))
    if topic.quorum_percent:
        facts.append((t("export.quorum"), t("export.quorum_value", percent=topic.quorum_percent)))
    flags = [
        t(f"export.flag_{flag}")
        for flag, on in (
            ("household", topic.household),
            ("secret", topic.secret),
            ("hide", topic.hide_results),
            ("scope_all", topic.scope == Scope.ALL),
        )
        if on
    ]
    if flags:
        facts.append((t("export.flags"), t("export.list_separator").join(flags)))
    facts += [
        (t("export.created_by"), record.creator),
        (t("export.created_at"), local_time(labels, topic.created_at)),
        (t("export.deadline"), local_time(labels, topic.deadline)),
        (t("export.closed_at"), local_time(labels, topic.closed_at) or t("export.not_closed")),
        (t("export.exported_at"), local_time(labels, record.exported_at)),
    ]
    return facts


def _md_tally(record: TopicRecord, labels: ExportLabels) -> list[str]:
    """The counts per option (unless it asked for opinions only), the summary, the channels."""
    t, topic = labels.t, record.topic
    out = ["", f"## {md(t('export.tally'))}", ""]
    if not topic.is_opinion:
        header = [t("export.col_option"), t("export.col_count"), t("export.col_share")]
        body: list[list[str]] = []
        for index, option in enumerate(topic.options):
            if record.counts is None:
                body.append([option, t("export.hidden"), "—"])
                continue
            count = record.counts[index]
            share = Fraction(count, record.cast) if record.cast else None
            body.append([option, str(count), percent(share)])
        out += _table(header, body)
        out.append("")
    separator = t("export.separator")
    out += [
        f"- **{md(label)}**{separator}{md(value)}"
        for label, value in _summary_pairs(record, labels)
    ]
    channels = _channel_counts(record, labels)
    if channels:
        out += ["", f"## {md(t('export.channels'))}", ""]
        header = [t("export.col_channel"), t("export.col_count")]
        out += _table(header, [[channel, str(count)] for channel, count in channels])
    return out


def _md_opinions(record: TopicRecord, labels: ExportLabels) -> list[str]:
    t = labels.t
    out = ["", f"## {md(t('export.opinions'))}", ""]
    counted = t(
        "export.opinions_count", public=len(record.public_opinions), private=record.private_count
    )
    out.append(md(counted))
    if record.public_opinions:
        out += ["", f"### {md(t('export.public_opinions'))}", ""]
        out += [
            "- "
            + t(
                "export.md_opinion",
                author=md(o.author),
                time=local_time(labels, o.at),
                text=md(o.text),
            )
            for o in record.public_opinions
        ]
    if record.private_opinions:
        out += ["", f"### {md(t('export.private_opinions'))}", ""]
        out += [f"- {md(text)}" for text in record.private_opinions]
    return out


def _md_ballots(record: TopicRecord, labels: ExportLabels) -> list[str]:
    """Who chose what, unless the ballot was secret."""
    t = labels.t
    out = ["", f"## {md(t('export.ballots'))}", ""]
    if record.secret:
        out.append(md(t("export.secret_note")))
    elif record.ballots:
        out += _table(
            _ballot_header(record, labels),
            (_ballot_cells(record, labels, row, seconds=False) for row in record.ballots),
        )
    else:
        out.append(md(t("export.no_ballots")))
    return out
