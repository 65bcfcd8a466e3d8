"""The consultation catalogue (六议六不议): the shipped file, look-ups, and every malformed file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.catalogue import (
    SHIPPED_CATALOGUE,
    Catalogue,
    CatalogueEntry,
    CatalogueError,
    load_catalogue,
)


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue()


def shipped_data() -> dict[str, Any]:
    with SHIPPED_CATALOGUE.open("rb") as handle:
        return tomllib.load(handle)


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    """``data`` as a TOML file (only what catalogues use: strings, bools, lists, entries)."""

    def value(item: Any) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, list):
            return "[" + ", ".join(value(part) for part in item) + "]"
        if isinstance(item, int):
            return str(item)
        return '"' + str(item).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"{key} = {value(item)}" for key, item in data.items() if key != "entries"]
    for entry in data.get("entries", []):
        lines.append("[[entries]]")
        lines.extend(f"{key} = {value(item)}" for key, item in entry.items())
    path = tmp_path / "catalogue.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_shipped_catalogue_has_the_six_and_six(shipped: Catalogue) -> None:
    assert len(shipped.discussable()) >= 5
    assert len(shipped.not_discussable()) >= 6
    assert shipped.default_entry.discussable
    assert shipped.default_entry.key == shipped.default
    for entry in shipped.not_discussable():
        assert len(entry.reason("zh_CN")) > 20 and len(entry.reason("en")) > 40
    for entry in shipped.discussable():
        assert entry.reason("zh_CN") == entry.reason("en") == ""


def test_the_shipped_catalogue_is_found_without_a_path(shipped: Catalogue) -> None:
    assert load_catalogue(SHIPPED_CATALOGUE) == shipped
    assert SHIPPED_CATALOGUE.relative_to(Path(__file__).parents[2]) == Path(
        "bot/data/catalogue.toml"
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("public_affairs", "public_affairs"),
        ("PUBLIC_AFFAIRS", "public_affairs"),
        ("居民公共事务和公益事业", "public_affairs"),
        ("Residents' public affairs and public-interest matters", "public_affairs"),
        ("  公共事务 ", "public_affairs"),
        ("Public   Affairs", "public_affairs"),
        ("ｐｕｂｌｉｃ ａｆｆａｉｒｓ", "public_affairs"),
        ("urgent_needs", "urgent_needs"),
        ("急难愁盼", "urgent_needs"),
        ("政策在社区的落实", "policy"),
        ("法律法规规定需要协商的事项", "statutory"),
        ("协商需求", "requested"),
        ("违法", "unlawful"),
        ("隐私", "confidential"),
        ("PRIVACY", "confidential"),
        ("已有规定", "settled_by_law"),
        ("仲裁", "in_litigation"),
        ("Matters under litigation or arbitration", "in_litigation"),
        ("超出本级职责范围的事项", "beyond_remit"),
        ("私人纠纷", "private_dispute"),
        ("private dispute", "private_dispute"),
    ],
)
def test_find_by_key_name_or_alias(shipped: Catalogue, text: str, key: str) -> None:
    found = shipped.find(text)
    assert found is not None and found.key == key


@pytest.mark.parametrize("text", ["", "   ", "nothing", "公共", "public_affairs_x", "=", "\u200b"])
def test_find_misses(shipped: Catalogue, text: str) -> None:
    assert shipped.find(text) is None


def test_names_and_reasons_by_locale(shipped: Catalogue) -> None:
    entry = shipped.find("private_dispute")
    assert entry is not None and not entry.discussable
    assert entry.name("zh_CN") == "个人之间的私人纠纷"
    assert entry.name("en") == "Private disputes between individuals"
    assert "调解" in entry.reason("zh_CN") and "court" in entry.reason("en")
    assert entry.name("fr") == entry.name_en


def test_entries_keep_file_order_and_are_frozen(shipped: Catalogue) -> None:
    keys = [entry.key for entry in shipped.entries]
    assert keys[0] == "public_affairs" and keys[-1] == "private_dispute"
    with pytest.raises(ValueError, match="frozen"):
        shipped.entries[0].key = "x"


def test_a_minimal_catalogue(tmp_path: Path) -> None:
    data = {
        "default": "other",
        "entries": [{"key": "other", "name_zh": "其他", "name_en": "Other", "discussable": True}],
    }
    catalogue = load_catalogue(write(tmp_path, data))
    assert catalogue.default_entry.key == "other"
    assert catalogue.not_discussable() == []
    assert catalogue.default_entry.aliases == ()
    assert isinstance(catalogue.default_entry, CatalogueEntry)


def _drop(entry: int, field: str) -> Any:
    def change(data: dict[str, Any]) -> None:
        del data["entries"][entry][field]

    return change


def _set(entry: int, field: str, value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        data["entries"][entry][field] = value

    return change


def _top(field: str, value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        if value is None:
            del data[field]
        else:
            data[field] = value

    return change


def _only_undiscussable(data: dict[str, Any]) -> None:
    data["entries"] = [entry for entry in data["entries"] if not entry["discussable"]]


# Entry 0 is public_affairs (discussable); entry 5 is unlawful (not discussable).
MALFORMED = [
    (_drop(5, "reason_zh"), "entries[5].reason_zh: required when discussable = false"),
    (_drop(5, "reason_en"), "entries[5].reason_en: required when discussable = false"),
    (_set(5, "reason_zh", "  "), "entries[5].reason_zh"),
    (_set(0, "reason_en", "why"), "entries[0].reason_en: only allowed when discussable = false"),
    (_set(1, "key", "public_affairs"), "entries[1].key"),
    (_set(1, "key", "Urgent"), "entries[1].key"),
    (_set(1, "key", "1urgent"), "entries[1].key"),
    (_set(1, "key", "u"), "entries[1].key"),
    (_set(1, "key", "x" * 33), "entries[1].key"),
    (_set(1, "key", "急"), "entries[1].key"),
    (_set(1, "key", 7), "entries[1].key"),
    (_drop(2, "key"), "entries[2].key: Field required"),
    (_drop(2, "name_zh"), "entries[2].name_zh: Field required"),
    (_drop(2, "name_en"), "entries[2].name_en: Field required"),
    (_set(2, "name_en", ""), "entries[2].name_en"),
    (_drop(2, "discussable"), "entries[2].discussable: Field required"),
    (_set(2, "discussable", "yes"), "entries[2].discussable"),
    (_set(2, "discussable", 1), "entries[2].discussable"),
    (_set(2, "aliases", "policy"), "entries[2].aliases"),
    (_set(2, "aliases", ["公共事务"]), "entries[2].aliases[0]"),
    (_set(2, "aliases", [""]), "entries[2].aliases[0]"),
    (_set(3, "name_zh", "隐私"), 'entries[6].aliases[1]: "隐私" already names entries[3]'),
    (_set(3, "resaon_zh", "typo"), "entries[3].resaon_zh"),
    (_top("default", "nothing"), "default"),
    (_top("default", "unlawful"), "default"),
    (_top("default", None), "default: Field required"),
    (_top("entries", None), "entries: Field required"),
    (_top("entries", []), "entries"),
    (_top("extra", "x"), "extra"),
    (_only_undiscussable, "entries"),
]


@pytest.mark.parametrize(("change", "field"), MALFORMED, ids=[field for _, field in MALFORMED])
def test_every_malformed_catalogue_names_the_file_and_field(
    tmp_path: Path, change: Any, field: str
) -> None:
    data = shipped_data()
    change(data)
    path = write(tmp_path, data)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert field in message


def test_the_test_writer_round_trips_the_shipped_data(tmp_path: Path, shipped: Catalogue) -> None:
    assert load_catalogue(write(tmp_path, shipped_data())) == shipped


@pytest.mark.parametrize(
    "content",
    [
        b"default = \n",
        b"[[entries]\nkey = 1",
        b"this is not toml",
        b"\xff\xfe\x00binary",
        b'default = "a"\ndefault = "b"\n',
    ],
)
def test_a_file_that_is_not_toml(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.toml"
    path.write_bytes(content)
    with pytest.raises(CatalogueError, match="not a valid TOML file") as caught:
        load_catalogue(path)
    assert str(caught.value).startswith(str(path))


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(CatalogueError, match="cannot be read") as caught:
        load_catalogue(path)
    assert str(path) in str(caught.value)


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot be read"):
        load_catalogue(tmp_path)
