"""Setting a community up on WeCom alone: `@议事 /setup` by a super-admin named by WeCom
account, bind codes for the grid and the building, roles given by WeCom account (an
@-mention names nobody the bot can tell: refused, saying what to write), /roles, /unbind."""

from __future__ import annotations

from storage.tables import role_grants
from tests.e2e_wecom.org_world import BUILDING, GRID, STAFF, OrgWorld, code_in, org, set_up

__all__ = ["org"]


async def test_a_community_is_set_up_and_staffed_from_wecom(org: OrgWorld) -> None:
    refused = await org.say("wangsg", STAFF, "/setup 幸福社区")
    assert "超级管理员" in (refused.text or ""), refused.text
    done = await org.say("admin", STAFF, "/setup 幸福社区")
    assert "幸福社区" in (done.text or "") and "@议事" in (done.text or ""), done.text
    await org.say("wangsg", STAFF, "/help")
    granted = await org.say("admin", STAFF, "/role wangsg 社区工作人员")
    assert "wangsg" in (granted.text or "") and "社区工作人员" in (granted.text or "")

    issued = await org.say("wangsg", STAFF, "/newgrid 第一网格")
    assert "@议事" in (issued.text or "") and "第一网格" in (issued.text or ""), issued.text
    bound = await org.say("zhangwg", GRID, f"/bind {code_in(issued)}")
    assert "第一网格" in (bound.text or "") and "幸福社区" in (bound.text or ""), bound.text
    # Everyone in the group sees the bot's answer.
    assert org.last("wangsg", GRID).text == bound.text

    await org.say("wangsg", GRID, "/role zhangwg 网格员")
    building = await org.say("zhangwg", GRID, "/newbuilding 3号楼")
    await org.say("zhaold", BUILDING, f"/bind {code_in(building)}")
    head = await org.say("zhangwg", BUILDING, "/role zhaold 楼栋长")
    assert "zhaold" in (head.text or "") and "楼栋长" in (head.text or ""), head.text

    listing = await org.say("qianay", BUILDING, "/roles")
    text = listing.text or ""
    assert "zhaold：楼栋长" in text and "zhangwg：网格员" in text, text
    assert "wangsg：社区工作人员" in text, text


async def test_a_role_is_given_by_wecom_account_not_by_mention(org: OrgWorld) -> None:
    await set_up(org)
    before = await org.count(role_grants)
    mentioned = await org.say("zhaold", BUILDING, "/role @钱阿姨 楼栋管理员")
    said = mentioned.text or ""
    assert "@钱阿姨" in said and "企业微信账号" in said, said
    stranger = await org.say("zhaold", BUILDING, "/role nobody9 楼栋管理员")
    assert "还不认识企业微信账号“nobody9”" in (stranger.text or ""), stranger.text
    nobody = await org.say("zhaold", BUILDING, "/role 楼栋管理员")
    assert "企业微信账号" in (nobody.text or "") and "回复" not in (nobody.text or "")
    await org.say("qianay", BUILDING, "/help")  # now the bot knows qianay
    upward = await org.say("zhaold", BUILDING, "/role qianay 楼栋长")
    assert "只能授予比自己低的角色" in (upward.text or ""), upward.text
    assert await org.count(role_grants) == before

    officer = await org.say("zhaold", BUILDING, "/role qianay 楼栋管理员")
    assert "qianay" in (officer.text or "") and "楼栋管理员" in (officer.text or "")
    removed = await org.say("zhaold", BUILDING, "/unrole qianay")
    assert "已撤销" in (removed.text or ""), removed.text
    assert await org.count(role_grants) == before


async def test_a_group_is_unbound_by_an_officer_above(org: OrgWorld) -> None:
    await set_up(org)
    refused = await org.say("zhaold", BUILDING, "/unbind")
    assert "网格员" in (refused.text or ""), refused.text
    done = await org.say("zhangwg", BUILDING, "/unbind")
    assert "3号楼" in (done.text or "") and "解除" in (done.text or ""), done.text
    again = await org.say("qianay", BUILDING, "你好")  # no command: where the group stands
    assert "还没有绑定" in (again.text or "") and "@议事" in (again.text or ""), again.text
