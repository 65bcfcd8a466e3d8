"""WeCom's errcodes as the emulator answers them, and the error that carries one.

Marked "unverified" where no source shows the code WeCom really uses; those are defaults of
:class:`emulators.wecom.behaviour.Behaviour`, which a test can change.
"""

from __future__ import annotations

OK = 0
INVALID_CREDENTIALS = 853000  # "invalid bot_id or secret" (measured on subscribe)
INVALID_REQ_ID = 846605  # a reply on a req_id that does not accept that cmd (measured)
STREAM_EXPIRED = 846608  # a stream frame after the stream's window (official plugin)
NOT_SUBSCRIBED = 846609  # a frame on a socket with no (or a kicked) subscription (measured)
INVALID_CHATID = 93006  # an unknown or wrongly cased chatid (official plugin)
TASK_ID_REUSED = 42014  # a card's task_id already used by this bot (field report; unverified)
INVALID_PARAMETER = 40058  # a field missing, malformed or over its limit (webhook; unverified here)
FREQ_OUT_OF_LIMIT = 45009  # "api freq out of limit" (webhook; assumed for the long connection too)
INVALID_WEBHOOK = 93000  # "invalid webhook url": an unknown webhook key
INVALID_MEDIA_SIZE = 40006  # an upload outside 5 B to 20 MB (WeCom's global list; unverified here)
INVALID_MEDIA_ID = 40007  # a media_id unknown, expired (3 days) or another webhook's
MEDIA_MD5_MISMATCH = 301019  # an image whose md5 is not its content's (unverified)
UNKNOWN_CMD = 40001  # no source shows what WeCom answers an unknown cmd (unverified)


class WeComError(Exception):
    """A refusal as WeCom answers it: ``{"errcode": ..., "errmsg": ...}``."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def invalid_parameter(what: str) -> WeComError:
    """A field missing, malformed or too long (WeCom's wording: "... invalid Request Parameter")."""
    return WeComError(INVALID_PARAMETER, f"{what}. invalid Request Parameter")


def invalid_req_id(req_id: str) -> WeComError:
    return WeComError(INVALID_REQ_ID, f"invalid req_id: {req_id}")


def not_subscribed() -> WeComError:
    return WeComError(NOT_SUBSCRIBED, "aibot websocket not subscribed")


def freq_out_of_limit() -> WeComError:
    return WeComError(FREQ_OUT_OF_LIMIT, "api freq out of limit")
