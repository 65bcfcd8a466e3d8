"""Channels other than Telegram: what each messaging platform needs from Yishi's core.

One package per platform; nothing is imported here.
"""
