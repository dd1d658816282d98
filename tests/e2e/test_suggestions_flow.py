"""The 代表建议 loop in Debian's Chromium.

A deputy turns two opinions into a suggestion co-signed by another deputy → the
co-signer confirms → the deputy submits → the 代表工委 accepts and assigns it (lead +
assisting unit) → the assisting unit sends its views → the lead unit records a contact
and answers (B) → the deputy is 不满意 → the lead unit answers again (A) → 满意.
Screenshots: test-artifacts/screenshots/60-*.png (phone 390x844, desktop 1366x900)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PHONE, SHOTS
from tests.suggestions.conftest import opinion_case, people  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_modules("opinions"),
]

DESKTOP = {"width": 1366, "height": 900}
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"60-{name}.png"), full_page=True)


def log_in(page, base: str, username: str) -> None:
    from civicloop.core.demo import DEMO_PASSWORD

    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state()


def test_suggestion_from_two_opinions_to_satisfied(
    chromium_page,
    live_server,
    people,  # noqa: F811 - a fixture
    opinion_case,  # noqa: F811 - a fixture
) -> None:
    from civicloop.core.cases.links import case_became
    from civicloop.core.cases.models import Case
    from civicloop.suggestions.models import Suggestion

    page, base = chromium_page, live_server.url
    first, second = opinion_case("牧屿村村口道路破损"), opinion_case("牧屿村路灯不亮")

    # The deputy drafts on a phone, from the two opinions, inviting a co-signer.
    page.set_viewport_size(PHONE)
    log_in(page, base, "deputy_wang")
    page.goto(f"{base}/suggestions/")
    page.click("[data-new]")
    page.fill("#id_title", "关于改善泽国镇牧屿村道路和照明条件的建议")
    page.fill(
        "#id_body",
        "牧屿村村口道路破损、路灯不亮，群众多次反映。建议列入农村公路提档升级和路灯改造计划。",
    )
    page.select_option("#id_category", "transport")
    page.check(f"[data-cosigners] input[value='{people.lin.pk}']")
    page.check(f"[data-opinions] input[value='{first.number}']")
    page.check(f"[data-opinions] input[value='{second.number}']")
    shot(page, "01-draft-phone")
    page.click("form[data-draft-form] button[type=submit]")
    page.wait_for_selector("[data-state='drafted']")
    number = Suggestion.objects.get().case.number
    assert page.locator("[data-came-from] li").count() == 2

    # The co-signer confirms; the deputy submits.
    log_in(page, base, "deputy_001")
    page.goto(f"{base}/suggestions/{number}/")
    page.click("#act-cosign button[value=yes]")
    page.wait_for_selector("[data-cosigner='confirmed']")
    log_in(page, base, "deputy_wang")
    page.goto(f"{base}/suggestions/{number}/")
    page.click("#act-submit button")
    page.wait_for_selector("[data-state='submitted']")

    # The 代表工委 accepts and assigns, on a desktop.
    page.set_viewport_size(DESKTOP)
    log_in(page, base, "npc_office")
    page.goto(f"{base}/suggestions/{number}/")
    page.click("#act-review button[value=accept]")
    page.wait_for_selector("[data-state='accepted']")
    page.select_option("#assign-lead", str(people.housing_unit.pk))
    page.check(f"[data-assisting-choices] input[value='{people.transport_unit.pk}']")
    shot(page, "02-assign-desktop")
    page.click("#act-assign button")
    page.wait_for_selector("[data-state='handling']")

    # The assisting unit sends its views; the lead unit contacts the deputy and answers.
    log_in(page, base, "handler_transport")
    page.goto(f"{base}/suggestions/{number}/")
    page.fill(
        f"#views-{people.transport_unit.pk}", "同意将牧屿村道路列入明年农村公路提档升级计划。"
    )
    page.click(f"#act-views-{people.transport_unit.pk} button")
    page.wait_for_selector("[data-views]")
    log_in(page, base, "handler_housing")
    page.goto(f"{base}/suggestions/{number}/")
    page.click("#act-answer button")  # no category: refused, with the reason
    page.wait_for_selector("#act-answer .form-error")
    page.fill("#contact-note", "电话联系王建国代表，介绍办理思路。")
    page.click("#act-contact button")
    page.wait_for_selector("[data-contacts] li")
    page.check("#act-answer input[value=B]")
    page.fill("#answer-text", "已将牧屿村道路和路灯改造列入明年计划，分步实施。")
    page.set_input_files(
        "#answer-files",
        files=[{"name": "答复函.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.click("#act-answer button")
    page.wait_for_selector("[data-state='answered']")
    assert page.locator("[data-files] a").count() == 1

    # The deputy is not satisfied: back to the lead unit for a second answer.
    page.set_viewport_size(PHONE)
    log_in(page, base, "deputy_wang")
    page.goto(f"{base}/suggestions/{number}/")
    page.check("#act-evaluate input[value=unsatisfied]")
    page.fill("#evaluate-comment", "未明确完成时间，请进一步落实。")
    page.click("#act-evaluate button")
    page.wait_for_selector("[data-state='rehandling']")

    log_in(page, base, "handler_housing")
    page.goto(f"{base}/suggestions/{number}/")
    page.select_option("#contact-method", "meeting")
    page.fill("#contact-note", "座谈说明时间节点：明年6月底前完工。")
    page.click("#act-contact button")
    page.wait_for_selector("#act-answer")
    page.check("#act-answer input[value=A]")
    page.fill("#answer-text", "道路修复和路灯改造已完成招标，明年6月底前完工。")
    page.click("#act-answer button")
    page.wait_for_selector("[data-state='answered']")

    log_in(page, base, "deputy_wang")
    page.goto(f"{base}/suggestions/{number}/")
    page.check("#act-evaluate input[value=satisfied]")
    page.click("#act-evaluate button")
    page.wait_for_selector("[data-state='closed']")
    shot(page, "03-closed-phone")
    page.set_viewport_size(DESKTOP)
    page.reload()
    shot(page, "04-closed-desktop")

    assert page.locator("[data-evaluation]").count() == 2
    assert page.locator("[data-answer]").count() == 2

    # The 代表工委's yearly figures count it: answered, on time, satisfied.
    log_in(page, base, "npc_office")
    page.goto(f"{base}/suggestions/figures/")
    assert page.locator("[data-answered]").inner_text() == "1"
    assert page.locator("[data-satisfaction]").inner_text() == "100%"
    shot(page, "05-figures-desktop")
    page.set_viewport_size(PHONE)
    page.reload()
    shot(page, "06-figures-phone")

    case = Case.objects.get(number=number)
    assert case.state == "closed" and case.rating == "satisfied"
    assert case_became(case=first) == [number] and case_became(case=second) == [number]
