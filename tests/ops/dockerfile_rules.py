"""What a container reviewer checks in a Dockerfile, as code: each rule returns problems.

hadolint (tests/ops/test_container_lint.py runs it too) checks shell hygiene line by line;
these rules check what it cannot know: that the image runs *this* project well - the Python
that pyproject.toml asks for, the bot as a non-root user with its database on a volume, a
graceful stop, a CJK font for the digest chart, no secret baked in.

A problem is a string starting with its rule's name ("apt-lists: ..."), so a test can assert
that a broken Dockerfile is caught by the rule meant to catch it.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from packaging.specifiers import SpecifierSet

ROOT_USERS = {"root", "0", "root:root", "0:0"}
CJK_FONT_PACKAGES = {"fonts-noto-cjk", "fonts-noto-cjk-extra", "fonts-wqy-microhei"}
INIT_PROGRAMS = {"tini", "/usr/bin/tini", "dumb-init", "/usr/bin/dumb-init"}
# Names a value should never be baked into an image under.
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW(OR)?D|API_?KEY|PRIVATE_?KEY", re.IGNORECASE)
URL_WITH_PASSWORD = re.compile(r"://[^/@:]+:[^/@]+@")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [each for each in self.instructions if each.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None


def parse(text: str) -> list[Instruction]:
    """Instructions with their continuation lines joined; comments and blank lines dropped
    (also between continuation lines, as Docker does)."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not pending:
            start = number
        continued = line.endswith("\\")
        pending.append(line[:-1].strip() if continued else line)
        if not continued:
            keyword, _, arguments = " ".join(pending).partition(" ")
            instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
            pending = []
    return instructions


