"""Escalation in Telegram: ``/escalate``, ``/resolve``, ``/progress``, ``/sla``, ratings, how a
matter looks, and the escalation cards kept in step in the receiving node's chat."""
