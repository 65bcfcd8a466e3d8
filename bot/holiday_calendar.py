"""The start-up check that the holiday calendar still knows the running year.

``chinese-calendar`` ships the State Council's holiday arrangements as data, one year at a
time; each December the next year's is published and a new release of the package carries it.
With a package that stops at an earlier year, the bot cannot shift that year's meetings off
holidays (节假日顺延): it leaves them where they fall and says so to whoever schedules one. The
operator, who can fix it, reads only the log; so ``yishi run`` warns them there at start.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.services.meetings.recurrence import last_holiday_year

logger = logging.getLogger(__name__)


def warn_if_holiday_calendar_is_stale(now: datetime, zone: ZoneInfo) -> bool:
    """Log one WARNING when the local year of ``now`` is past the calendar's last year.

    Returns whether it warned.
    """
    year, last = now.astimezone(zone).year, last_holiday_year()
    if year <= last:
        return False
    logger.warning(
        "The installed chinese-calendar knows statutory holidays only up to %d, and it is %d "
        "now: meetings set to shift off holidays (节假日顺延) are not shifted, and 调休 working "
        "days are unknown. Upgrade it (pip install -U chinese-calendar) and restart Yishi.",
        last,
        year,
    )
    return True
