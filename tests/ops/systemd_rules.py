"""What a reviewer checks in deploy/yishi.service, as code. `systemd-analyze verify` (run by
test_systemd_unit.py where it exists) checks the syntax; these rules check that the unit runs
Yishi safely: its own user, its settings from a file, restarted after a crash, stopped with
SIGTERM and time for the graceful stop, and writing nowhere but its data directory."""

from __future__ import annotations

import re

YES = {"yes", "true", "on", "1"}


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """{section: {key: [values in order]}}; continuation lines joined."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in re.sub(r"\\\n", " ", text).splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif current is not None and "=" in line:
            key, _, value = line.partition("=")
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


def timespan_seconds(value: str) -> float:
    """A systemd time span ("30s", "1min 30s", "90") in seconds."""
    units = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]+)", value)
    if not parts or any(unit not in units for _, unit in parts):
        raise ValueError(f"not a time span this check knows: {value!r}")
    return sum(float(number) * units[unit] for number, unit in parts)


def unit_problems(text: str, *, stop_grace: float) -> list[str]:
    service = parse_unit(text).get("Service", {})

    def last(key: str, default: str = "") -> str:
        return service.get(key, [default])[-1]

    problems: list[str] = []
    if last("User") in {"", "root", "0"} and last("DynamicUser") not in YES:
        problems.append("user: the bot runs as root")
    if not last("ExecStart").endswith("yishi run"):
        problems.append(f"exec: ExecStart is {last('ExecStart')!r}, not `yishi run`")
    if not last("EnvironmentFile"):
        problems.append("environment-file: no EnvironmentFile for the token and settings")
    if last("Restart") not in {"on-failure", "always", "on-abnormal"}:
        problems.append("restart: a crashed bot is not restarted")
    if last("KillSignal", "SIGTERM") != "SIGTERM":
        problems.append("stop: the stop signal is not SIGTERM")
    if timespan_seconds(last("TimeoutStopSec", "90s")) <= stop_grace:
        problems.append(f"stop: TimeoutStopSec leaves no room for the {stop_grace} s drain")
    workdir = last("WorkingDirectory")
    writable = " ".join(service.get("ReadWritePaths", [])).split()
    states = [f"/var/lib/{name}" for name in " ".join(service.get("StateDirectory", [])).split()]
    if not workdir:
        problems.append("data: no WorkingDirectory (where ./yishi.db and .env are)")
    elif workdir not in writable + states:
        problems.append(f"data: {workdir} is not writable under ProtectSystem=strict")
    for key, wanted in {
        "NoNewPrivileges": YES,
        "ProtectSystem": {"strict"},
        "PrivateTmp": YES,
    }.items():
        if last(key) not in wanted:
            problems.append(f"hardening: {key} is not set to {sorted(wanted)[0]}")
    return problems
