"""Topics and ballots in Telegram: ``/topic`` (one line or guided), the vote buttons, the topic
commands, how topics look, and the ballot messages kept in step with the votes."""
