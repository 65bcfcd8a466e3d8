"""``/healthz``, ``/readyz`` and ``/metrics`` over HTTP (aiohttp).

:func:`add_health_routes` puts the three routes on any aiohttp application, so the web pages'
server (``YISHI_WEB_LISTEN``, when there is one) can serve them too; until then
:class:`HealthServer` serves them on ``YISHI_HEALTH_LISTEN`` (127.0.0.1:9464 by default: the
metrics say how busy the community is and who holds the lease, so they are not on a public
address unless the operator says so).
"""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.health import Health

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 2.0


def add_health_routes(app: web.Application, health: Health) -> None:
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def readyz(request: web.Request) -> web.Response:
        readiness = await health.readiness()
        return web.json_response(readiness.as_json(), status=200 if readiness.ready else 503)

    async def metrics(request: web.Request) -> web.Response:
        await health.readiness()  # reads the database's facts into the gauges
        body = health.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


class HealthServer:
    """The three routes on their own listener."""

    def __init__(self, health: Health) -> None:
        self.app = web.Application()
        add_health_routes(self.app, health)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self, host: str, port: int) -> bool:
        """Serve; False (with a warning) if the address cannot be had: the bot runs on
        without health and metrics rather than not at all."""
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            log.warning(
                "health and metrics are NOT served: cannot listen on %s:%s (%s); choose "
                "another YISHI_HEALTH_LISTEN",
                host,
                port,
                error.strerror or error,
            )
            return False
        self._runner = runner
        addresses = runner.addresses  # the port chosen when asked for port 0
        self.port = int(addresses[0][1]) if addresses else port
        log.info(
            "health and metrics served on http://%s:%s (/healthz, /readyz, /metrics)",
            host,
            self.port,
        )
        return True

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
