"""WeCom (企业微信) through its AI bot (智能机器人) API mode: the callback crypto, the long
connection, the renderers and the adapter; nothing is imported here.
"""
