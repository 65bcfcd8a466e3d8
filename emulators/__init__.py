"""Local stand-ins for the platforms Yishi talks to, for tests, demos and benchmarks.

One package per platform (telegram/, wecom/); nothing imported here.
"""
