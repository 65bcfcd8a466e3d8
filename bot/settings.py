"""Every setting of PRODUCT.md's configuration table, from the environment or a ``.env`` file."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.durations import DurationError, parse_duration

Locale = Literal["zh_CN", "en"]
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./yishi.db"

# What each variable expects, said to the operator when a value is refused.
_EXPECTED: dict[str, str] = {
    "TELEGRAM_BOT_TOKEN": "the token BotFather gave you, e.g. 123456789:AA...",
    "TELEGRAM_BASE_URL": "an http(s) URL ending in /bot, e.g. http://127.0.0.1:8081/bot",
    "YISHI_TELEGRAM_MINIAPP": "the short name of the Mini App made with /newapp in @BotFather: "
    "3 to 30 letters, digits and underscores, e.g. yishi",
    "DATABASE_URL": "a SQLAlchemy async URL: sqlite+aiosqlite:///path.db or "
    "postgresql+asyncpg://user@host:5432/db",
    "YISHI_ADMIN_IDS": "comma-separated Telegram user ids, e.g. 12345,67890",
    "YISHI_WECOM_ADMIN_USERIDS": "comma-separated WeCom userids (账号), e.g. zhangsan,lisi",
    "YISHI_TIMEZONE": "an IANA time zone, e.g. Asia/Shanghai",
    "YISHI_LOCALE": "zh_CN or en",
    "YISHI_DIGEST_TIME": "a local time HH:MM, e.g. 08:30",
    "YISHI_ESCALATION_SLA": "a duration such as 3d, 36h or 90m",
    "YISHI_CATALOG": "the path of an existing catalogue file",
    "YISHI_NUDGE_BEFORE": "a duration before the deadline such as 24h",
    "YISHI_LEASE_TTL": "a duration such as 20s or 1m",
    "YISHI_HTTP_CLIENT": "aiohttp or httpx",
    "YISHI_LOG_LEVEL": "DEBUG, INFO, WARNING, ERROR or CRITICAL",
    "YISHI_LOG_FORMAT": "text or json",
    "YISHI_WEBHOOK_URL": "the public https URL Telegram posts updates to (port 443, 80, 88 or "
    "8443; your TLS reverse proxy's), e.g. https://bot.example.org/telegram",
    "YISHI_WEBHOOK_LISTEN": "the address the webhook server binds, e.g. 127.0.0.1",
    "YISHI_WEBHOOK_PORT": "a port number from 1 to 65535",
    "YISHI_WEBHOOK_SECRET": "16 to 256 characters of A-Z, a-z, 0-9, _ and -",
    "YISHI_WECOM_TOKEN": "the Token of the AI bot's callback URL in WeCom's admin console: "
    "1 to 32 letters and digits",
    "YISHI_WECOM_AES_KEY": "the EncodingAESKey of the AI bot's callback URL in WeCom's admin "
    "console: 43 letters, digits, + and /",
    "YISHI_WECOM_LISTEN": "host:port the WeCom callback server binds, e.g. 127.0.0.1:8444 or "
    "0.0.0.0:8444",
    "YISHI_PUBLIC_URL": "the public http(s) address of the web pages, without path or query, "
    "e.g. https://yishi.example.org (a host of their own: the pages start at its root)",
    "YISHI_WEB_LISTEN": "host:port the web server binds, e.g. 127.0.0.1:8080 (behind a TLS "
    "reverse proxy)",
    "YISHI_HEALTH_LISTEN": "host:port, e.g. 127.0.0.1:9464 or 0.0.0.0:9464 (port 0: any free "
    "port), or off",
}
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

# Refused values not repeated in the error (they may be nearly right).
_HIDDEN = frozenset({"YISHI_WEBHOOK_SECRET", "YISHI_WECOM_TOKEN", "YISHI_WECOM_AES_KEY"})

# Telegram posts webhooks to these ports only (setWebhook refuses others).
WEBHOOK_PORTS = (443, 80, 88, 8443)
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")
# What @BotFather accepts as a Mini App's short name (/newapp).
MINIAPP_SHORT_NAME = re.compile(r"[A-Za-z0-9_]{3,30}")
DEFAULT_HEALTH_LISTEN = "127.0.0.1:9464"
DEFAULT_WEB_LISTEN = "127.0.0.1:8080"
DEFAULT_WECOM_LISTEN = "127.0.0.1:8444"  # beside the Telegram webhook's 8443
WECOM_CALLBACK_SECRETS = {
    "wecom_token": re.compile(r"[A-Za-z0-9]{1,32}"),
    "wecom_aes_key": re.compile(r"[A-Za-z0-9+/]{43}"),  # base64 of 32 bytes, without its "="
}
HEALTH_LISTEN = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})")


class SettingsError(Exception):
    """A configuration value is missing or malformed; the message names the variable."""


class LoggingSettings(BaseSettings):
    """What logging needs, readable before (and without) the rest: ``yishi demo`` logs too."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        case_sensitive=False,
        extra="ignore",
        populate_by_name=True,
    )

    log_level: LogLevel = Field(
        default="INFO", alias="YISHI_LOG_LEVEL", description="how much the bot logs"
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        alias="YISHI_LOG_FORMAT",
        description="log lines as text, or one JSON object a line (for log collectors)",
    )

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _log_word(cls, value: Any) -> Any:
        text = str(value).strip()
        return (
            text.upper()
            if text.lower() in ("debug", "info", "warning", "error", "critical")
            else text.lower()
        )


