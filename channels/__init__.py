"""The channels Yishi speaks through, one adapter package each (telegram/, wecom/): how a
platform's updates become service calls and how the core's announcements and views are shown there.
"""
