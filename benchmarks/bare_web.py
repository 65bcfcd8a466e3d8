"""The web baseline: a bare aiohttp handler that renders a static page and answers a form post.

The same routes the driver of ``benchmarks.web_votes`` uses on Yishi, with nothing behind them:
``/tg`` (the Mini App's page: a CSRF value to post back), ``/tg/signin`` (a cookie and where to
go), ``/t/<id>`` (a topic page of the size of Yishi's, rendered once at start), ``/t/<id>/vote``
(the form read, a 303 back to the page) and ``/t/<id>/live.json`` (a fixed tally). No session,
no database, no template at request time.

    python -m benchmarks.bare_web --port 8090
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

from aiohttp import web

CSRF = "0" * 64
OPTIONS = ("同意", "反对", "弃权")
PAGE = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>#1 加装电梯</title><style>" + "body{margin:0}" * 120 + "</style></head><body>"
    "<main><section><h1>加装电梯</h1><p>" + "议题说明。" * 80 + "</p></section>"
    '<section id="results"><ul class="tally" id="tally">'
    + "".join(f"<li><span>{option}</span><span>0</span></li>" for option in OPTIONS)
    + '</ul></section><section id="voting"><form method="post" action="/t/1/vote">'
    f'<input type="hidden" name="csrf" value="{CSRF}">'
    + "".join(
        f'<button type="submit" name="option" value="{index}">{option}</button>'
        for index, option in enumerate(OPTIONS)
    )
    + "</form></section></main></body></html>"
)
MINIAPP = (
    f'<!doctype html><html><body><script>var body = {{csrf: "{CSRF}"}};</script></body></html>'
)
LIVE = json.dumps({"tally": [0, 0, 0], "turnout": "已投 0 / 1000", "open": True})


async def miniapp(request: web.Request) -> web.Response:
    return web.Response(text=MINIAPP, content_type="text/html")


async def signin(request: web.Request) -> web.Response:
    form = await request.post()
    response = web.json_response({"next": "/t/1", "got": len(form)})
    response.set_cookie("yishi_session", "bare", httponly=True, samesite="Lax")
    return response


async def page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


async def vote(request: web.Request) -> web.Response:
    form = await request.post()
    topic = request.match_info["topic"]
    return web.Response(status=303, headers={"Location": f"/t/{topic}?voted={form['option']}"})


async def live(request: web.Request) -> web.Response:
    return web.Response(text=LIVE, content_type="application/json")


async def serve(port: int) -> None:
    app = web.Application(client_max_size=64 * 1024)
    app.router.add_get("/tg", miniapp)
    app.router.add_post("/tg/signin", signin)
    app.router.add_get("/t/{topic}", page)
    app.router.add_post("/t/{topic}/vote", vote)
    app.router.add_get("/t/{topic}/live.json", live)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    await runner.cleanup()


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--port", type=int, required=True)
    asyncio.run(serve(arguments.parse_args().port))


if __name__ == "__main__":
    main()
