"""Digest and stats in Telegram: ``/subscribe``, ``/digest`` and the digest's look and parts,
``/stats``, ``/audit``, and ``/export`` of a topic's record as documents."""
