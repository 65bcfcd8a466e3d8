"""The WeCom emulator of tests/emulator_wecom, for the channel's own tests."""

from tests.emulator_wecom.conftest import clock, emu  # noqa: F401 - fixtures
