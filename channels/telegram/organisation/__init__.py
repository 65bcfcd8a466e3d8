"""Organisation in Telegram: the chat's own life events (the commands are bot/commands)."""
