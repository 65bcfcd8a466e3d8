"""/stats (officers: a node and its descendants, last 30 days) and /audit (community admins):
figures and audit rows as lines of locale keys, the same on every channel."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from bot.commands.base import Asked, Reply, lines
from bot.services.announcement_texts import Duration, Label, Said, Series, Value
from bot.services.reports.stats import (
    BALLOT_DETAILS,
    WINDOW,
    AuditLine,
    NodeStats,
    parse_audit_filters,
)
from storage.records import Level

OUTCOME_ORDER = ("passed", "rejected", "unresolved", "opinion", "cancelled")
REASON_ORDER = ("no_quorum", "tie", "no_votes", "manual", "sla_expired")
MAX_DETAIL = 60
# Details never shown (internal ids, anything ballot-like); see also ``_KNOWN``.
_HIDDEN = frozenset({"escalation_id", "voter_key"}) | BALLOT_DETAILS


async def stats(asked: Asked) -> Reply:
    figures = await asked.services.stats.stats(asked.actor, asked.place)
    return lines(*stats_lines(figures))


async def audit(asked: Asked) -> Reply:
    filters = parse_audit_filters(asked.text)
    rows = await asked.services.stats.audit(
        asked.actor, asked.place, node_filter=filters.node, user_filter=filters.user
    )
    said: list[Said | str] = [Said("stats.audit_title", {"count": len(rows)})]
    chosen: list[Value] = []
    if filters.node is not None:
        chosen.append(Said("stats.audit_filter_node", {"node": filters.node}))
    if filters.user is not None:
        chosen.append(Said("stats.audit_filter_user", {"user": filters.user}))
    if chosen:
        filters_said = Series(tuple(chosen), "stats.filter_separator")
        said.append(Said("stats.audit_filters", {"filters": filters_said}))
    if not rows:
        return lines(*said, Said("stats.audit_none"))
    return lines(*said, *(audit_line(asked, row) for row in rows))


# /stats ------------------------------------------------------------------------------------


def duration_said(value: timedelta) -> Said:
    minutes = int((value.total_seconds() + 30) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return Said("stats.duration_days", {"days": days, "hours": hours})
    if hours:
        return Said("stats.duration_hours", {"hours": hours, "minutes": minutes})
    return Said("stats.duration_minutes", {"minutes": minutes})


def _percent(figures: NodeStats) -> str:
    """The turnout to a tenth of a percent, as both locales write it (``12.5``, ``50``)."""
    share = figures.turnout
    assert share is not None
    return percent_text(share)


def percent_text(share: Fraction) -> str:
    """A share as a percentage to a tenth (``12.5``, ``50``): /stats's, and the staff page's."""
    exact = Decimal(share.numerator * 100) / Decimal(share.denominator)
    rounded = exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def in_order(counts: dict[str, int], order: tuple[str, ...]) -> list[tuple[str, int]]:
    known = [(key, counts[key]) for key in order if counts.get(key)]
    return known + sorted((key, n) for key, n in counts.items() if key not in order and n)


def _level_rank(level: str) -> int:
    levels = list(Level)
    return levels.index(Level(level)) if level in levels else -1


def stats_lines(figures: NodeStats) -> list[Said | str]:
    node = figures.node
    level = Label("levels", node.level)
    if figures.below:
        # Counted by level in the tree's order (grids before buildings), in the residents' words.
        ordered = sorted(figures.below.items(), key=lambda item: _level_rank(item[0]))
        counts = Series(
            tuple(
                Said("stats.level_count", {"count": n, "level": Label("levels", lvl)})
                for lvl, n in ordered
            ),
            "stats.level_separator",
        )
        title = Said("stats.title_tree", {"level": level, "name": node.name, "counts": counts})
    else:
        title = Said("stats.title", {"level": level, "name": node.name})
    out: list[Said | str] = [
        title,
        Said("stats.window", {"days": WINDOW.days, "since": figures.since, "until": figures.until}),
        "",
        Said(
            "stats.topics",
            {"published": figures.published, "open": figures.open_now, "closed": figures.closed},
        ),
    ]
    for verdict, number in in_order(figures.outcomes, OUTCOME_ORDER):
        if verdict == "unresolved" and figures.unresolved:
            reasons = Series(
                tuple(
                    Said("stats.reason_count", {"reason": Label("reasons", reason), "count": n})
                    for reason, n in in_order(figures.unresolved, REASON_ORDER)
                ),
                "stats.reason_separator",
            )
            out.append(Said("stats.outcome_unresolved", {"count": number, "reasons": reasons}))
            continue
        label: Value = verdict  # one a newer release counts: its name
        if verdict in OUTCOME_ORDER:
            plain = "unresolved_plain" if verdict == "unresolved" else verdict
            label = Said(f"stats.outcome_{plain}")
        out.append(Said("stats.outcome_line", {"label": label, "count": number}))
    if figures.turnout is not None:
        turnout: dict[str, Value] = {
            "percent": _percent(figures),
            "cast": figures.cast,
            "eligible": figures.eligible,
            "topics": figures.voting_topics,
        }
        out.append(Said("stats.turnout", turnout))
    else:
        out.append(Said("stats.turnout_none"))
    out.append("")
    out.append(Said("stats.escalations", {"count": sum(figures.escalations.values())}))
    for reason, number in in_order(figures.escalations, REASON_ORDER):
        out.append(
            Said("stats.escalation_line", {"reason": Label("reasons", reason), "count": number})
        )
    out.append(Said("stats.waiting", {"count": figures.waiting}))
    if figures.median_resolution is not None:
        median = duration_said(figures.median_resolution)
        out.append(Said("stats.resolution", {"median": median, "count": figures.resolved}))
    else:
        out.append(Said("stats.resolution_none"))
    return out


# /audit ------------------------------------------------------------------------------------


def _short(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


# Details ``_fragments`` renders as fragments of their own; any other one as ``key=value``.
_KNOWN = frozenset(
    {
        "topic_id",
        "title",
        "proposal_id",
        "user_id",
        "role",
        "previous",
        "level",
        "name",
        "unit",
        "area",
        "channel",
        "option",
        "verdict",
        "reason",
        "from_node",
        "status",
        "rule",
        "scope",
        "category",
        "deadline",
        "seconds",
        "missing",
        "reminded",
        "locale",
    }
)


def _catalogued(asked: Asked, key: str) -> str | None:
    entry = asked.services.catalogue.find(key)
    return entry.name(asked.locale) if entry else None


def _fragments(asked: Asked, line: AuditLine) -> list[Value]:
    """The details of one row, each as a short localised fragment."""
    details = line.details
    out: list[Value] = []
    if isinstance(details.get("topic_id"), int):
        out.append(f"#{details['topic_id']}")
    if details.get("title"):
        out.append(f"«{_short(details['title'])}»")
    if details.get("proposal_id") is not None:
        out.append(Said("stats.detail_proposal", {"id": details["proposal_id"]}))
    if details.get("user_id") is not None:
        name = line.names.get("user_id") or str(details["user_id"])
        out.append(Said("stats.detail_user", {"name": _short(name)}))
    if details.get("role"):
        out.append(Label("role_names", str(details["role"])))
    if details.get("previous"):
        previous = Label("role_names", str(details["previous"]))
        out.append(Said("stats.detail_previous", {"role": previous}))
    if details.get("level"):
        out.append(Label("levels", str(details["level"])))
    if details.get("name"):
        out.append(_short(details["name"]))
    if details.get("unit"):
        out.append(_short(details["unit"]))
    if details.get("area"):
        out.append(Said("stats.detail_area", {"area": _short(details["area"])}))
    if details.get("channel"):
        out.append(Label("channels", str(details["channel"])))
    if details.get("option") is not None:  # offline ballots of open (not secret) topics
        out.append(Said("stats.detail_option", {"option": _short(details["option"])}))
    verdict, reason = details.get("verdict"), details.get("reason")
    if verdict == "unresolved":
        why: Value = Label("verdicts", str(reason)) if reason else ""
        out.append(Said("verdicts.unresolved", {"reason": why}))
    elif verdict:
        out.append(Label("verdicts", str(verdict)))
    if reason and verdict is None:
        if str(reason) in REASON_ORDER:
            out.append(Label("reasons", str(reason)))
        else:
            out.append(_catalogued(asked, str(reason)) or _short(reason))
    if details.get("from_node") is not None:
        name = line.names.get("from_node") or f"#{details['from_node']}"
        out.append(Said("stats.detail_from", {"name": _short(name)}))
    if details.get("status"):
        out.append(Label("statuses", str(details["status"])))
    if details.get("rule"):
        out.append(Label("rules", str(details["rule"])))
    if details.get("scope") == "all":
        out.append(Said("stats.detail_scope_all"))
    if details.get("category"):
        category = str(details["category"])
        out.append(_catalogued(asked, category) or _short(category))
    if details.get("deadline"):
        when: Value
        try:
            when = datetime.fromisoformat(str(details["deadline"]))
        except ValueError:
            when = _short(details["deadline"])
        out.append(Said("stats.detail_deadline", {"when": when}))
    if isinstance(details.get("seconds"), int):
        sla = Duration(timedelta(seconds=details["seconds"]))
        out.append(Said("stats.detail_sla", {"sla": sla}))
    if details.get("missing") is not None:
        counts: dict[str, Value] = {
            "missing": details["missing"],
            "reminded": details.get("reminded", 0),
        }
        out.append(Said("stats.detail_missing", counts))
    if details.get("locale"):
        out.append(Said("stats.detail_locale", {"locale": _short(details["locale"])}))
    for key, value in details.items():
        if key in _KNOWN or key in _HIDDEN or value is None or isinstance(value, dict | list):
            continue
        out.append(f"{_short(key)}={_short(value)}")
    return out


def audit_line(asked: Asked, line: AuditLine) -> Said:
    actor: Value
    if line.actor_id is None:
        actor = Said("stats.audit_system")
    else:
        actor = f"{line.actor_name} ({line.actor_id})" if line.actor_name else str(line.actor_id)
    fragments = _fragments(asked, line)
    summary: Value = ""
    if fragments:
        details = Series(tuple(fragments), "stats.detail_separator")
        summary = Said("stats.audit_summary", {"details": details})
    return Said(
        "stats.audit_line",
        {
            "at": line.at,
            "actor": actor,
            "action": Label("stats.action", line.action),
            "node": line.node_name or Said("stats.audit_no_node"),
            "summary": summary,
        },
    )


COMMANDS = {
    "stats": stats,
    "audit": audit,
}
