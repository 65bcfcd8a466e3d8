"""The staff home (/staff): who you are, your roles and nodes, and the staff pages you may use.

``STAFF_PAGES`` is the one list of staff pages: each with the lowest rank (held anywhere)
that may use it (each page checks who may see what again, through the chat's checks)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.services.announcement_texts import Label
from bot.services.organisation.permissions import Rank
from bot.services.web.staff_board import NotStaff, StaffBoard, StaffHome
from channels.web.server import Viewer, Web


@dataclass(frozen=True, slots=True)
class StaffPage:
    url: str
    label: str  # a locale key
    needs: Rank  # the lowest rank, held at any node, that may use it


STAFF_PAGES: tuple[StaffPage, ...] = (
    StaffPage("/staff/board", "staff_board.nav_board", Rank.GRID_WORKER),
    StaffPage("/staff/participation", "staff_board.nav_participation", Rank.BUILDING_OFFICER),
    StaffPage("/staff/record", "staff_board.nav_record", Rank.BUILDING_OFFICER),
    StaffPage("/staff/meetings", "staff_board.nav_meetings", Rank.BUILDING_OFFICER),
    StaffPage("/staff/audit", "staff_board.nav_audit", Rank.COMMUNITY_ADMIN),
)


def pages_for(home: StaffHome) -> tuple[StaffPage, ...]:
    return tuple(page for page in STAFF_PAGES if home.rank >= page.needs)


async def nav(board: StaffBoard, viewer: Viewer) -> tuple[StaffPage, ...]:
    """The staff pages this person may use (none for someone with no role)."""
    try:
        return pages_for(await board.home(viewer.actor))
    except NotStaff:
        return ()


def not_staff(site: Web, request: web.Request, viewer: Viewer, key: str) -> web.Response:
    """Refused, saying why and what to do instead."""
    return site.say(request, viewer, "staff_board.not_staff_title", key, 403)


def add_routes(app: web.Application, site: Web) -> None:
    board = StaffBoard(site.services.work, site.services.clock)

    async def home(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        try:
            mine = await board.home(viewer.actor)
        except NotStaff:
            return not_staff(site, request, viewer, "staff_board.not_staff")
        locale = viewer.locale
        roles = [
            site.t(
                locale,
                "staff_board.role_line",
                role=Label("role_names", grant.role),
                level=Label("levels", grant.node.level),
                node=grant.node.name,
            )
            for grant in mine.grants
        ]
        return site.render(
            request, viewer, "staff_home.html", me=mine, roles=roles, staff_nav=pages_for(mine)
        )

    app.router.add_get("/staff", home)
