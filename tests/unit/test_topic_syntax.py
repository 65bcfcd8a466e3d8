"""The one-line /topic syntax: every key in both names, every refusal, and no other exception."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.catalogue import Catalogue, load_catalogue
from bot.services.errors import Refusal
from bot.services.topics.syntax import TopicDraft, parse_topic
from locales import Translator, placeholders
from locales import load_catalogue as load_messages
from storage.records import Rule, Scope

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
ZONE = ZoneInfo("Asia/Shanghai")
CATALOGUE = load_catalogue()
TRANSLATE = Translator()
MESSAGES = {locale: load_messages(locale) for locale in ("zh_CN", "en")}
PREFIX = "refusals.topic_syntax."
REFUSAL_NAMES = {key.removeprefix(PREFIX) for key in MESSAGES["zh_CN"] if key.startswith(PREFIX)}


def parse(
    text: str, *, locale: str = "zh_CN", catalogue: Catalogue | None = CATALOGUE
) -> TopicDraft:
    return parse_topic(text, now=NOW, zone=ZONE, catalogue=catalogue, locale=locale)


def refusal(text: str, **kwargs: Any) -> Refusal:
    with pytest.raises(Refusal) as caught:
        parse(text, **kwargs)
    return caught.value


def assert_renders(error: Refusal) -> None:
    """The refusal exists in both languages and its parameters fill every placeholder."""
    assert error.key.startswith("topic_syntax.")
    key = "refusals." + error.key
    for locale in ("zh_CN", "en"):
        assert placeholders(MESSAGES[locale][key]) <= set(error.params), (locale, key)
        assert TRANSLATE(locale, key, **error.params)


# ---- defaults ---------------------------------------------------------------------------


def test_exact_defaults() -> None:
    draft = parse("加装电梯")
    assert draft == TopicDraft(
        title="加装电梯",
        description="",
        deadline=NOW + timedelta(days=3),
        options=("同意", "反对", "弃权"),
        rule=Rule.MAJORITY,
        category="public_affairs",
        quorum_percent=None,
        secret=False,
        household=False,
        hide_results=False,
        scope=Scope.HERE,
    )
    assert draft.deadline.tzinfo is UTC


def test_english_defaults_and_no_catalogue() -> None:
    draft = parse("New lift", locale="en", catalogue=None)
    assert draft.options == ("Agree", "Against", "Abstain")
    assert draft.category is None


def test_a_naive_now_is_utc() -> None:
    draft = parse_topic("x", now=NOW.replace(tzinfo=None), zone=ZONE, catalogue=None)
    assert draft.deadline == NOW + timedelta(days=3)


def test_title_and_description() -> None:
    draft = parse("  加装   电梯  议题 \n\n 第一段\n第二段 \n\n")
    assert draft.title == "加装 电梯 议题"
    assert draft.description == "第一段\n第二段"


def test_the_title_keeps_its_quotes_and_may_contain_equals() -> None:
    assert parse("“一刻钟生活圈”建设 期限=2d").title == "“一刻钟生活圈”建设"
    assert parse('"A=B" 的问题').title == '"A=B" 的问题'
    assert parse("「停车 = 收费」 调整").title == "「停车 = 收费」 调整"
    assert parse("“没有闭合的引号 期限=1d").title == "“没有闭合的引号"


def test_invisible_characters_are_dropped() -> None:
    draft = parse("\u200b加装\u200f电梯\u202e 期限\u200b=1d 选项=同\u200d意,反对\n说\x00明")
    assert draft.title == "加装电梯"
    assert draft.options == ("同意", "反对")
    assert draft.deadline == NOW + timedelta(days=1)
    assert draft.description == "说明"


# ---- every key in both names ------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "field", "value"),
    [
        ("{k}=30m", "deadline", NOW + timedelta(minutes=30)),
        ("{k}=2h", "deadline", NOW + timedelta(hours=2)),
        ("{k}=1d12h", "deadline", NOW + timedelta(days=1, hours=12)),
        ("{k}=3天", "deadline", NOW + timedelta(days=3)),
        ("{k}=2026-12-01 18:00", "deadline", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
        ("{k}=2026-12-01T18:00", "deadline", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
        ("{k}=2026/12/01 18:00", "deadline", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
        ("{k}=2026/6/1 12:01", "deadline", NOW + timedelta(minutes=1)),
        ("{k}=２０２６－１２－０１ １８：００", "deadline", datetime(2026, 12, 1, 10, tzinfo=UTC)),
        ('{k}="2026-12-01 18:00"', "deadline", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
        ("{k}=“2026-12-01  18:00”", "deadline", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
        ("{k}=A,B", "options", ("A", "B")),
        ("{k}=甲，乙、丙", "options", ("甲", "乙", "丙")),
        ("{k}=同意,反对,", "options", ("同意", "反对")),
        ('{k}="Plan  A , Plan B"', "options", ("Plan A", "Plan B")),
        ("{k}=“方案 一，方案 二”", "options", ("方案 一", "方案 二")),
        ("{k}=" + ",".join(str(n) for n in range(10)), "options", tuple("0123456789")),
        ("{k}=majority", "rule", Rule.MAJORITY),
        ("{k}=过半", "rule", Rule.MAJORITY),
        ("{k}=2/3", "rule", Rule.TWO_THIRDS),
        ("{k}=三分之二", "rule", Rule.TWO_THIRDS),
        ("{k}=Opinion", "rule", Rule.OPINION),
        ("{k}=征求意见", "rule", Rule.OPINION),
        ("{k}=urgent_needs", "category", "urgent_needs"),
        ("{k}=急难愁盼", "category", "urgent_needs"),
        ("{k}=Policy", "category", "policy"),
        ('{k}="carrying out policy in the community"', "category", "policy"),
        ("{k}=50%", "quorum_percent", 50),
        ("{k}=50", "quorum_percent", 50),
        ("{k}=１００％", "quorum_percent", 100),
        ("{k}=1", "quorum_percent", 1),
        ("{k}=yes", "secret", True),
        ("{k}=是", "secret", True),
        ("{k}=TRUE", "secret", True),
        ("{k}=1", "secret", True),
        ("{k}=no", "secret", False),
        ("{k}=否", "secret", False),
        ("{k}=yes", "household", True),
        ("{k}=0", "household", False),
        ("{k}=是", "hide_results", True),
        ("{k}=false", "hide_results", False),
        ("{k}=here", "scope", Scope.HERE),
        ("{k}=本级", "scope", Scope.HERE),
        ("{k}=ALL", "scope", Scope.ALL),
        ("{k}=全部", "scope", Scope.ALL),
    ],
)
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_key_in_both_names(setting: str, field: str, value: object, locale: str) -> None:
    names = {
        "deadline": ("期限", "deadline", "Deadline"),
        "options": ("选项", "options", "OPTIONS"),
        "rule": ("规则", "rule", "Rule"),
        "category": ("类别", "category", "CATEGORY"),
        "quorum_percent": ("法定人数", "quorum", "Quorum"),
        "secret": ("匿名", "secret", "SECRET"),
        "household": ("按户", "household", "Household"),
        "hide_results": ("隐藏结果", "hide", "HIDE"),
        "scope": ("范围", "scope", "Scope"),
    }[field]
    for name in names:
        for equals in ("=", "＝"):
            text = "议题 " + setting.format(k=name).replace("=", equals, 1)
            assert getattr(parse(text, locale=locale), field) == value, text


def test_all_keys_together_in_any_order() -> None:
    draft = parse(
        "小区 停车 收费 调整 范围=all 隐藏结果=是 匿名=yes 法定人数=60% 类别=政策落实 "
        "规则=2/3 选项=赞成,反对 deadline=2026-06-08 20:00 household=是\n说明\n第二行"
    )
    assert draft.model_dump() == {
        "title": "小区 停车 收费 调整",
        "description": "说明\n第二行",
        "deadline": datetime(2026, 6, 8, 12, 0, tzinfo=UTC),
        "options": ("赞成", "反对"),
        "rule": Rule.TWO_THIRDS,
        "category": "policy",
        "quorum_percent": 60,
        "secret": True,
        "household": True,
        "hide_results": True,
        "scope": Scope.ALL,
    }


@pytest.mark.parametrize("rule", ["278", "278-major", "278-MAJOR"])
def test_article_278_counts_households(rule: str) -> None:
    draft = parse(f"维修资金使用 规则={rule}")
    assert draft.household is True
    assert draft.rule == Rule(rule.lower())
    assert parse(f"维修资金使用 规则={rule} 按户=是").household is True


def test_opinion_has_no_options() -> None:
    draft = parse("垃圾分类意见 规则=opinion 按户=是")
    assert draft.options == () and draft.household is True


def test_a_time_after_a_date_belongs_to_the_deadline_anywhere_in_the_line() -> None:
    draft = parse("议题 选项=A,B 期限=2026-12-01 18:00 规则=2/3")
    assert draft.deadline == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert draft.rule == Rule.TWO_THIRDS


def test_the_zone_is_the_given_one() -> None:
    draft = parse_topic(
        "x 期限=2026-12-01 18:00", now=NOW, zone=ZoneInfo("Europe/London"), catalogue=None
    )
    assert draft.deadline == datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def test_the_deadline_may_be_a_year_ahead_but_no_more() -> None:
    assert parse("x 期限=365d").deadline == NOW + timedelta(days=365)
    assert parse("x 期限=52w").deadline == NOW + timedelta(weeks=52)
    assert refusal("x 期限=366d").key == "topic_syntax.deadline_too_far"


# ---- refusals ---------------------------------------------------------------------------

REFUSALS: list[tuple[str, str, dict[str, object]]] = [
    ("", "empty_title", {}),
    ("   \n说明", "empty_title", {}),
    ("期限=3d", "empty_title", {}),
    ("\u200b\u200f 期限=3d", "empty_title", {}),
    ("题" * 101, "title_too_long", {"length": 101, "limit": 100}),
    ("x\n" + "说" * 2001, "description_too_long", {"length": 2001, "limit": 2000}),
    ('x 选项="A,B', "unterminated_quote", {"key_name": "选项"}),
    ("x 选项=“A,B 期限=3d", "unterminated_quote", {"key_name": "选项"}),
    ("x 期限=3d foo=1", "unknown_key", {"key_name": "foo"}),
    ("x 截止=3d", "unknown_key", {"key_name": "截止"}),
    ("x Deadline=3d deadline=2d", "duplicate_key", {"key_name": "deadline"}),
    ("x 期限=3d deadline=2d", "duplicate_key", {"key_name": "deadline"}),
    ("x =3d", "missing_key", {"given": "=3d"}),
    ("x 期限 =3d", "missing_key", {"given": "=3d"}),
    ("x 期限=3d 还有", "stray_word", {"given": "还有"}),
    ("x 期限=3d “引号”", "stray_word", {"given": "“引号”"}),
    ('x 选项="A" "B"', "stray_word", {"given": '"B"'}),
    ("x 期限=", "empty_value", {"key_name": "期限"}),
    ("x 期限= 3d", "empty_value", {"key_name": "期限"}),
    ('x 期限=""', "empty_value", {"key_name": "期限"}),
    ("x 期限=soon", "bad_duration", {"key_name": "期限", "given": "soon"}),
    ("x deadline=3", "bad_duration", {"key_name": "deadline", "given": "3"}),
    ("x 期限=0m", "bad_duration", {"given": "0m"}),
    ("x 期限=1.5h", "bad_duration", {"given": "1.5h"}),
    ("x 期限=2026-02-30 10:00", "bad_datetime", {"given": "2026-02-30 10:00"}),
    ("x 期限=2026-12-01 25:00", "bad_datetime", {"given": "2026-12-01 25:00"}),
    ("x 期限=2026-12-01 18:60", "bad_datetime", {"given": "2026-12-01 18:60"}),
    ("x 期限=2026-13-01 18:00", "bad_datetime", {"given": "2026-13-01 18:00"}),
    ("x 期限=2026-12-01", "bad_datetime", {"given": "2026-12-01"}),
    ("x 期限=2026-12-01 晚上", "bad_datetime", {"given": "2026-12-01 晚上"}),
    ("x 期限=2026-12-01 选项=A,B", "bad_datetime", {"given": "2026-12-01"}),
    ("x 期限=2026-12-01 晚上25点", "bad_datetime", {"given": "2026-12-01 晚上25点"}),
    ("x 期限=明天晚上25点", "bad_time_of_day", {"given": "明天晚上25点"}),
    ("x 期限=三十二点", "bad_time_of_day", {"given": "三十二点"}),
    ("x 期限=13月5日 19:00", "bad_day", {"given": "13月5日 19:00"}),
    ("x 期限=明天", "missing_time_of_day", {"given": "明天"}),
    ("x 期限=下周八 19:00", "bad_weekday", {"given": "下周八 19:00"}),
    ("x 期限=每月15日 19:00", "recurring_deadline", {"given": "每月15日 19:00"}),
    ("x 期限=每月三十二号晚上七点", "recurring_deadline", {"given": "每月三十二号晚上七点"}),
    ("x 期限=2026-05-01 18:00", "deadline_past", {"given": "2026-05-01 18:00"}),
    ("x 期限=2026-06-01 12:00", "deadline_past", {"key_name": "期限"}),
    ("x 期限=0001-01-01 00:00", "deadline_past", {}),
    ("x 期限=30s", "deadline_too_soon", {"given": "30s"}),
    ("x 期限=2026-06-01 12:00:30", "bad_datetime", {}),
    ("x 期限=400d", "deadline_too_far", {"given": "400d", "limit_days": 365}),
    ("x 期限=2027-06-02 12:00", "deadline_too_far", {"limit_days": 365}),
    ("x 期限=9999-12-31 23:59", "deadline_too_far", {}),
    ("x 选项=同意", "too_few_options", {"key_name": "选项", "count": 1}),
    ("x options=,，、", "too_few_options", {"count": 0}),
    ("x 选项=" + ",".join("ABCDEFGHIJK"), "too_many_options", {"count": 11, "limit": 10}),
    ("x 选项=同意,反对,同意", "duplicate_option", {"option": "同意"}),
    ("x options=Yes,YES", "duplicate_option", {"option": "YES"}),
    ("x 选项=A,Ａ", "duplicate_option", {"option": "Ａ"}),
    (
        "x 选项=A," + "长" * 41,
        "option_too_long",
        {"option": "长" * 41, "length": 41, "limit": 40},
    ),
    ("x 规则=unanimous", "unknown_rule", {"key_name": "规则", "given": "unanimous"}),
    ("x rule=278major", "unknown_rule", {"given": "278major"}),
    ("x 类别=天气", "unknown_category", {"given": "天气", "example": "public_affairs"}),
    (
        "x 类别=违法",
        "not_discussable",
        {"category": "unlawful", "name": "违反法律法规和政策的事项"},
    ),
    ("x 类别=private_dispute", "not_discussable", {"category": "private_dispute"}),
    ("x 类别=仲裁", "not_discussable", {"category": "in_litigation"}),
    ("x 法定人数=0", "bad_quorum", {"given": "0"}),
    ("x 法定人数=101%", "bad_quorum", {"given": "101%"}),
    ("x quorum=half", "bad_quorum", {"key_name": "quorum"}),
    ("x 法定人数=50.5%", "bad_quorum", {}),
    ("x 匿名=maybe", "bad_yes_no", {"key_name": "匿名", "given": "maybe"}),
    ("x hide=2", "bad_yes_no", {"key_name": "hide"}),
    ("x 按户=对", "bad_yes_no", {"key_name": "按户"}),
    ("x 范围=上级", "bad_scope", {"key_name": "范围", "given": "上级"}),
    ("x 规则=opinion 选项=A,B", "opinion_with_options", {"key_name": "选项"}),
    ("x options=A,B rule=征求意见", "opinion_with_options", {"key_name": "options"}),
    ("x 规则=278 按户=否", "household_required", {"key_name": "按户", "rule": "278"}),
    ("x household=no rule=278-major", "household_required", {"rule": "278-major"}),
]


@pytest.mark.parametrize(("text", "name", "params"), REFUSALS)
def test_every_refusal(text: str, name: str, params: dict[str, object]) -> None:
    error = refusal(text)
    assert error.key == f"topic_syntax.{name}"
    assert {key: error.params[key] for key in params} == params
    assert_renders(error)


def test_not_discussable_speaks_the_locale() -> None:
    zh, en = refusal("x 类别=隐私"), refusal("x 类别=隐私", locale="en")
    assert zh.params["name"] == "涉及国家秘密、商业秘密和个人隐私的事项"
    assert en.params["name"] == "Matters involving state secrets, trade secrets or personal privacy"
    assert "网格员" in zh.params["reason"] and "grid worker" in en.params["reason"]
    assert "网格员" in TRANSLATE("zh_CN", "refusals." + zh.key, **zh.params)


def test_unknown_keys_and_categories_list_the_valid_ones_in_the_locale() -> None:
    zh, en = refusal("x foo=1"), refusal("x foo=1", locale="en")
    assert zh.params["valid"].startswith("期限、选项、规则、类别")
    assert en.params["valid"].startswith("deadline, options, rule, category")
    zh, en = refusal("x 类别=天气"), refusal("x category=weather", locale="en")
    assert "居民公共事务和公益事业" in zh.params["valid"]
    assert "Carrying out policy in the community" in en.params["valid"]
    assert "违法" not in zh.params["valid"]


def test_a_category_without_a_catalogue_is_refused() -> None:
    error = refusal("x 类别=公共事务", catalogue=None)
    assert error.key == "topic_syntax.unknown_category"
    assert_renders(error)


def test_syntax_errors_come_first_then_values_in_line_order() -> None:
    assert refusal("x 期限=soon foo=1").key == "topic_syntax.unknown_key"
    assert refusal("期限=soon").key == "topic_syntax.empty_title"
    assert refusal("x 期限=soon 规则=bad").key == "topic_syntax.bad_duration"
    assert refusal("x 规则=bad 期限=soon").key == "topic_syntax.unknown_rule"


def test_every_refusal_in_the_catalogue_is_exercised() -> None:
    names = {name for _, name, _ in REFUSALS}
    assert names == REFUSAL_NAMES


# ---- properties -------------------------------------------------------------------------

NASTY = st.sampled_from(
    [
        *["=", "＝", '"', "“", "”", "「", "」", " ", "\u3000", "\n", "\t", ",", "、", "，", "%"],
        *["\u200b", "\u200d", "\u200e", "\u200f", "\u202e", "\u2066", "\ufeff", "\x00", "\ud800"],
        *["期限", "选项", "规则", "类别", "法定人数", "匿名", "按户", "隐藏结果", "范围"],
        *["deadline", "options", "rule", "category", "quorum", "secret", "household", "hide"],
        *["scope", "3d", "30s", "2026-12-01", "18:00", "9999-12-31", "0001-01-01", "278"],
        *["opinion", "是", "否", "yes", "all", "违法", "public_affairs", "50%", "١٢", "𝟑d"],
        *["ﷺ", "a" * 50],
    ]
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.one_of(NASTY, st.text(max_size=8)), max_size=40).map("".join),
    st.sampled_from(["zh_CN", "en"]),
    st.booleans(),
)
@example("x" * 10_000, "zh_CN", True)
@example(("“ " * 5000) + "选项=“", "zh_CN", True)
@example(("x=" * 5000), "en", False)
@example("题 期限=" + "9" * 9000 + "d", "zh_CN", True)
@example("\u202e\u200fمرحبا 期限=3d\u200f 选项=نعم,لا", "en", True)
def test_the_parser_raises_nothing_but_refusals(text: str, locale: str, with_cat: bool) -> None:
    catalogue = CATALOGUE if with_cat else None
    try:
        draft = parse(text, locale=locale, catalogue=catalogue)
    except Refusal as error:
        assert error.key.removeprefix("topic_syntax.") in REFUSAL_NAMES
        assert_renders(error)
        return
    assert 1 <= len(draft.title) <= 100 and draft.title == draft.title.strip()
    assert "\n" not in draft.title and len(draft.description) <= 2000
    assert timedelta(minutes=1) <= draft.deadline - NOW <= timedelta(days=365)
    assert draft.options == () or 2 <= len(draft.options) <= 10
    assert all(0 < len(option) <= 40 for option in draft.options)
    assert len({option.casefold() for option in draft.options}) == len(draft.options)
    assert (draft.options == ()) == (draft.rule is Rule.OPINION)
    if draft.rule in (Rule.ART278, Rule.ART278_MAJOR):
        assert draft.household
    if catalogue is not None:
        entry = catalogue.find(draft.category or "")
        assert entry is not None and entry.discussable


WORD = st.text(
    st.characters(
        codec="utf-8",
        categories=["L", "N", "P", "S"],
        exclude_characters='=＝"“”「」『』,，、',
    ),
    min_size=1,
    max_size=8,
).filter(lambda word: not word[0].isspace())


def same_option(option: str) -> str:
    return unicodedata.normalize("NFKC", option).casefold()


@st.composite
def drafts(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A text in the one-line syntax, and the fields it should produce."""
    title_words = draw(st.lists(WORD, min_size=1, max_size=5))
    title = " ".join(title_words)[:100].strip()
    expected: dict[str, object] = {"title": title}
    settings_: list[str] = []
    if draw(st.booleans()):
        minutes = draw(st.integers(1, 365 * 24 * 60))
        settings_.append(f"{draw(st.sampled_from(['期限', 'deadline']))}={minutes}m")
        expected["deadline"] = NOW + timedelta(minutes=minutes)
    rule = draw(st.sampled_from([*Rule, None]))
    if rule is not None:
        settings_.append(f"{draw(st.sampled_from(['规则', 'Rule']))}={rule.value}")
    if rule is not Rule.OPINION and draw(st.booleans()):
        options = draw(
            st.lists(WORD, min_size=2, max_size=10, unique_by=same_option).filter(
                lambda items: len({same_option(item) for item in items}) == len(items)
            )
        )
        separator = draw(st.sampled_from([",", "，", "、"]))
        settings_.append(f'选项="{separator.join(options)}"')
        expected["options"] = tuple(options)
    for key, field in (("匿名", "secret"), ("hide", "hide_results")):
        choice = draw(st.sampled_from([None, True, False]))
        if choice is not None:
            settings_.append(f"{key}={'是' if choice else 'no'}")
            expected[field] = choice
    if draw(st.booleans()):
        quorum = draw(st.integers(1, 100))
        settings_.append(f"法定人数={quorum}%")
        expected["quorum_percent"] = quorum
    entry = draw(st.sampled_from(CATALOGUE.discussable()))
    settings_.append(f'类别="{draw(st.sampled_from([entry.key, entry.name_zh, entry.name_en]))}"')
    expected["category"] = entry.key
    description = draw(st.text(st.characters(codec="utf-8", categories=["L", "N", "Zs"])))
    expected["description"] = description.strip()
    order = draw(st.permutations(settings_))
    return f"{title} {' '.join(order)}\n{description}", {"rule": rule, **expected}


@settings(max_examples=300, deadline=None)
@given(drafts())
def test_valid_texts_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    draft = parse(text)
    rule = expected.pop("rule") or Rule.MAJORITY
    assert draft.rule == rule
    for field, value in expected.items():
        assert getattr(draft, field) == value, field
    if "deadline" not in expected:
        assert draft.deadline == NOW + timedelta(days=3)
    if rule is Rule.OPINION:
        assert draft.options == ()
    elif "options" not in expected:
        assert draft.options == ("同意", "反对", "弃权")
    assert draft.household == (rule in (Rule.ART278, Rule.ART278_MAJOR))
    assert draft.scope is Scope.HERE
