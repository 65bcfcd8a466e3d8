"""The image's install step, without Docker: the package built from exactly what the
Dockerfile copies out of the build context carries every file of the source packages, and
runs `db upgrade` from that build alone (not from this checkout's editable install).

An editable install reads the source tree, so a locale file or a migration left out of the
package would go unnoticed by every other test and break only in the image."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.ops.compose_rules import ignored
from tests.ops.dockerfile_rules import copied_sources, tracked_files

ROOT = Path(__file__).parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
DOCKERIGNORE = (ROOT / ".dockerignore").read_text()
PACKAGES = ("bot", "handlers", "storage", "locales")


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


def test_the_package_built_from_the_build_context_has_every_file_and_runs(
    tmp_path: Path,
) -> None:
    context, wheels, site = tmp_path / "context", tmp_path / "wheels", tmp_path / "site"
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
        packaged = set(archive.namelist())
        archive.extractall(site)
    sources = {path for path in files if path.startswith(tuple(f"{p}/" for p in PACKAGES))}
    assert sources - packaged == set()

    # Run from the unpacked package (first on the path), in a folder with no source tree.
    database = tmp_path / "yishi.db"
    environment = {
        **os.environ,
        "PYTHONPATH": str(site),
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
    }
    probe = "import bot, locales, storage; print(bot.__file__, locales.__file__, storage.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert all(path.startswith(str(site)) for path in where.stdout.split())
    upgraded = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert database.stat().st_size > 0
