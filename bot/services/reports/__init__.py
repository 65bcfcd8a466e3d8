"""What the record tells staff: the daily and weekly digest (汇总) with its chart, ``/stats`` and
``/audit``, and a topic's full record exported as CSV and a vote record (表决记录)."""
