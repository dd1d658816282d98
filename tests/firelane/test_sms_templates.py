"""The fire-lane SMS templates the module registers (ModuleSpec.sms_templates)."""

from __future__ import annotations

from civicloop.notify import templates

SIGN = "温岭市民意直达"


def test_the_warning_text_is_the_filed_one() -> None:
    assert templates.render("firelane_warning", {"plate": "浙J12345", "site": "锦园"}) == (
        "车牌浙J12345的车辆停放在锦园消防车通道上，请立即驶离。"
    )


def test_the_notice_link_has_the_deployments_fixed_prefix(settings: object) -> None:
    settings.SMS_LINK_PREFIX = "https://wl.gov.cn/n/"  # type: ignore[attr-defined]
    rendered = templates.render(
        "firelane_notice", {"plate": "浙J12345", "site": "锦园", "minutes": "10", "token": "x"}
    )
    assert rendered == (
        "车牌浙J12345的车辆违规停放在锦园的消防车通道上已10分钟，执法人员已开具告知单，"
        "详见https://wl.gov.cn/n/x"
    )


def test_realistic_values_stay_within_aliyuns_limits() -> None:
    values = {
        "firelane_warning": {"plate": "浙J·D12345", "site": "温岭市太平街道万昌中路锦园小区东门"},
        "firelane_notice": {
            "plate": "浙J·D12345",
            "site": "温岭市太平街道万昌中路锦园小区东门",
            "minutes": 25,
            "token": "2s9x.tqwsm9.hYAkEYEXAJCAaBcD",
        },
    }
    for name, params in values.items():
        text = templates.check(name, params, SIGN)
        assert "${" not in text and len(text) <= templates.TOTAL_LIMIT
        assert templates.sms_parts(text) <= 3
