"""``yishi run`` with the web pages on: a taken YISHI_WEB_LISTEN stops it with a message
naming the variable and what to do; a malformed one is refused before anything starts."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.channel_wecom.test_run import CALLBACK
from tests.unit.test_cli import yishi


def test_a_taken_web_address_stops_it_naming_the_variable(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        result = yishi(
            "run",
            "--channel",
            "wecom",
            "--wecom-callback",
            cwd=tmp_path,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'yishi.db'}",
            YISHI_WECOM_LISTEN="127.0.0.1:0",
            YISHI_HEALTH_LISTEN="off",
            YISHI_PUBLIC_URL="https://yishi.example.org",
            YISHI_WEB_LISTEN=listen,
            **CALLBACK,
        )
    assert result.returncode == 2, result.stderr
    assert f"YISHI_WEB_LISTEN={listen}: the web server cannot listen" in result.stderr


def test_a_malformed_public_url_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = yishi(
        "run",
        cwd=tmp_path,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'untouched.db'}",
        TELEGRAM_BOT_TOKEN="1:x",
        YISHI_PUBLIC_URL="yishi.example.org",
    )
    assert result.returncode == 2
    assert "YISHI_PUBLIC_URL='yishi.example.org' is not valid" in result.stderr, result.stderr
    assert not (tmp_path / "untouched.db").exists()
