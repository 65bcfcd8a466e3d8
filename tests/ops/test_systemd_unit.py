"""deploy/yishi.service: accepted by systemd itself, and safe for the bot (systemd_rules.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from channels.telegram.runtime import STOP_GRACE
from tests.ops.systemd_rules import unit_problems

UNIT = Path(__file__).parents[2] / "deploy" / "yishi.service"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def _verify(unit_text: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """`systemd-analyze verify` on the unit, its ExecStart program replaced by a stub (verify
    refuses a program that is not installed here; the rest of the line is kept)."""
    stub = folder / "yishi"
    stub.write_text("#!/bin/sh\n")
    stub.chmod(0o755)
    lines = [
        f"ExecStart={stub} {line.split(None, 1)[1]}" if line.startswith("ExecStart=") else line
        for line in unit_text.splitlines()
    ]
    unit = folder / "yishi.service"
    unit.write_text("\n".join(lines) + "\n")
    return subprocess.run(
        [SYSTEMD_ANALYZE or "systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


needs_systemd_analyze = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None,
    reason="systemd-analyze is not installed here (Debian: apt-get install systemd); "
    "the unit is still checked by the rules in systemd_rules.py",
)


@needs_systemd_analyze
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    result = _verify(UNIT.read_text(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # unknown keys and bad values are only warnings


@needs_systemd_analyze
@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("TimeoutStopSec=30s", "TimeoutStopSecs=30s", "Unknown key"),
        ("KillMode=mixed", "KillMode=gently", "Failed to parse"),
    ],
)
def test_systemd_analyze_reports_a_broken_unit(
    tmp_path: Path, old: str, new: str, complaint: str
) -> None:
    text = UNIT.read_text()
    assert old in text
    result = _verify(text.replace(old, new), tmp_path)
    assert complaint in result.stderr


def test_the_unit_runs_yishi_safely() -> None:
    assert unit_problems(UNIT.read_text(), stop_grace=STOP_GRACE) == []


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("User=yishi\n", "", "user:"),
        ("Restart=on-failure", "Restart=no", "restart:"),
        ("TimeoutStopSec=30s", "TimeoutStopSec=5s", "stop:"),
        ("KillSignal=SIGTERM", "KillSignal=SIGKILL", "stop:"),
        ("EnvironmentFile=/etc/yishi/yishi.env\n", "", "environment-file:"),
        ("ProtectSystem=strict", "ProtectSystem=full", "hardening:"),
        ("NoNewPrivileges=yes", "NoNewPrivileges=no", "hardening:"),
        ("PrivateTmp=yes\n", "", "hardening:"),
        ("WorkingDirectory=/var/lib/yishi", "WorkingDirectory=/opt/yishi", "data:"),
        ("yishi run", "yishi demo", "exec:"),
    ],
)
def test_the_rules_catch_an_unsafe_unit(old: str, new: str, rule: str) -> None:
    text = UNIT.read_text()
    assert old in text
    problems = unit_problems(text.replace(old, new), stop_grace=STOP_GRACE)
    assert any(problem.startswith(rule) for problem in problems), problems
