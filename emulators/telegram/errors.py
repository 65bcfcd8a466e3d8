"""Bot API error type and the real Telegram error descriptions used by the emulator."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error response of the Bot API: ``{"ok": false, "error_code": ..., ...}``."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


def forbidden(what: str) -> ApiError:
    return ApiError(403, f"Forbidden: {what}")


NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
MESSAGE_TO_EDIT_NOT_FOUND = "message to edit not found"
MESSAGE_TO_DELETE_NOT_FOUND = "message to delete not found"
MESSAGE_CANT_BE_EDITED = "message can't be edited"
MESSAGE_CANT_BE_DELETED = "message can't be deleted"
REPLY_NOT_FOUND = "message to be replied not found"
CHAT_NOT_FOUND = "chat not found"
USER_NOT_FOUND = "user not found"
TEXT_EMPTY = "message text is empty"
TEXT_TOO_LONG = "message is too long"
CAPTION_TOO_LONG = "message caption is too long"
BUTTON_DATA_INVALID = "BUTTON_DATA_INVALID"
BUTTON_URL_INVALID = "BUTTON_URL_INVALID"
# a web_app button outside a private chat with the bot
BUTTON_TYPE_INVALID = "BUTTON_TYPE_INVALID"
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
GROUP_UPGRADED = "group chat was upgraded to a supergroup chat"
THREAD_NOT_FOUND = "message thread not found"
NOT_A_FORUM = "the chat is not a forum"
NOT_ENOUGH_RIGHTS_TOPICS = "not enough rights to create a topic"
BLOCKED_BY_USER = "bot was blocked by the user"
CANT_INITIATE = "bot can't initiate conversation with a user"
CANT_SEND_TO_BOTS = "bot can't send messages to bots"
GET_UPDATES_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


def kicked_from(chat_type: str) -> str:
    return f"bot was kicked from the {chat_type} chat"


def not_member_of(chat_type: str) -> str:
    return f"bot is not a member of the {chat_type} chat"


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )
