"""The web face: server-rendered pages (aiohttp + Jinja2) in the bot's process, for residents
signed in by a one-time link (/web), a Telegram Mini App's initData, or later an invitation."""
