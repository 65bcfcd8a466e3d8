"""python-telegram-bot's private modules are imported in one place only.

``telegram._utils`` is not PTB's public API: any release may rename what is in it. The bot
overrides a few of PTB's signatures that use its types (``DefaultValue``, ``ODVInput``,
``JSONDict``), so ``channels/telegram/transport.py`` imports them, for the version pinned
in pyproject.toml, and every other module takes them from there: an upgrade of PTB has one
file to look at.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("bot", "channels", "emulators", "storage", "locales", "benchmarks", "tests")
PRIVATE = "telegram._utils"
ALLOWED = {Path("channels/telegram/transport.py")}


def private_imports(path: Path) -> list[str]:
    """The private PTB modules that ``path`` imports, as written."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "telegram":  # `from telegram import _utils`
                names = [f"telegram.{alias.name}" for alias in node.names]
        else:
            continue
        found += [name for name in names if name == PRIVATE or name.startswith(PRIVATE + ".")]
    return found


def test_the_reader_finds_each_form_of_the_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import telegram._utils.types\n"
        "from telegram._utils.defaultvalue import DefaultValue\n"
        "from telegram import _utils\n"
        "from telegram import Bot\n"
        "from telegram.ext import Application\n"
    )
    assert private_imports(sample) == [
        "telegram._utils.types",
        "telegram._utils.defaultvalue",
        "telegram._utils",
    ]


def test_only_the_transport_imports_telegram_private_utils() -> None:
    offenders = {
        str(path.relative_to(ROOT)): names
        for folder in SOURCES
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.relative_to(ROOT) not in ALLOWED and (names := private_imports(path))
    }
    assert not offenders, (
        f"{PRIVATE} is python-telegram-bot's private API, which may change in any release; "
        "only channels/telegram/transport.py imports it (for the version pinned in "
        "pyproject.toml) and re-exports what others need. Import these from "
        f"channels.telegram.transport instead: {offenders}"
    )
    assert private_imports(ROOT / "channels/telegram/transport.py"), (
        "the transport is where they come from"
    )
