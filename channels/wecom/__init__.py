"""WeCom (企业微信) through its AI bot (智能机器人) API mode: the callback crypto so far.

The adapter (long connection, callback mode) will live beside it; nothing is imported here.
"""
