"""Refusals: what the domain says when it will not do something, as a locale key."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A request the domain refuses. ``key`` names a locale string that says why and what to do.

    Parameters are plain values; the adapter renders and escapes them.
    """

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def __repr__(self) -> str:
        return f"Refusal({self.key!r}, {self.params!r})"
