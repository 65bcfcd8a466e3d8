"""Plain, immutable rows as the repositories hand them to the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    level: str
    name: str
    parent_id: int | None
    requires_approval: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Binding:
    node_id: int
    chat_id: int
    active: bool
    bound_at: datetime


@dataclass(frozen=True, slots=True)
class Chat:
    chat_id: int
    type: str
    title: str | None
    locale: str | None
    bot_status: str


@dataclass(frozen=True, slots=True)
class BindCode:
    code: str
    parent_id: int
    level: str
    name: str
    node_id: int | None
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None
    locale: str | None
    started: bool

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True, slots=True)
class RoleGrant:
    user_id: int
    node_id: int
    role: str
    granted_by: int | None
    granted_at: datetime


@dataclass(frozen=True, slots=True)
class Household:
    id: int
    node_id: int
    unit: str
    area: Decimal | None


@dataclass(frozen=True, slots=True)
class Registration:
    id: int
    user_id: int
    node_id: int
    household_id: int
    unit: str
    area: Decimal | None
    status: str
    created_at: datetime
    decided_by: int | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: int | None
    action: str
    node_id: int | None
    chat_id: int | None
    details: dict[str, Any]
