"""The consultation catalogue (协商事项目录): which matters may be consulted on ("六议六不议").

The shipped catalogue is ``bot/data/catalogue.toml``; ``YISHI_CATALOG`` names a replacement.
A malformed file is a :class:`CatalogueError` naming the file and the field, e.g.
``catalogue.toml: entries[3].reason_zh: required when discussable = false``.
"""

from __future__ import annotations

import tomllib
import unicodedata
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    StrictBool,
    StringConstraints,
    ValidationError,
    model_validator,
)

SHIPPED_CATALOGUE = Path(__file__).parent / "data" / "catalogue.toml"

Key = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_]{1,31}$")]
Name = Annotated[
    str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=100)
]
Reason = Annotated[
    str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=1000)
]


class CatalogueError(Exception):
    """A catalogue file that cannot be used; the message names the file and the field."""


class _Problem(ValueError):
    """A validation problem at ``field`` (a path relative to where it is raised)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def lookup_form(text: str) -> str:
    """How names are compared: NFKC, case-folded, inner whitespace collapsed, trimmed."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


class CatalogueEntry(BaseModel):
    """One category of matters, discussable or not."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: Key
    name_zh: Name
    name_en: Name
    discussable: StrictBool
    reason_zh: Reason | None = None
    reason_en: Reason | None = None
    aliases: tuple[Name, ...] = ()

    @model_validator(mode="after")
    def _reasons(self) -> CatalogueEntry:
        for field in ("reason_zh", "reason_en"):
            given = getattr(self, field) is not None
            if not self.discussable and not given:
                raise _Problem(field, "required when discussable = false")
            if self.discussable and given:
                raise _Problem(field, "only allowed when discussable = false")
        return self

    def name(self, locale: str) -> str:
        """The name in ``locale`` ("zh_CN" or "en"; anything else reads English)."""
        return self.name_zh if locale.startswith("zh") else self.name_en

    def reason(self, locale: str) -> str:
        """Why a matter of this category is not consulted on; "" for discussable entries."""
        reason = self.reason_zh if locale.startswith("zh") else self.reason_en
        return reason or ""

    def lookup_forms(self) -> list[str]:
        return [lookup_form(text) for text in (self.key, self.name_zh, self.name_en, *self.aliases)]


class Catalogue(BaseModel):
    """The whole catalogue: its entries in file order and the default category."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: Key
    entries: tuple[CatalogueEntry, ...]
    _index: dict[str, CatalogueEntry] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        keys: dict[str, int] = {}
        owners: dict[str, int] = {}
        index: dict[str, CatalogueEntry] = {}
        for number, entry in enumerate(self.entries):
            if entry.key in keys:
                raise _Problem(
                    f"entries[{number}].key",
                    f'"{entry.key}" is already the key of entries[{keys[entry.key]}]',
                )
            keys[entry.key] = number
            fields = ["key", "name_zh", "name_en"] + [
                f"aliases[{n}]" for n in range(len(entry.aliases))
            ]
            for field, form in zip(fields, entry.lookup_forms(), strict=True):
                owner = owners.setdefault(form, number)
                if owner != number:
                    raise _Problem(
                        f"entries[{number}].{field}",
                        f'"{form}" already names entries[{owner}]; names and aliases must differ',
                    )
                index[form] = entry
        if not any(entry.discussable for entry in self.entries):
            raise _Problem("entries", "at least one entry must have discussable = true")
        if self.default not in keys:
            raise _Problem("default", f'"{self.default}" is not the key of any entry')
        if not self.entries[keys[self.default]].discussable:
            raise _Problem("default", f'"{self.default}" must be a discussable entry')
        self._index = index
        return self

    @property
    def default_entry(self) -> CatalogueEntry:
        found = self.find(self.default)
        assert found is not None  # checked when the catalogue was built
        return found

    def find(self, text: str) -> CatalogueEntry | None:
        """The entry whose key, Chinese or English name or alias is ``text`` (any case/spacing)."""
        return self._index.get(lookup_form(text))

    def discussable(self) -> list[CatalogueEntry]:
        return [entry for entry in self.entries if entry.discussable]

    def not_discussable(self) -> list[CatalogueEntry]:
        return [entry for entry in self.entries if not entry.discussable]


def _where(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def _describe(error: ValidationError) -> list[str]:
    problems = []
    for detail in error.errors():
        where = _where(detail["loc"])
        cause = detail.get("ctx", {}).get("error")
        if isinstance(cause, _Problem):
            field = f"{where}.{cause.field}" if where else cause.field
            problems.append(f"{field}: {cause.message}")
        else:
            problems.append(f"{where or '(top level)'}: {detail['msg']}")
    return problems


def parse_catalogue(data: dict[str, Any], source: str = "<catalogue>") -> Catalogue:
    """A catalogue from already-parsed TOML; :class:`CatalogueError` names ``source``."""
    try:
        return Catalogue.model_validate(data)
    except ValidationError as error:
        raise CatalogueError(f"{source}: " + "; ".join(_describe(error))) from None


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and check a catalogue file; ``None`` reads the shipped one."""
    path = SHIPPED_CATALOGUE if path is None else path
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise CatalogueError(f"{path}: cannot be read: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CatalogueError(f"{path}: not a valid TOML file: {error}") from None
    return parse_catalogue(data, str(path))
