"""A local WeCom (企业微信) AI bot server: long connection, callback client, group webhook.

Start a :class:`emulators.wecom.server.WeComEmulator`; nothing is imported here.
"""
