"""How the Telegram adapter's messages get out: outbox delivery and membership questions (ports),
refusals by Telegram, forum threads, private notes, and refreshes with coalesced edits."""
