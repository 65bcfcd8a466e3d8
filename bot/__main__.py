"""``python -m bot`` is ``yishi``."""

from bot.cli import main

raise SystemExit(main())
