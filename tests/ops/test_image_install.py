"""The image's install step, without Docker: the package built from exactly what the
Dockerfile copies out of the build context carries every file of the source packages, and
migrates a new SQLite and PostgreSQL database from that build alone (not from this checkout's
editable install).

An editable install reads the source tree, so a locale file or a migration left out of the
package would go unnoticed by every other test and break only in the image."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from storage import migrate
from tests.conftest import fresh_postgres_database
from tests.ops.compose_rules import ignored
from tests.ops.dockerfile_rules import copied_sources, tracked_files

ROOT = Path(__file__).parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
DOCKERIGNORE = (ROOT / ".dockerignore").read_text()
PACKAGES = ("bot", "storage", "locales", "channels", "emulators")


def _build_context(folder: Path) -> list[str]:
    """Copy what the build stage copies (tracked files, less what .dockerignore leaves out)."""
    files = [
        path
        for path in tracked_files(ROOT, copied_sources(DOCKERFILE))
        if not ignored(path, DOCKERIGNORE)
    ]
    for path in files:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, folder / path)
    return files


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str], list[str]]:
    """(the unpacked package, its files, the build context's files), built once."""
    root = tmp_path_factory.mktemp("image-install")
    context, wheels, site = root / "context", root / "wheels", root / "site"
    context.mkdir()
    files = _build_context(context)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), "."],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = wheels.glob("yishi-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
        return site, set(archive.namelist()), files


def test_the_package_carries_every_file_of_the_source_packages(
    installed: tuple[Path, set[str], list[str]],
) -> None:
    _, packaged, files = installed
    sources = {path for path in files if path.startswith(tuple(f"{p}/" for p in PACKAGES))}
    assert any(path.endswith(".toml") for path in sources)  # locales and the catalogue
    assert sources - packaged == set()


@asynccontextmanager
async def _store(kind: str, folder: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'yishi.db'}"
    else:
        async with fresh_postgres_database() as url:
            yield url


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_the_package_alone_migrates_a_new_database(
    installed: tuple[Path, set[str], list[str]], tmp_path: Path, kind: str
) -> None:
    site, _, _ = installed
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    async with _store(kind, tmp_path) as url:
        # From the unpacked package (first on the path), in a folder with no source tree.
        environment = {**os.environ, "PYTHONPATH": str(site), "DATABASE_URL": url}
        probe = (
            "import bot, locales, storage; print(bot.__file__, locales.__file__, storage.__file__)"
        )
        where = await _run(environment, tmp_path, "-c", probe)
        assert all(path.startswith(str(site)) for path in where.split())
        said = await _run(environment, tmp_path, "-m", "bot", "db", "upgrade")
        assert said.strip().endswith(f"is at revision {head}.")


async def _run(environment: dict[str, str], folder: Path, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=folder,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode == 0, err.decode()
    return out.decode()
