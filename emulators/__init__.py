"""Local stand-ins for the platforms Yishi talks to, for tests, demos and benchmarks.

One package per platform (the Telegram Bot API one is still bot/emulator/); nothing imported here.
"""
