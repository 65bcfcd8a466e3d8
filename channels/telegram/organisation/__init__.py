"""Organisation and roles in Telegram: ``/setup``, ``/newgrid``, ``/newbuilding``, ``/bind``,
``/unbind``, the chat's own life events, and ``/role``, ``/unrole``, ``/roles``."""
