"""What every channel's renderers share: how what the core says (bot/services/
announcement_texts.py) becomes a channel's text, given the channel's translate and escape."""
