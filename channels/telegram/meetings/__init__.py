"""Meetings in Telegram: ``/meeting`` (one line or guided) and the other meeting commands, their
buttons, how meetings look, the meeting messages kept in step, and delivery of their notices."""
