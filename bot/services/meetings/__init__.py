"""Meetings (议事会): the one-line ``/meeting``, recurrence and holidays, the plan of occurrences
and their reminders, RSVP and agenda, minutes, and who may touch a meeting from where."""
