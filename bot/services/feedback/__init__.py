"""What residents say besides their vote: opinions (意见) on a topic, public or for officers,
and proposals (``/propose``) of new topics that officers accept or decline."""
