"""Topics (议题) and their ballots: the one-line ``/topic``, publishing, who may vote, the press
that becomes a ballot, offline ballots, nudges, and closing with the tally under the rule."""
