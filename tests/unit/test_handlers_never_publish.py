"""The adapter never publishes the domain's events: the unit of work does, after the commit
(bot/services/unit_of_work.py). A handler that published by hand could announce a change
that rolled back, or announce one twice; a channel (channels/) may only subscribe to the bus."""

from __future__ import annotations

import ast
from pathlib import Path

HANDLERS = Path(__file__).resolve().parents[2] / "channels"
WHY = (
    "a channel (channels/) must not publish events: a service records them on its unit of work "
    "(work.record(...)) and they are published once its transaction committed"
)


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None


def offences(source: str) -> list[tuple[int, str]]:
    """Where ``source`` imports the bus, publishes, or touches the bus but to subscribe."""
    tree = ast.parse(source)
    subscribing = {
        id(node.func.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "subscribe"
    }
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("bot.bus", "bot"):
            if node.module == "bot.bus" or any(alias.name == "bus" for alias in node.names):
                found.append((node.lineno, "imports the event bus"))
        elif isinstance(node, ast.Import) and any(a.name == "bot.bus" for a in node.names):
            found.append((node.lineno, "imports the event bus"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            # ``services.topics.publish(...)`` posts a topic (a domain command), not events.
            if node.func.attr == "publish" and _name(node.func.value) != "topics":
                found.append((node.lineno, "calls .publish(...)"))
        elif isinstance(node, ast.Attribute) and node.attr == "bus" and id(node) not in subscribing:
            found.append((node.lineno, "uses the bus for something else than subscribing"))
    return found


def test_no_handler_publishes_events() -> None:
    found = [
        f"{path.relative_to(HANDLERS.parent)}:{line}: {what}"
        for path in sorted(HANDLERS.rglob("*.py"))
        for line, what in offences(path.read_text(encoding="utf-8"))
    ]
    assert not found, WHY + ":\n" + "\n".join(found)


def test_the_check_finds_a_handler_publishing_by_hand() -> None:
    source = (
        "from bot.bus import EventBus\n"
        "async def close(update, context):\n"
        "    topic, events = await context.services.topics.close(1)\n"
        "    await context.services.bus.publish(events)\n"
        "    await context.publish(events)\n"
        "def wire(services, sink):\n"
        "    services.bus.subscribe(sink)\n"
        "    services.topics.publish(draft)\n"
    )
    assert sorted(line for line, _ in offences(source)) == [1, 4, 4, 5]
