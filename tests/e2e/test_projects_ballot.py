"""The 民生实事 secret ballot with 30 deputies, in Debian's Chromium.

28 deputies vote through the service, 2 on the phone ballot page (each gets a receipt
and checks it); the 代表工委 closes the vote on its page; the published result is
checked against a direct count of the stored ballots; no page or API answer names a
deputy next to a vote. Screenshots: test-artifacts/screenshots/60-*.png."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from tests.e2e.conftest import PHONE, SHOTS
from tests.projects.conftest import load_city, make_deputies, make_office, shortlisted_cycle

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_modules("projects"),
]


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"60-{name}.png"), full_page=True)


def log_in(page: Any, base: str, username: str) -> None:
    from civicloop.core.demo import DEMO_PASSWORD

    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state()


def test_ballot_of_thirty_deputies(chromium_page: Any, live_server: Any) -> None:
    from civicloop.projects.models import Ballot, Candidate, Cycle, VoterRecord
    from civicloop.projects.services import ballot_cast, voting_open

    page = chromium_page
    base = live_server.url
    load_city()
    office = make_office()
    deputies = make_deputies(30, prefix="代表")
    for i, deputy in enumerate(deputies):
        deputy.full_name = f"测试代表{i:02d}"
        deputy.save(update_fields=["full_name"])
    cycle = shortlisted_cycle(office=office, count=6, places=4)
    voting_open(cycle=cycle, actor=office)
    ids = list(Candidate.objects.order_by("ballot_number").values_list("pk", flat=True))
    values = ("for", "against", "abstain")
    for v, deputy in enumerate(deputies[:28]):
        choices = {
            str(pk): "for" if (v + k) % 5 < 5 - k // 2 else values[(v + k) % 3]
            for k, pk in enumerate(ids)
        }
        ballot_cast(cycle=cycle, user=deputy, choices=choices)

    # Two deputies vote on their phones.
    page.set_viewport_size(PHONE)
    receipts = []
    for n, deputy in enumerate(deputies[28:]):
        log_in(page, base, deputy.username)
        page.goto(f"{base}/projects/2026/ballot/")
        for k, pk in enumerate(ids):
            value = "against" if (n == 1 and k == 5) else "for"
            page.locator(f"input[name=c{pk}][value={value}]").check()
        if n == 0:
            shot(page, "ballot-phone")
        page.locator("#cast").click()
        receipt = page.locator("#receipt").inner_text().strip()
        assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", receipt)
        receipts.append(receipt)
        if n == 0:
            shot(page, "receipt-phone")
        # The receipt is shown once; the ballot page now only says they voted.
        page.goto(f"{base}/projects/2026/cast/")
        assert page.locator("#receipt").count() == 0
        page.goto(f"{base}/projects/2026/ballot/")
        assert page.locator("#already").count() == 1
        assert page.locator("#ballot-form").count() == 0
    assert VoterRecord.objects.count() == Ballot.objects.count() == 30

    # The office sees the turnout, never names, and closes the vote on its page.
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, base, office.username)
    page.goto(f"{base}/projects/2026/manage/")
    assert "已投票 30 人" in page.locator("#turnout").inner_text()
    manage_html = page.content()
    page.locator("#close-vote").click()
    page.wait_for_load_state()
    shot(page, "manage-desktop")

    # The result equals a direct count of the ballots.
    expected: dict[int, Counter[str]] = {pk: Counter() for pk in ids}
    for choices in Ballot.objects.values_list("choices", flat=True):
        for pk, value in choices.items():
            expected[int(pk)][value] += 1
    page.context.clear_cookies()
    page.goto(f"{base}/projects/2026/")
    shot(page, "result-desktop")
    for pk in ids:
        row = page.locator(f"tr[data-candidate='{pk}']")
        assert int(row.locator("[data-for]").inner_text()) == expected[pk]["for"]
        assert int(row.locator("[data-against]").inner_text()) == expected[pk]["against"]
        assert int(row.locator("[data-abstain]").inner_text()) == expected[pk]["abstain"]
    cycle = Cycle.objects.get()
    passing = sorted(
        (pk for pk in ids if expected[pk]["for"] * 2 > 30), key=lambda pk: -expected[pk]["for"]
    )
    chosen = set(Candidate.objects.filter(chosen=True).values_list("pk", flat=True))
    assert chosen and chosen <= set(passing[: cycle.places])
    page.set_viewport_size(PHONE)
    shot(page, "result-phone")
    result_html = page.content()

    # A receipt shows that ballot, nobody's name.
    page.goto(f"{base}/projects/receipt/")
    page.fill("#id_receipt", receipts[1])
    page.locator("form.stack button[type=submit]").click()
    found = page.locator("#ballot-found").inner_text()
    assert found.count("赞成") == 5 and found.count("反对") == 1
    receipt_html = page.content()
    shot(page, "receipt-check-phone")

    api = page.request.get(f"{base}/api/v1/projects/cycles/2026").text()
    assert json.loads(api)["voters"] == 30
    for html in (manage_html, result_html, receipt_html, api):
        for deputy in deputies:
            assert deputy.username not in html and deputy.full_name not in html

    # Delivery: a milestone with a progress photo, on the public project page (phone).
    import io
    from datetime import date, timedelta
    from decimal import Decimal

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from civicloop.projects.services import delivery_start, milestone_add, progress_report
    from tests.projects.conftest import make_user

    delivery_start(cycle=cycle, actor=office)
    project = Candidate.objects.filter(chosen=True).order_by("rank").first()
    assert project is not None
    lead = make_user("lead", unit_code="dept-housing", role="handler")
    milestone = milestone_add(
        project=project, title="开工建设", due_date=date.today() + timedelta(days=30), actor=office
    )
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 110, 160)).save(buf, "JPEG")
    progress_report(
        milestone=milestone,
        actor=lead,
        percent=45,
        spent_wan=Decimal("45"),
        note="管网改造完成近半",
        photos=[SimpleUploadedFile("site.jpg", buf.getvalue(), content_type="image/jpeg")],
    )
    page.context.clear_cookies()
    page.goto(f"{base}/projects/p/{project.pk}/")
    assert "完成进度 45%" in page.locator("#progress").inner_text()
    assert page.locator("#reports img").count() == 1
    shot(page, "project-phone")
