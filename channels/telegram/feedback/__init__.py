"""Opinions and proposals in Telegram: replies to a ballot message, ``/opinion`` and its private
deep link, ``/propose`` and the officers' accept/decline card."""
