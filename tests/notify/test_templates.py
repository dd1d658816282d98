"""The SMS template registry: rendering and Aliyun's length limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from civicloop.notify import templates

SIGN = "温岭市民意直达"

# Realistic, and on the long side, values for every param of every template.
REALISTIC = {
    "verify_code": {"code": "683920"},
    "case_received": {"number": "WL20250612-000123"},
    "case_dispatched": {
        "number": "WL20250612-000123",
        "department": "温岭市城西街道综合行政执法队",
    },
    "case_result": {
        "number": "WL20250612-000123",
        "summary": "经现场核查，该路段路灯故障已由城西街道维修完毕，恢复正常照明，感谢您的反映。",
    },
}
# Templates of the kind a module registers (ModuleSpec.sms_templates), one with a link.
SAMPLE_WARNING = templates.SmsTemplate(
    code="SMS_TEST_1", text="车牌${plate}的车辆停放在${site}消防车通道上，请立即驶离。"
)
SAMPLE_NOTICE = templates.SmsTemplate(
    code="SMS_TEST_2",
    text="车牌${plate}停放已${minutes}分钟，详见{link_prefix}${token}",
)
SAMPLE_THREAD = templates.SmsTemplate(
    code="SMS_TEST_3", text="${site}的协商有新回复：{site}/studios/t/${token}/"
)


@pytest.fixture(autouse=True)
def sample_templates() -> Iterator[None]:
    templates.template_register("sample_warning", SAMPLE_WARNING)
    templates.template_register("sample_notice", SAMPLE_NOTICE)
    templates.template_register("sample_thread", SAMPLE_THREAD)
    yield
    del templates.TEMPLATES["sample_warning"], templates.TEMPLATES["sample_notice"]


def test_every_core_template_has_realistic_values() -> None:
    assert set(REALISTIC) <= set(templates.TEMPLATES)


def test_a_module_template_is_registered_once() -> None:
    templates.template_register("sample_warning", SAMPLE_WARNING)  # the same again: fine
    other = templates.SmsTemplate(code="SMS_TEST_3", text="另一段文字${plate}")
    with pytest.raises(ValueError, match="registered twice"):
        templates.template_register("sample_warning", other)


@pytest.mark.parametrize("name", sorted(REALISTIC))
def test_every_template_renders_within_limits(name: str) -> None:
    text = templates.check(name, REALISTIC[name], SIGN)
    assert text.startswith(f"【{SIGN}】")
    assert "${" not in text
    assert len(text) <= templates.TOTAL_LIMIT
    # Keep our notices cheap: none should take more than three billed parts.
    assert templates.sms_parts(text) <= 3


def test_required_texts_are_exact() -> None:
    assert templates.render("verify_code", {"code": "123456"}) == (
        "您的验证码为123456，5分钟内有效，请勿泄露。"
    )
    assert templates.render("case_received", {"number": "A1"}) == (
        "您反映的问题已受理，编号A1，可凭编号和手机号查询进度。"
    )
    assert templates.render("case_result", {"number": "A1", "summary": "已修复"}) == (
        "您反映的问题（编号A1）已办结：已修复"
    )
    assert templates.render("sample_warning", {"plate": "浙J12345", "site": "锦园"}) == (
        "车牌浙J12345的车辆停放在锦园消防车通道上，请立即驶离。"
    )


def test_links_have_the_deployments_fixed_prefix(settings: object) -> None:
    settings.SMS_LINK_PREFIX = "https://wl.gov.cn/n/"  # type: ignore[attr-defined]
    rendered = templates.render(
        "sample_notice", {"plate": "浙J12345", "minutes": "10", "token": "x"}
    )
    assert rendered == "车牌浙J12345停放已10分钟，详见https://wl.gov.cn/n/x"


def test_site_links_have_the_deployments_domain(settings: object) -> None:
    # `{site}` is the deployment's SITE_URL; `${site}` stays an ordinary variable.
    settings.SITE_URL = "https://wl.gov.cn"  # type: ignore[attr-defined]
    rendered = templates.render("sample_thread", {"site": "泽国工作室", "token": "abc"})
    assert rendered == "泽国工作室的协商有新回复：https://wl.gov.cn/studios/t/abc/"
    assert templates.get_template("sample_thread").params == {"site", "token"}


def test_missing_param_is_refused() -> None:
    with pytest.raises(ValueError, match="missing"):
        templates.render("sample_warning", {"plate": "浙J12345"})


def test_unexpected_param_is_refused() -> None:
    with pytest.raises(ValueError, match="does not use"):
        templates.render("verify_code", {"code": "1", "cod": "2"})


def test_unknown_template_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        templates.render("no_such_template", {})


def test_param_over_35_characters_is_refused() -> None:
    templates.render("sample_warning", {"plate": "浙J12345", "site": "锦" * 35})
    with pytest.raises(ValueError, match="35"):
        templates.render("sample_warning", {"plate": "浙J12345", "site": "锦" * 36})


def test_summary_may_be_longer_up_to_100() -> None:
    templates.render("case_result", {"number": "A1", "summary": "办" * 100})
    with pytest.raises(ValueError, match="100"):
        templates.render("case_result", {"number": "A1", "summary": "办" * 101})


def test_empty_or_structured_values_are_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        templates.render("verify_code", {"code": "  "})
    with pytest.raises(ValueError, match="string"):
        templates.render("verify_code", {"code": ["1"]})


def test_total_length_limit_counts_the_sign() -> None:
    long_sign = "签" * 420
    with pytest.raises(ValueError, match="500"):
        templates.check("case_result", {"number": "A1", "summary": "办" * 100}, long_sign)


@pytest.mark.parametrize(
    ("length", "parts"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (500, 8)]
)
def test_sms_parts(length: int, parts: int) -> None:
    assert templates.sms_parts("字" * length) == parts
