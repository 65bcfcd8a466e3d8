"""A Mini App's start parameter (``startapp=t12`` / ``m7``) names where it lands after
sign-in; nothing else does (a bare number, another letter, a path, a digit Python reads but
ASCII does not)."""

from __future__ import annotations

from channels.web.signin import start_target


def test_only_a_letter_and_an_id_is_a_start_parameter() -> None:
    assert start_target("t12") == "/t/12"
    assert start_target("m7") == "/m/7"
    for odd in (
        "",
        "12",
        "t",
        "t0",
        "t012",
        "x12",
        "T12",
        "t12a",
        "t²",
        "t-1",
        "t" + "9" * 10,
        "m1/../../signout",
        "t1\n",
    ):
        assert start_target(odd) == "/me", odd
