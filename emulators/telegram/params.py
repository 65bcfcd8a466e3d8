"""Bot API request parameters: decoding of query strings, forms, multipart and JSON bodies."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from emulators.telegram.errors import bad_request

# Parameters whose form-encoded value is a JSON-serialized object/array (as PTB sends them).
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "commands",
        "scope",
        "allowed_updates",
        "menu_button",
        "media",
        "results",
        "permissions",
        "rights",
        "options",
        "explanation_entities",
        "button",
        "reaction",
        "message_ids",
    }
)
_INT_PARAMS = frozenset(
    {
        "message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "message_thread_id",
        "reply_to_message_id",
        "cache_time",
        "from_chat_id",
        "until_date",
        "max_connections",
    }
)
_BOOL_TRUE = {"true", "1", "True"}
_BOOL_FALSE = {"false", "0", "False", ""}
_INT_RE = re.compile(r"-?\d+")
_BOOL_KEY_RE = re.compile(
    r"(disable_|is_|can_|has_|show_|protect_|allow_|only_|revoke_|drop_|for_|supports_)"
)
_JSON_ERRORS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
    "reply_parameters": "can't parse reply parameters JSON object",
}


@dataclass
class UploadedFile:
    field: str
    filename: str | None
    content_type: str | None
    data: bytes

    def describe(self) -> dict[str, Any]:
        return {"upload": self.filename, "size": len(self.data), "content_type": self.content_type}


class Params:
    """Decoded parameters of one Bot API call, with typed accessors raising Bad Request."""

    def __init__(self, values: dict[str, Any], files: dict[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    @classmethod
    async def from_request(cls, request: web.Request) -> Params:
        values: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        for key, value in request.query.items():
            values[key] = _decode(key, value)
        content_type = request.content_type
        if request.can_read_body and content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise bad_request("JSON request body must be an object")
            values.update(body)
        elif request.can_read_body and content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            form = await request.post()
            for key, item in form.items():
                if isinstance(item, web.FileField):
                    data = item.file.read()
                    item.file.close()  # (aiohttp would not, for a call cancelled while held)
                    files[key] = UploadedFile(key, item.filename, item.content_type, data)
                elif isinstance(item, str):
                    values[key] = _decode(key, item)
                else:  # bytes
                    values[key] = _decode(key, bytes(item).decode("utf-8", "replace"))
        return cls(values, files)

    def log_view(self) -> dict[str, Any]:
        view = dict(self.values)
        for key, upload in self.files.items():
            view[key] = upload.describe()
        return view

    def has(self, name: str) -> bool:
        return self.values.get(name) is not None or name in self.files

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
            return int(value.strip())
        raise bad_request(f'field "{name}" must be of type Integer')

    def req_int(self, name: str, missing: str | None = None) -> int:
        value = self.get_int(name)
        if value is None:
            raise bad_request(missing or f"{name} is empty")
        return value

    def get_float(self, name: str, default: float = 0.0) -> float:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Number') from None

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str) and value in _BOOL_TRUE | _BOOL_FALSE:
            return value in _BOOL_TRUE
        raise bad_request(f'field "{name}" must be of type Boolean')

    def get_json(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise bad_request(_JSON_ERRORS.get(name, f"can't parse {name}")) from None
        return value

    def get_dict(self, name: str) -> dict[str, Any] | None:
        value = self.get_json(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise bad_request(_JSON_ERRORS.get(name, f'field "{name}" must be an Object'))
        return value

    def get_list(self, name: str) -> list[Any] | None:
        value = self.get_json(name)
        if value is None:
            return None
        if not isinstance(value, list):
            raise bad_request(_JSON_ERRORS.get(name, f'field "{name}" must be an Array'))
        return value

    def chat_id(self) -> int:
        value = self.values.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
            return int(value.strip())
        raise bad_request("chat not found")


def _decode(key: str, value: str) -> Any:
    if key in JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            return value  # reported by the typed accessor when used
    if key in _INT_PARAMS or key == "chat_id":
        stripped = value.strip()
        if _INT_RE.fullmatch(stripped):
            return int(stripped)
    if value in ("true", "false") and _BOOL_KEY_RE.match(key):
        return value == "true"
    return value
