"""A busy page is answered from memory (who is signed in, who may see the topic, what it
shows: bot/services/web/topic_pages.py, storage/changes.py); what is kept never outlives a
change. Each change below comes from the chat, not the page, and the very next request sees it:
a vote, a member leaving the group, a language chosen, a session ended. Plain HTTP on both
databases."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import pytest

from tests.auxil.topics import publish, topic_id
from tests.auxil.world import BUILDING_CHAT, NEIGHBOUR, RESIDENT, community
from tests.e2e_web.conftest import CSRF, http_signed_in, web_running

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url, allow_redirects=False) as answer:
        return answer.status, await answer.text()


async def _live(http: aiohttp.ClientSession, url: str) -> list[int] | None:
    status, body = await _get(http, url + "/live.json")
    assert status == 200, body
    tally: list[int] | None = json.loads(body)["tally"]
    return tally


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_what_a_page_keeps_in_memory_never_outlives_a_change_made_in_the_chat(
    database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with web_running(database, tmp_path, caplog) as h:
        await community(h)
        ballot = await publish(h, "小区停车位重新划线")
        url = f"{h.web_url}/t/{topic_id(ballot)}"
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            await http_signed_in(h, http, RESIDENT)
            for _ in range(3):  # read, then kept
                status, html = await _get(http, url)
                assert status == 200 and 'id="my-vote"' not in html
                assert await _live(http, url) == [0, 0, 0]

            # A vote in the chat, by a neighbour and by the resident: the next requests show it.
            await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "同意")
            assert await _live(http, url) == [1, 0, 0]
            await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "反对")
            status, html = await _get(http, url)
            assert status == 200 and "你的选择：反对" in html
            shown = re.findall(r'<span>(\S+?)</span><span class="n">(\d+)</span>', html)
            assert shown == [("同意", "1"), ("反对", "1"), ("弃权", "0")]
            assert "已投票 2" in html
            assert await _live(http, url) == [1, 1, 0]

            # A language chosen in the chat: the page's next answer is in it.
            await h.say(RESIDENT, RESIDENT, "/lang en")
            status, html = await _get(http, url)
            assert status == 200 and "Current tally" in html

            # The resident leaves the group: the topic no longer exists for them.
            h.emu.remove_member(BUILDING_CHAT, RESIDENT)
            await h.settle()
            assert (await _get(http, url))[0] == 404
            assert (await _get(http, url + "/live.json"))[0] == 404

            # Signed out (the session ended): the next request is not signed in.
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
                await http_signed_in(h, other, NEIGHBOUR)
                assert await _live(other, url) == [1, 1, 0]
                status, html = await _get(other, f"{h.web_url}/me")
                found = CSRF.search(html)
                assert found
                async with other.post(
                    f"{h.web_url}/signout", data={"csrf": found.group(1)}, allow_redirects=False
                ) as out:
                    assert out.status == 303
                assert (await _get(other, url))[0] == 401
