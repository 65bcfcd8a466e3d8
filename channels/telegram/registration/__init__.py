"""Registration in Telegram: the officers' approve/reject buttons, and a building's pending
registrations (待审核登记) as one card, edited (/register and /members are bot/commands)."""
