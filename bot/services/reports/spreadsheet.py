"""A topic's record (and a search of the record) as an XLSX workbook, one sheet per table,
through openpyxl: the same cells /export's CSV writes (``export.py``'s helpers), so the two
files cannot disagree.

Sheets of a topic: the topic (its summary and tally), the ballots as the chat's export shows
them (a secret ballot's without voters), the opinions as the export has them (public ones with
their authors; private ones, text only, for the officer who asked)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from bot.services.reports.export import (
    BOM,
    ExportLabels,
    TopicRecord,
    _ballot_cells,
    _ballot_header,
    _cell,
    _channel_counts,
    _summary_pairs,
    local_time,
)

Table = list[list[str]]
_SHEET_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


def topic_tables(record: TopicRecord, labels: ExportLabels) -> list[tuple[str, Table]]:
    """The record's tables, each with its sheet's name: the topic, the ballots, the opinions."""
    t, topic = labels.t, record.topic
    summary: Table = [[t("export.summary"), f"#{topic.id} {topic.title}"]]
    if record.interim:
        summary.append([t("export.interim_note", time=local_time(labels, record.exported_at))])
    summary.extend([label, value] for label, value in _summary_pairs(record, labels))
    for channel, number in _channel_counts(record, labels):
        summary.append([t("export.channel_count", channel=channel), str(number)])
    if not topic.is_opinion:
        summary.append([])
        summary.append([t("export.col_option"), t("export.col_count")])
        for index, option in enumerate(topic.options):
            count = str(record.counts[index]) if record.counts is not None else t("export.hidden")
            summary.append([option, count])
    ballots: Table = [_ballot_header(record, labels)]
    ballots.extend(_ballot_cells(record, labels, row, seconds=True) for row in record.ballots)
    opinions: Table = [[t("export.col_author"), t("export.col_time"), t("export.col_text")]]
    opinions.extend(
        [o.author, local_time(labels, o.at, seconds=True), o.text] for o in record.public_opinions
    )
    opinions.extend(["", "", text] for text in record.private_opinions)
    return [
        (t("staff_record.sheet_topic"), summary),
        (t("staff_record.sheet_ballots"), ballots),
        (t("staff_record.sheet_opinions"), opinions),
    ]


def _inert(value: object) -> str:
    """People's text as a cell: never a formula, never a character XML cannot carry."""
    return str(ILLEGAL_CHARACTERS_RE.sub("", _cell(str(value))))


def render_workbook(sheets: Sequence[tuple[str, Iterable[Sequence[object]]]]) -> bytes:
    """Each table on a sheet of its own, in order."""
    book = Workbook(write_only=True)
    used: set[str] = set()
    for name, rows in sheets:
        title = name.translate(_SHEET_FORBIDDEN)[:28] or "sheet"
        while title in used:
            title += "_"
        used.add(title)
        sheet = book.create_sheet(title=title)
        for row in rows:
            sheet.append([_inert(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render_table_csv(rows: Iterable[Sequence[object]]) -> bytes:
    """One table as /export writes CSV: UTF-8 with a BOM, CRLF, formulas made inert."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([_cell(str(value)) for value in row] for row in rows)
    return (BOM + buffer.getvalue()).encode("utf-8")
