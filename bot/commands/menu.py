"""Which commands exist, where they work and who may use them: one table for every channel.
/help lists from it what a person may use where they are (of the commands their channel
answers); Telegram also publishes it as its command menus (channels/telegram/command_menu.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.services.organisation.permissions import Rank
from storage.records import Platform

# Where a command is used: a private chat, a group not yet bound, or a group bound to a level.
PRIVATE, UNBOUND = "private", "unbound"
BOUND = frozenset({"community", "grid", "building"})
ANYWHERE = frozenset({PRIVATE, UNBOUND}) | BOUND
# The channels a command is answered on: most on every one; a few only where the platform
# needs them (WeCom's /pushwebhook: the group webhook a file or a picture comes by).
EVERY_CHANNEL = frozenset(Platform)


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    places: frozenset[str]
    # The lowest rank that may use it, per place (missing: anyone).
    ranks: dict[str, Rank] = field(default_factory=dict)
    channels: frozenset[Platform] = EVERY_CHANNEL

    def allowed(self, place: str, rank: Rank) -> bool:
        return place in self.places and rank >= self.ranks.get(place, Rank.RESIDENT)

    @property
    def for_admins_only(self) -> bool:
        return bool(self.ranks) and all(
            self.ranks.get(place, Rank.RESIDENT) > Rank.RESIDENT for place in self.places
        )


OFFICERS = {
    "building": Rank.BUILDING_OFFICER,
    "grid": Rank.GRID_WORKER,
    "community": Rank.COMMUNITY_STAFF,
}

ESCALATION_HOLDERS = {**OFFICERS, "building": Rank.GRID_WORKER}

MENU: tuple[CommandSpec, ...] = (
    CommandSpec("start", ANYWHERE),
    CommandSpec("help", ANYWHERE),
    CommandSpec("lang", ANYWHERE),
    CommandSpec("link", frozenset({PRIVATE})),
    CommandSpec("web", frozenset({PRIVATE})),
    CommandSpec("register", frozenset({"building"})),
    CommandSpec("topics", BOUND),
    CommandSpec("result", BOUND | {PRIVATE}),
    CommandSpec("opinion", BOUND | {PRIVATE}),
    CommandSpec("propose", BOUND),
    CommandSpec("topic", BOUND, OFFICERS),
    CommandSpec("close", BOUND, OFFICERS),
    CommandSpec("extend", BOUND, OFFICERS),
    CommandSpec("cancel", BOUND, OFFICERS),
    CommandSpec("nudge", BOUND, OFFICERS),
    CommandSpec("ballot", frozenset({"building"}), OFFICERS),
    CommandSpec("escalate", BOUND, OFFICERS),
    # A matter is resolved where it was escalated to, so in a building chat (the matter of a
    # building's topic) only the grid's officers and those above can act on it.
    CommandSpec("resolve", BOUND, ESCALATION_HOLDERS),
    CommandSpec("progress", BOUND, ESCALATION_HOLDERS),
    CommandSpec("sla", frozenset({"community"}), OFFICERS),
    CommandSpec("meetings", BOUND),
    CommandSpec("meeting", BOUND, OFFICERS),
    CommandSpec("cancelmeeting", BOUND, OFFICERS),
    CommandSpec("agenda", BOUND, OFFICERS),
    CommandSpec("minutes", BOUND, OFFICERS),
    CommandSpec("stats", BOUND, OFFICERS),
    CommandSpec(
        "audit",
        frozenset({"community", PRIVATE}),
        {"community": Rank.COMMUNITY_ADMIN, PRIVATE: Rank.COMMUNITY_ADMIN},
    ),
    CommandSpec("subscribe", frozenset({"community"}), OFFICERS),
    CommandSpec("unsubscribe", frozenset({"community"}), OFFICERS),
    CommandSpec("digest", frozenset({"community"}), OFFICERS),
    CommandSpec("publish", frozenset({"community"}), OFFICERS),
    CommandSpec("export", BOUND | {PRIVATE}, {**OFFICERS, PRIVATE: Rank.BUILDING_OFFICER}),
    CommandSpec(
        "pushwebhook",
        frozenset({"community"}),
        {"community": Rank.COMMUNITY_STAFF},
        channels=frozenset({Platform.WECOM}),
    ),
    CommandSpec("roles", BOUND),
    CommandSpec("members", frozenset({"building"}), {"building": Rank.BUILDING_OFFICER}),
    # Household invitations: in the building's group, or privately by its 楼栋长 / 楼栋管理员.
    CommandSpec(
        "invite",
        frozenset({"building", PRIVATE}),
        {"building": Rank.BUILDING_OFFICER, PRIVATE: Rank.BUILDING_OFFICER},
    ),
    CommandSpec(
        "revoke",
        frozenset({"building", PRIVATE}),
        {"building": Rank.BUILDING_OFFICER, PRIVATE: Rank.BUILDING_OFFICER},
    ),
    # A page's link and QR code to paste where no bot is (a WeChat group): officers.
    CommandSpec("share", BOUND | {PRIVATE}, {**OFFICERS, PRIVATE: Rank.BUILDING_OFFICER}),
    CommandSpec(
        "role",
        BOUND,
        {
            "building": Rank.BUILDING_HEAD,
            "grid": Rank.GRID_HEAD,
            "community": Rank.COMMUNITY_ADMIN,
        },
    ),
    CommandSpec(
        "unrole",
        BOUND,
        {
            "building": Rank.BUILDING_HEAD,
            "grid": Rank.GRID_HEAD,
            "community": Rank.COMMUNITY_ADMIN,
        },
    ),
    CommandSpec("newgrid", frozenset({"community"}), {"community": Rank.COMMUNITY_STAFF}),
    CommandSpec("newbuilding", frozenset({"grid"}), {"grid": Rank.GRID_WORKER}),
    CommandSpec("bind", frozenset({UNBOUND})),
    CommandSpec(
        "unbind",
        BOUND,
        {"building": Rank.GRID_WORKER, "grid": Rank.COMMUNITY_STAFF, "community": Rank.SUPERADMIN},
    ),
    CommandSpec("setup", frozenset({UNBOUND}), {UNBOUND: Rank.SUPERADMIN}),
)


def commands_for(place: str, rank: Rank) -> list[CommandSpec]:
    return [spec for spec in MENU if spec.allowed(place, rank)]


def menu_on(platform: Platform) -> tuple[CommandSpec, ...]:
    """The table's commands answered on ``platform``."""
    return tuple(spec for spec in MENU if platform in spec.channels)


def answered_on(platform: Platform, command: str) -> bool:
    """Whether the table marks ``command`` as answered on ``platform`` (a command it does
    not list, such as a wizard's own words, is no business of /help)."""
    return any(spec.name == command for spec in menu_on(platform))