class Settings(LoggingSettings):
    # Each field's description is its line in `yishi --help` (bot/cli.py writes the list).
    telegram_bot_token: SecretStr | None = Field(
        default=None,
        alias="TELEGRAM_BOT_TOKEN",
        description="the bot's token from @BotFather; required for `yishi run`",
    )
    telegram_base_url: str | None = Field(
        default=None,
        alias="TELEGRAM_BASE_URL",
        description="Bot API base URL ending in /bot (a local Bot API server); "
        "unset: Telegram's public API",
    )
    # The Mini App's short name (/newapp in @BotFather): links to a page then open inside
    # Telegram, t.me/<bot>/<short name>?startapp=t12 (bot/services/web_links.py).
    telegram_miniapp: str | None = Field(
        default=None,
        alias="YISHI_TELEGRAM_MINIAPP",
        description="short name of the bot's Mini App (/newapp in @BotFather): page links in "
        "Telegram open it; unset: they open the page in the browser",
    )
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        alias="DATABASE_URL",
        description="SQLAlchemy URL of the database (SQLite or PostgreSQL)",
    )
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(),
        alias="YISHI_ADMIN_IDS",
        description="comma-separated Telegram user ids of the super-admins",
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        alias="YISHI_TIMEZONE",
        description="IANA time zone of deadlines, meetings and digests",
    )
    locale: Locale = Field(
        default="zh_CN", alias="YISHI_LOCALE", description="default language: zh_CN or en"
    )
    digest_time: time = Field(
        default=time(8, 30), alias="YISHI_DIGEST_TIME", description="daily digest time, local"
    )
    escalation_sla: timedelta = Field(
        default=timedelta(days=3),
        alias="YISHI_ESCALATION_SLA",
        description="time a grid has before a matter goes up by itself",
    )
    catalog: Path | None = Field(
        default=None,
        alias="YISHI_CATALOG",
        description="consultation catalogue file replacing the shipped one",
    )
    nudge_before: timedelta = Field(
        default=timedelta(hours=24),
        alias="YISHI_NUDGE_BEFORE",
        description="how long before a deadline those who have not voted are reminded",
    )
    # How long a killed instance keeps others from starting on the same database (bot/lease.py).
    lease_ttl: timedelta = Field(
        default=timedelta(seconds=20),
        alias="YISHI_LEASE_TTL",
        description="how long a killed instance keeps another from starting on the database",
    )
    http_client: Literal["aiohttp", "httpx"] = Field(
        default="aiohttp",
        alias="YISHI_HTTP_CLIENT",
        description="HTTP library for the Bot API: aiohttp or httpx",
    )
    # Webhook mode (channels/telegram/webhook.py) when a URL is set; long polling otherwise. The
    # server speaks plain HTTP on listen:port behind a TLS reverse proxy on the same host.
    webhook_url: str | None = Field(
        default=None,
        alias="YISHI_WEBHOOK_URL",
        description="public https URL Telegram posts updates to (webhook mode); "
        "unset: long polling",
    )
    webhook_listen: str = Field(
        default="127.0.0.1",
        alias="YISHI_WEBHOOK_LISTEN",
        description="address the webhook server binds (behind a TLS reverse proxy)",
    )
    webhook_port: int = Field(
        default=8443,
        ge=1,
        le=65535,
        alias="YISHI_WEBHOOK_PORT",
        description="port the webhook server binds",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        alias="YISHI_WEBHOOK_SECRET",
        description="secret token Telegram sends with each webhook post; "
        "unset: generated at the first start and kept in the database",
    )

    # WeCom (企业微信): its AI bot in API mode on the long connection (channels/wecom/).
    wecom_bot_id: str | None = Field(
        default=None,
        alias="YISHI_WECOM_BOT_ID",
        description="the WeCom AI bot's BotID (admin console, API mode); "
        "required for `yishi run --channel wecom`",
    )
    wecom_secret: SecretStr | None = Field(
        default=None,
        alias="YISHI_WECOM_SECRET",
        description="the WeCom AI bot's long-connection Secret; "
        "required for `yishi run --channel wecom`",
    )
    wecom_admin_userids: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(),
        alias="YISHI_WECOM_ADMIN_USERIDS",
        description="comma-separated WeCom userids of the super-admins (as YISHI_ADMIN_IDS "
        "for Telegram: they may /setup a community)",
    )
    wecom_ws_url: str = Field(
        default="wss://openws.work.weixin.qq.com",
        alias="YISHI_WECOM_WS_URL",
        description="WeCom's long-connection address (a ws:// or wss:// URL)",
    )
    # Callback mode (`--wecom-callback`, channels/wecom/callback_server.py): WeCom posts to a
    # public HTTPS URL, a TLS reverse proxy forwards to this plain-HTTP listener.
    wecom_token: SecretStr | None = Field(
        default=None,
        alias="YISHI_WECOM_TOKEN",
        description="the Token of the AI bot's callback URL (admin console, API mode); "
        "required for `yishi run --channel wecom --wecom-callback`",
    )
    wecom_aes_key: SecretStr | None = Field(
        default=None,
        alias="YISHI_WECOM_AES_KEY",
        description="the EncodingAESKey (43 characters) of the AI bot's callback URL; "
        "required for `yishi run --channel wecom --wecom-callback`",
    )
    wecom_listen: str = Field(
        default=DEFAULT_WECOM_LISTEN,
        alias="YISHI_WECOM_LISTEN",
        description="host:port the WeCom callback server binds (behind a TLS reverse proxy); "
        "WeCom posts to /wecom/callback",
    )
    wecom_webhook_base: str = Field(
        default="https://qyapi.weixin.qq.com",
        alias="YISHI_WECOM_WEBHOOK_BASE",
        description="where WeCom's 消息推送 webhooks live: a /pushwebhook URL must start with "
        "it (an emulator's address in tests and demos)",
    )

    # The web pages (channels/web/): served when a public URL is set; links in messages use it.
    public_url: str | None = Field(
        default=None,
        alias="YISHI_PUBLIC_URL",
        description="public base URL of the web pages (links in messages use it); "
        "unset: the web pages are off",
    )
    web_listen: str = Field(
        default=DEFAULT_WEB_LISTEN,
        alias="YISHI_WEB_LISTEN",
        description="host:port the web server binds (behind a TLS reverse proxy)",
    )

    # /healthz, /readyz, /metrics (bot/health_server.py); on the loopback address unless set.
    health_listen: str | None = Field(
        default=DEFAULT_HEALTH_LISTEN,
        alias="YISHI_HEALTH_LISTEN",
        description="host:port of /healthz, /readyz and /metrics (until the web pages serve "
        "them); 0.0.0.0:9464 to let another host scrape; off: not served",
    )

    @field_validator("health_listen", mode="before")
    @classmethod
    def _health_listen(cls, value: Any) -> Any:
        text = "" if value is None else str(value).strip()
        if text.lower() in ("", "off", "no", "none", "false", "0"):
            return None
        return _host_port(text)

    @property
    def health_address(self) -> tuple[str, int] | None:
        """(host, port) of the health listener, or None when it is off."""
        if self.health_listen is None:
            return None
        return _address(self.health_listen)

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _token(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", str(value).strip()):
            raise ValueError("malformed token")
        return str(value).strip()

    @field_validator("telegram_miniapp", mode="before")
    @classmethod
    def _miniapp(cls, value: Any) -> Any:
        if value is None or str(value).strip() == "":
            return None
        text = str(value).strip()
        if not MINIAPP_SHORT_NAME.fullmatch(text):
            raise ValueError("not a Mini App short name")
        return text

    @field_validator("telegram_base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        text = str(value).strip()
        if not re.fullmatch(r"https?://\S+/bot", text):
            raise ValueError("not an http(s) URL ending in /bot")
        return text

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _webhook_url(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        text = str(value).strip()
        try:
            url = urlsplit(text)
            port = url.port or 443
        except ValueError as error:
            raise ValueError("not a URL") from error
        if url.scheme != "https" or not url.hostname or url.query or url.fragment:
            raise ValueError("not an https URL without query")
        if port not in WEBHOOK_PORTS:
            raise ValueError("a port Telegram does not post to")
        return text

    @field_validator("webhook_listen", mode="before")
    @classmethod
    def _webhook_listen(cls, value: Any) -> Any:
        text = str(value).strip()
        if not re.fullmatch(r"[A-Za-z0-9.:_-]+", text):
            raise ValueError("not an address")
        return text

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if not WEBHOOK_SECRET.fullmatch(str(value).strip()):
            raise ValueError("not 16 to 256 of A-Z a-z 0-9 _ -")
        return str(value).strip()

    @field_validator("wecom_bot_id", "wecom_secret", mode="before")
    @classmethod
    def _wecom_credential(cls, value: Any) -> Any:
        if value is None or str(value).strip() == "":
            return None
        return str(value).strip()

    @field_validator("wecom_ws_url", mode="before")
    @classmethod
    def _wecom_ws_url(cls, value: Any) -> Any:
        text = str(value).strip()
        if not re.fullmatch(r"wss?://[^\s/]+(/\S*)?", text):
            raise ValueError("not a ws:// or wss:// URL")
        return text

    @field_validator("wecom_token", "wecom_aes_key", mode="before")
    @classmethod
    def _wecom_callback_secret(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or str(value).strip() == "":
            return None
        text = str(value).strip()
        if not WECOM_CALLBACK_SECRETS[str(info.field_name)].fullmatch(text):
            raise ValueError("not in WeCom's form")
        return text

    @field_validator("wecom_listen", mode="before")
    @classmethod
    def _wecom_listen(cls, value: Any) -> Any:
        return _host_port(str(value).strip())

    @property
    def wecom_address(self) -> tuple[str, int]:
        """(host, port) of the WeCom callback server."""
        return _address(self.wecom_listen)

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: Any) -> Any:
        if value is None or str(value).strip() == "":
            return None
        text = str(value).strip().rstrip("/")
        try:
            url = urlsplit(text)
            url.port  # noqa: B018  (a bad port raises)
        except ValueError as error:
            raise ValueError("not a URL") from error
        if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
            raise ValueError("not an http(s) URL without query")
        if url.path not in ("", "/"):  # the pages' paths (/t/12, /me) start at the root
            raise ValueError("a URL with a path")
        return text

    @field_validator("web_listen", mode="before")
    @classmethod
    def _web_listen(cls, value: Any) -> Any:
        return _host_port(str(value).strip())

    @property
    def web_address(self) -> tuple[str, int]:
        """(host, port) of the web server."""
        return _address(self.web_listen)

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: Any) -> Any:
        text = str(value).strip()
        if not re.match(r"(sqlite\+aiosqlite|postgresql\+asyncpg)://", text):
            raise ValueError("unsupported database URL")
        return text

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace("，", ",").split(",")]
            return frozenset(int(part) for part in parts if part)
        return value

    @field_validator("wecom_admin_userids", mode="before")
    @classmethod
    def _wecom_admin_userids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace("，", ",").split(",")]
            if any(not re.fullmatch(r"[\w.@-]{1,64}", part) for part in parts if part):
                raise ValueError("not a list of WeCom userids")
            return frozenset(part for part in parts if part)
        return value

    @field_validator("http_client", mode="before")
    @classmethod
    def _http_client(cls, value: Any) -> Any:
        return str(value).strip().lower()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError("unknown time zone") from error
        return value

    @field_validator("locale", mode="before")
    @classmethod
    def _locale(cls, value: Any) -> Any:
        text = str(value).strip().replace("-", "_")
        aliases = {"zh": "zh_CN", "zh_cn": "zh_CN", "en": "en", "en_us": "en", "en_gb": "en"}
        return aliases.get(text.lower(), text)

    @field_validator("digest_time", mode="before")
    @classmethod
    def _digest_time(cls, value: Any) -> Any:
        if isinstance(value, str):
            match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
            if not match:
                raise ValueError("not HH:MM")
            return time(int(match.group(1)), int(match.group(2)))
        return value

    @field_validator("escalation_sla", "nudge_before", "lease_ttl", mode="before")
    @classmethod
    def _sla(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except DurationError as error:
                raise ValueError("not a duration") from error
        return value

    @field_validator("catalog")
    @classmethod
    def _catalog(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("no such file")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_superadmin(self, user_id: int) -> bool:
        return user_id in self.admin_ids


def _host_port(text: str) -> str:
    """``text`` if it is host:port (a bracketed IPv6 host allowed), else ValueError."""
    match = HEALTH_LISTEN.fullmatch(text)
    if match is None or int(match.group("port")) > 65535:
        raise ValueError("not host:port")
    return text


def _address(host_port: str) -> tuple[str, int]:
    host, port = host_port.rsplit(":", 1)
    return host.strip("[]"), int(port)


_Model = TypeVar("_Model", bound=LoggingSettings)


def load_settings(**overrides: Any) -> Settings:
    """Read settings; a bad value raises :class:`SettingsError` naming the variable."""
    return _load(Settings, overrides)


def load_logging_settings() -> LoggingSettings:
    """YISHI_LOG_LEVEL and YISHI_LOG_FORMAT alone; a bad value raises :class:`SettingsError`."""
    return _load(LoggingSettings, {})


def _load(model: type[_Model], overrides: dict[str, Any]) -> _Model:
    try:
        return model(**overrides)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = str(problem["loc"][0]).upper() if problem["loc"] else "?"
            field = model.model_fields.get(name.lower())
            variable = field.alias if field and field.alias else name
            given = "<hidden>" if variable in _HIDDEN else problem.get("input")
            expected = _EXPECTED.get(str(variable), problem["msg"])
            lines.append(f"{variable}={given!r} is not valid: expected {expected}.")
        raise SettingsError("\n".join(lines)) from None