def _substitute(value: str, variables: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        return variables.get(match.group(1) or match.group(2), match.group(0))

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", replace, value)


def _arg_defaults(instructions: list[Instruction]) -> dict[str, str]:
    defaults: dict[str, str] = {}
    for each in instructions:
        if each.keyword == "ARG" and "=" in each.arguments:
            name, _, value = each.arguments.partition("=")
            defaults[name.strip()] = value.strip().strip('"')
    return defaults


def stages(text: str) -> list[Stage]:
    instructions = parse(text)
    global_args = _arg_defaults(
        [each for each in instructions[: _first_from(instructions)] if each.keyword == "ARG"]
    )
    found: list[Stage] = []
    for each in instructions:
        if each.keyword == "FROM":
            words = [w for w in each.arguments.split() if not w.startswith("--")]
            base = _substitute(words[0], global_args)
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            found.append(Stage(base=base, name=name))
        elif found:
            found[-1].instructions.append(each)
    return found


def _first_from(instructions: list[Instruction]) -> int:
    return next(i for i, each in enumerate(instructions) if each.keyword == "FROM")


def exec_form(arguments: str) -> list[str] | None:
    """The argv of an exec-form (JSON array) instruction; None for the shell form."""
    if not arguments.startswith("["):
        return None
    try:
        argv = json.loads(arguments)
    except json.JSONDecodeError:
        return None
    if isinstance(argv, list) and all(isinstance(word, str) for word in argv):
        return argv
    return None


def _env_pairs(arguments: str) -> list[tuple[str, str]]:
    if "=" not in arguments.split()[0]:  # the legacy `ENV NAME value` form
        name, _, value = arguments.partition(" ")
        return [(name, value.strip())]
    return [(name, value) for name, _, value in (w.partition("=") for w in shlex.split(arguments))]


def runtime_stage(text: str) -> Stage:
    return stages(text)[-1]


def environment(stage: Stage) -> dict[str, str]:
    return dict(pair for each in stage.all("ENV") for pair in _env_pairs(each.arguments))


def apt_packages(stage: Stage) -> set[str]:
    """Packages the stage installs with apt-get, ARG defaults substituted."""
    args = _arg_defaults(stage.all("ARG"))
    packages: set[str] = set()
    for run in stage.all("RUN"):
        lexer = shlex.shlex(_substitute(run.arguments, args), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command: list[str] = []
        for word in [*lexer, ";"]:
            if word in {"&&", "||", ";", "|"}:
                if command[:2] == ["apt-get", "install"]:
                    packages |= {w for w in command[2:] if not w.startswith("-")}
                command = []
            else:
                command.append(word)
    return packages


def dockerfile_problems(text: str, *, requires_python: str) -> list[str]:
    found = stages(text)
    final = found[-1]
    stage_names = {stage.name for stage in found if stage.name}
    problems = _base_problems(found, stage_names, requires_python)
    for stage in found:
        problems += _run_problems(stage)
    problems += _user_problems(final)
    problems += _start_problems(final)
    problems += _data_problems(final)
    problems += _secret_problems(found)
    if not apt_packages(final) & CJK_FONT_PACKAGES:
        problems.append("cjk-font: the runtime stage installs no CJK font for the digest chart")
    return problems


def _base_problems(found: list[Stage], stage_names: set[str], requires_python: str) -> list[str]:
    problems: list[str] = []
    images = {stage.base for stage in found if stage.base not in stage_names}
    for image in sorted(images):
        name, _, tag = image.partition("@")[0].partition(":")
        if "@sha256:" not in image and (not tag or tag == "latest"):
            problems.append(f"base-tag: {image} is not pinned to a tag")
        if name in {"python", "docker.io/library/python"}:
            version = re.match(r"\d+\.\d+", tag)
            if not version or version.group(0) not in SpecifierSet(requires_python):
                problems.append(f"python-version: {image} does not satisfy {requires_python}")
    if len(images) > 1:
        problems.append(f"same-base: the stages use different images {sorted(images)}")
    return problems


def _run_problems(stage: Stage) -> list[str]:
    problems: list[str] = []
    for run in stage.all("RUN"):
        text = run.arguments
        if "apt-get install" in text:
            install = text.index("apt-get install")
            if "--no-install-recommends" not in text:
                problems.append(f"apt-recommends: line {run.line} installs recommended packages")
            if not re.search(r"apt-get install (\S+ )*(-y|--yes|--assume-yes)\b", text):
                problems.append(f"apt-yes: line {run.line} apt-get install without -y")
            if "apt-get update" not in text[:install]:
                problems.append(f"apt-update: line {run.line} installs from a stale list")
            if "rm -rf /var/lib/apt/lists/*" not in text[install:]:
                problems.append(f"apt-lists: line {run.line} leaves the apt lists in the layer")
        if re.search(r"\bpip3? install\b", text) and "--no-cache-dir" not in text:
            problems.append(f"pip-cache: line {run.line} keeps pip's cache in the layer")
    return problems


def _user_problems(final: Stage) -> list[str]:
    user = final.last("USER")
    if user is None or user.arguments in ROOT_USERS:
        return ["user: the image runs as root"]
    start = [each.line for each in final.instructions if each.keyword in {"ENTRYPOINT", "CMD"}]
    if start and user.line > min(start):
        return ["user: USER comes after ENTRYPOINT/CMD"]
    uid = user.arguments.split(":")[0]
    created = " ".join(run.arguments for run in final.all("RUN") if "useradd" in run.arguments)
    if not created or (uid.isdigit() and f"--uid {uid}" not in created):
        return [f"user: no useradd creates the user {uid}"]
    return []


def _start_problems(final: Stage) -> list[str]:
    problems: list[str] = []
    argv: list[str] = []
    for keyword in ("ENTRYPOINT", "CMD"):
        each = final.last(keyword)
        words = exec_form(each.arguments) if each else None
        if words is None:
            problems.append(f"exec-form: {keyword} is missing or in shell form (no SIGTERM)")
        else:
            argv += words
    if argv and argv[0] not in INIT_PROGRAMS:
        problems.append("init: PID 1 is not an init that forwards signals and reaps children")
    elif argv and argv[0].rsplit("/", 1)[-1] not in apt_packages(final):
        problems.append(f"init: {argv[0]} is not installed")
    if argv and not any(argv[i : i + 2] == ["yishi", "run"] for i in range(len(argv))):
        problems.append(f"entrypoint: the image starts {argv}, not `yishi run`")
    health = final.last("HEALTHCHECK")
    if health is None or health.arguments.upper() == "NONE":
        problems.append("healthcheck: no HEALTHCHECK")
    elif exec_form(health.arguments.partition(" CMD ")[2].strip()) is None:
        problems.append("healthcheck: the HEALTHCHECK command is not in exec form")
    stop = final.last("STOPSIGNAL")
    if stop is not None and stop.arguments not in {"SIGTERM", "SIGINT"}:
        problems.append(f"stopsignal: {stop.arguments} does not let yishi stop gracefully")
    return problems


def _data_problems(final: Stage) -> list[str]:
    volumes: list[str] = []
    for each in final.all("VOLUME"):
        volumes += exec_form(each.arguments) or each.arguments.split()
    url = environment(final).get("DATABASE_URL", "")
    database = url.partition(":///")[2]
    workdir = final.last("WORKDIR")
    if not volumes:
        return ["volume: no VOLUME for the database"]
    problems: list[str] = []
    if not any(database.startswith(volume.rstrip("/") + "/") for volume in volumes):
        problems.append(f"volume: the database ({url or 'unset'}) is not on a VOLUME {volumes}")
    if workdir is None or workdir.arguments not in volumes:
        problems.append("volume: WORKDIR (where .env and ./yishi.db are read) is not the volume")
    for volume in volumes:
        owned = any(
            volume in run.arguments and ("chown" in run.arguments or " -o " in run.arguments)
            for run in final.all("RUN")
        )
        if not owned:
            problems.append(f"volume-owner: nothing gives {volume} to the image's user")
    return problems


def _secret_problems(found: list[Stage]) -> list[str]:
    problems: list[str] = []
    for stage in found:
        for name, value in environment(stage).items():
            if SECRET_NAME.search(name):
                problems.append(f"env-secret: ENV {name} bakes a secret into the image")
            if URL_WITH_PASSWORD.search(value):
                problems.append(f"env-secret: ENV {name} holds a password in a URL")
        for each in stage.all("ARG"):
            if SECRET_NAME.search(each.arguments.partition("=")[0]):
                problems.append(f"env-secret: ARG {each.arguments} ends up in the image history")
    return problems


def copied_sources(text: str) -> list[str]:
    """What the Dockerfile COPYs from the build context (not from another stage)."""
    sources: list[str] = []
    for stage in stages(text):
        for each in stage.all("COPY"):
            words = each.arguments.split()
            if not any(word.startswith("--from") for word in words):
                sources += [word for word in words[:-1] if not word.startswith("--")]
    return sources


def tracked_files(root: Path, sources: list[str]) -> list[str]:
    """The files git tracks under `sources`: what a clean checkout sends the builder."""
    listed = subprocess.run(
        ["git", "ls-files", "--", *sources],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()
