"""PTB imported for ``yishi run`` without ``cryptography`` (channels/telegram/ptb.py), and
WeCom's crypto, which needs it, unaffected in the same process.

Each case runs in a fresh interpreter: which modules an import loads depends on what was
imported before, and this test process has imported PTB long ago."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_ptb_imported_first_leaves_cryptography_unloaded_and_wecom_can_still_load_it() -> None:
    out = run(
        "import sys\n"
        "from channels.telegram.ptb import import_ptb\n"
        "import_ptb()\n"
        "from channels.telegram.app import build_application\n"
        "print('cryptography' in sys.modules)\n"
        "from channels.wecom.crypto import WeComCrypto\n"
        "crypto = WeComCrypto('QDG6eK', 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C')\n"
        "sealed = crypto.seal('你好', '1409659813', '1372623149')\n"
        "opened = crypto.open(sealed.msg_signature, '1409659813', '1372623149', sealed.encrypt)\n"
        "print(opened.decode())\n"
    )
    assert out.splitlines() == ["False", "你好"]


def test_ptb_imported_plainly_loads_cryptography() -> None:
    """What import_ptb saves: without it, PTB loads cryptography (it is installed for WeCom)."""
    assert run("import sys, telegram.ext; print('cryptography' in sys.modules)") == "True"


def test_after_cryptography_is_imported_import_ptb_changes_nothing() -> None:
    out = run(
        "import sys, cryptography\n"
        "from channels.telegram.ptb import import_ptb\n"
        "import_ptb()\n"
        "import telegram.ext\n"
        "print(sys.modules['cryptography'] is cryptography)\n"
    )
    assert out == "True"
