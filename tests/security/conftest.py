from __future__ import annotations

# `h` / `h_pg` / `both`: the running bot and its emulated Telegram on SQLite, PostgreSQL, or
# each in turn, as in tests/e2e (the test fails if the bot logged an error).
from tests.e2e.conftest import both, h, h_pg

__all__ = ["both", "h", "h_pg"]
