"""Registration in Telegram: ``/register``, ``/members``, the officers' approve/reject buttons,
and a building's pending registrations (待审核登记) as one card, edited."""
