"""Listening on an address, for every HTTP server a channel runs (the web pages, WeCom's
callbacks): the address taken or refused stops the bot with what to do, not a traceback."""

from __future__ import annotations

from typing import Any

from aiohttp import web

CANNOT_LISTEN = """\
{setting}={listen}: {what} cannot listen there ({error}).
Choose another host:port (the one your TLS reverse proxy forwards {forwarded} to)."""


class CannotListen(Exception):
    """A server's address cannot be bound (the message says which setting and what to do)."""


async def listen(
    app: web.Application,
    host: str,
    port: int,
    *,
    setting: str,
    what: str,
    forwarded: str,
    **runner: Any,
) -> tuple[web.AppRunner, int]:
    """``app`` served on host:port (port 0: one the system picks); the runner, to clean up,
    and the port it listens on. CannotListen names ``setting`` when the address is taken."""
    started = web.AppRunner(app, access_log=None, **runner)
    await started.setup()
    site = web.TCPSite(started, host, port)
    try:
        await site.start()
    except OSError as error:
        await started.cleanup()
        said = CANNOT_LISTEN.format(
            setting=setting,
            listen=f"{host}:{port}",
            what=what,
            error=error.strerror or error,
            forwarded=forwarded,
        )
        raise CannotListen(said) from None
    return started, int(started.addresses[0][1])
