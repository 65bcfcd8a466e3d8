"""The chat commands, once for every channel: the words after ``/command`` -> a service call
-> what to answer (locale keys and values). Each channel reads its messages into an
:class:`~bot.commands.base.Asked` and writes the :class:`~bot.commands.base.Reply` its way.
Commands whose answer is the channel's own (a ballot to post, a file, a guided flow) stay in
the channel."""

from __future__ import annotations

from bot.commands import (
    escalation,
    general,
    invitations,
    links,
    meetings,
    organisation,
    publish,
    registration,
    reports,
    roles,
    sharing,
    stats,
    topics,
    web,
)
from bot.commands.base import Asked, Command, CommandTable, Reply, UsageError

COMMANDS: CommandTable = {
    **escalation.COMMANDS,
    **general.COMMANDS,
    **invitations.COMMANDS,
    **links.COMMANDS,
    **meetings.COMMANDS,
    **organisation.COMMANDS,
    **publish.COMMANDS,
    **roles.COMMANDS,
    **registration.COMMANDS,
    **reports.COMMANDS,
    **sharing.COMMANDS,
    **stats.COMMANDS,
    **topics.COMMANDS,
    **web.COMMANDS,
}

__all__ = ["COMMANDS", "Asked", "Command", "CommandTable", "Reply", "UsageError"]
