"""/stats (officers: a node and its descendants, last 30 days) and /audit (community admins)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from telegram import Update

from bot.services.reports.stats import (
    BALLOT_DETAILS,
    WINDOW,
    AuditLine,
    NodeStats,
    parse_audit_filters,
)
from channels.telegram.common import actor_of, answers_refusals, command_text, place_of, reply_long
from channels.telegram.context import AppContext
from locales import Html, escape
from storage.records import Level

OUTCOME_ORDER = ("passed", "rejected", "unresolved", "opinion", "cancelled")
REASON_ORDER = ("no_quorum", "tie", "no_votes", "manual", "sla_expired")
MAX_DETAIL = 60
# Details never shown (internal ids, anything ballot-like); see also ``_KNOWN``.
_HIDDEN = frozenset({"escalation_id", "voter_key"}) | BALLOT_DETAILS


@answers_refusals
async def stats(update: Update, context: AppContext) -> None:
    figures = await context.services.stats.stats(actor_of(update, context), place_of(update))
    await reply_long(update, context, stats_lines(context, figures))


@answers_refusals
async def audit(update: Update, context: AppContext) -> None:
    filters = parse_audit_filters(command_text(update))
    lines = await context.services.stats.audit(
        actor_of(update, context),
        place_of(update),
        node_filter=filters.node,
        user_filter=filters.user,
    )
    header = [context.t("stats.audit_title", count=len(lines))]
    chosen = []
    if filters.node is not None:
        chosen.append(context.plain("stats.audit_filter_node", node=filters.node))
    if filters.user is not None:
        chosen.append(context.plain("stats.audit_filter_user", user=filters.user))
    if chosen:
        header.append(context.t("stats.audit_filters", filters="; ".join(chosen)))
    if not lines:
        await reply_long(update, context, [*header, context.t("stats.audit_none")])
        return
    await reply_long(update, context, [*header, *(audit_line(context, line) for line in lines)])


# /stats ------------------------------------------------------------------------------------


def _when(context: AppContext, moment: datetime) -> str:
    return context.bot_data.translator.datetime(context.locale, moment, context.settings.zone)


def _duration(context: AppContext, value: timedelta) -> str:
    minutes = int((value.total_seconds() + 30) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return context.plain("stats.duration_days", days=days, hours=hours)
    if hours:
        return context.plain("stats.duration_hours", hours=hours, minutes=minutes)
    return context.plain("stats.duration_minutes", minutes=minutes)


def _percent(context: AppContext, figures: NodeStats) -> str:
    share = figures.turnout
    assert share is not None
    exact = Decimal(share.numerator * 100) / Decimal(share.denominator)
    rounded = exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return context.bot_data.translator.number(context.locale, rounded)


def _ordered(counts: dict[str, int], order: tuple[str, ...]) -> list[tuple[str, int]]:
    known = [(key, counts[key]) for key in order if counts.get(key)]
    return known + sorted((key, n) for key, n in counts.items() if key not in order and n)


def _reason(context: AppContext, reason: str) -> str:
    key = f"reasons.{reason}"
    return context.plain(key) if context.bot_data.translator.has(key) else reason


def _level_rank(level: str) -> int:
    levels = list(Level)
    return levels.index(Level(level)) if level in levels else -1


def stats_lines(context: AppContext, figures: NodeStats) -> list[Html]:
    node = figures.node
    level = context.t(f"levels.{node.level}")
    if figures.below:
        # Counted by level in the tree's order (grids before buildings), in the residents' words.
        ordered = sorted(figures.below.items(), key=lambda item: _level_rank(item[0]))
        counts = context.plain("stats.level_separator").join(
            context.plain("stats.level_count", count=n, level=context.plain(f"levels.{lvl}"))
            for lvl, n in ordered
        )
        title = context.t("stats.title_tree", level=level, name=node.name, counts=counts)
    else:
        title = context.t("stats.title", level=level, name=node.name)
    lines = [
        title,
        context.t(
            "stats.window",
            days=WINDOW.days,
            since=_when(context, figures.since),
            until=_when(context, figures.until),
        ),
        Html(""),
        context.t(
            "stats.topics",
            published=figures.published,
            open=figures.open_now,
            closed=figures.closed,
        ),
    ]
    for verdict, number in _ordered(figures.outcomes, OUTCOME_ORDER):
        if verdict == "unresolved" and figures.unresolved:
            reasons = " · ".join(
                context.plain("stats.reason_count", reason=_reason(context, reason), count=n)
                for reason, n in _ordered(figures.unresolved, REASON_ORDER)
            )
            lines.append(context.t("stats.outcome_unresolved", count=number, reasons=reasons))
            continue
        label_key = f"stats.outcome_{'unresolved_plain' if verdict == 'unresolved' else verdict}"
        label = context.plain(label_key) if context.bot_data.translator.has(label_key) else verdict
        lines.append(context.t("stats.outcome_line", label=label, count=number))
    if figures.turnout is not None:
        lines.append(
            context.t(
                "stats.turnout",
                percent=_percent(context, figures),
                cast=figures.cast,
                eligible=figures.eligible,
                topics=figures.voting_topics,
            )
        )
    else:
        lines.append(context.t("stats.turnout_none"))
    lines.append(Html(""))
    lines.append(context.t("stats.escalations", count=sum(figures.escalations.values())))
    for reason, number in _ordered(figures.escalations, REASON_ORDER):
        lines.append(
            context.t("stats.escalation_line", reason=_reason(context, reason), count=number)
        )
    lines.append(context.t("stats.waiting", count=figures.waiting))
    if figures.median_resolution is not None:
        lines.append(
            context.t(
                "stats.resolution",
                median=_duration(context, figures.median_resolution),
                count=figures.resolved,
            )
        )
    else:
        lines.append(context.t("stats.resolution_none"))
    return lines


# /audit ------------------------------------------------------------------------------------


def _label(context: AppContext, section: str, value: Any) -> str:
    key = f"{section}.{value}"
    return context.plain(key) if context.bot_data.translator.has(key) else str(value)


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


def _fragments(context: AppContext, line: AuditLine) -> list[str]:
    """The details of one row, each as a short localised fragment (plain text)."""
    details = line.details
    out: list[str] = []
    if isinstance(details.get("topic_id"), int):
        out.append(f"#{details['topic_id']}")
    if details.get("title"):
        out.append(f"«{_short(details['title'])}»")
    if details.get("proposal_id") is not None:
        out.append(context.plain("stats.detail_proposal", id=details["proposal_id"]))
    if details.get("user_id") is not None:
        name = line.names.get("user_id") or str(details["user_id"])
        out.append(context.plain("stats.detail_user", name=_short(name)))
    if details.get("role"):
        out.append(_label(context, "role_names", details["role"]))
    if details.get("previous"):
        role = _label(context, "role_names", details["previous"])
        out.append(context.plain("stats.detail_previous", role=role))
    if details.get("level"):
        out.append(_label(context, "levels", details["level"]))
    if details.get("name"):
        out.append(_short(details["name"]))
    if details.get("unit"):
        out.append(_short(details["unit"]))
    if details.get("area"):
        out.append(context.plain("stats.detail_area", area=_short(details["area"])))
    if details.get("channel"):
        out.append(_label(context, "channels", details["channel"]))
    if details.get("option") is not None:  # offline ballots of open (not secret) topics
        out.append(context.plain("stats.detail_option", option=_short(details["option"])))
    verdict, reason = details.get("verdict"), details.get("reason")
    if verdict == "unresolved":
        why = _label(context, "verdicts", reason) if reason else ""
        out.append(context.plain("verdicts.unresolved", reason=why))
    elif verdict:
        out.append(_label(context, "verdicts", verdict))
    if reason and verdict is None:
        if context.bot_data.translator.has(f"reasons.{reason}"):
            out.append(context.plain(f"reasons.{reason}"))
        else:
            entry = context.services.catalogue.find(str(reason))
            locale = context.bot_data.translator.resolve(context.locale)
            out.append(entry.name(locale) if entry else _short(reason))
    if details.get("from_node") is not None:
        name = line.names.get("from_node") or f"#{details['from_node']}"
        out.append(context.plain("stats.detail_from", name=_short(name)))
    if details.get("status"):
        out.append(_label(context, "statuses", details["status"]))
    if details.get("rule"):
        out.append(_label(context, "rules", details["rule"]))
    if details.get("scope") == "all":
        out.append(context.plain("stats.detail_scope_all"))
    if details.get("category"):
        entry = context.services.catalogue.find(str(details["category"]))
        locale = context.bot_data.translator.resolve(context.locale)
        out.append(entry.name(locale) if entry else _short(details["category"]))
    if details.get("deadline"):
        try:
            when = _when(context, datetime.fromisoformat(str(details["deadline"])))
        except ValueError:
            when = _short(details["deadline"])
        out.append(context.plain("stats.detail_deadline", when=when))
    if isinstance(details.get("seconds"), int):
        sla = context.bot_data.translator.duration(
            context.locale, timedelta(seconds=details["seconds"])
        )
        out.append(context.plain("stats.detail_sla", sla=sla))
    if details.get("missing") is not None:
        out.append(
            context.plain(
                "stats.detail_missing",
                missing=details["missing"],
                reminded=details.get("reminded", 0),
            )
        )
    if details.get("locale"):
        out.append(context.plain("stats.detail_locale", locale=_short(details["locale"])))
    for key, value in details.items():
        if key in _KNOWN or key in _HIDDEN or value is None or isinstance(value, dict | list):
            continue
        out.append(f"{_short(key)}={_short(value)}")
    return out


def audit_line(context: AppContext, line: AuditLine) -> Html:
    if line.actor_id is None:
        actor = context.plain("stats.audit_system")
    else:
        actor = f"{line.actor_name} ({line.actor_id})" if line.actor_name else str(line.actor_id)
    fragments = _fragments(context, line)
    summary = Html(" · " + escape(", ".join(fragments))) if fragments else Html("")
    return context.t(
        "stats.audit_line",
        at=_when(context, line.at),
        actor=actor,
        action=_label(context, "stats.action", line.action),
        node=line.node_name or context.plain("stats.audit_no_node"),
        summary=summary,
    )
