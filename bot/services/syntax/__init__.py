"""What people type, read the same way by ``/topic`` and ``/meeting``: words and ``key=value``
pairs (``command_line``), and dates and times as people say them (``spoken_time``)."""
