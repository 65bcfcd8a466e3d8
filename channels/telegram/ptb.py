"""python-telegram-bot imported for ``yishi run``: without Telegram Passport's decryption.

PTB imports ``cryptography`` when it is installed (``telegram/_bot.py`` and
``telegram/_passport/credentials.py`` try it at import), to decrypt Telegram Passport data.
Yishi reads no passports, but ``cryptography`` is installed for the WeCom adapter
(channels/wecom/crypto.py), so every Telegram bot process loaded it: about 8 MB of resident
memory and 70 ms of start-up for nothing (docs/PERFORMANCE.md, Memory). Importing PTB through
:func:`import_ptb` first hides the package from PTB's optional import only; a later
``import cryptography`` (WeCom's) finds it as usual.
"""

from __future__ import annotations

import sys

OPTIONAL = "cryptography"


def import_ptb() -> None:
    """Import ``telegram`` and ``telegram.ext`` as if ``cryptography`` were not installed,
    unless PTB or ``cryptography`` is already imported (then nothing changes)."""
    if "telegram" in sys.modules or OPTIONAL in sys.modules:
        return
    sys.modules[OPTIONAL] = None  # type: ignore[assignment]  # an import of it raises ImportError
    try:
        import telegram.ext  # noqa: F401  (imports telegram, and with it the passport modules)
    finally:
        del sys.modules[OPTIONAL]
