"""社情民意信息: the length limit, the office's edit beside the original, adoptions per
level with the body, 批示, the yearly tallies with scores and quotas, the XLSX list."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from civicloop.core.accounts.models import User
from civicloop.studios import services
from civicloop.studios.errors import StudioError, StudioErrorCode
from civicloop.studios.models import Level, Member, Report, Studio, TallyRules
from civicloop.studios.selectors import report_tallies, tally_rules

pytestmark = pytest.mark.django_db


def _report(author: Member, **kw) -> Report:
    fields = {
        "title": "关于缓解城区学位紧张的建议",
        "situation": "城区新建小区多，学位紧张。",
        "analysis": "学校建设滞后于住宅开发。",
        "suggestion": "加快新建学校，优化学区划分。",
    }
    fields.update(kw)
    return services.report_draft(author=author, **fields)


def test_a_report_over_the_limit_is_refused_with_the_count(chen: Member, settings) -> None:
    settings.STUDIO_REPORT_MAX_CHARS = 1500
    with pytest.raises(StudioError) as exc:
        _report(chen, situation="情" * 1480)
    assert exc.value.code == StudioErrorCode.TOO_LONG
    assert "1500" in exc.value.message and str(1480 + 13 + 12 + 14) in exc.value.message
    assert not Report.objects.exists()


def test_the_edit_is_kept_beside_the_original(chen: Member, office: User) -> None:
    report = _report(chen)
    services.report_edit(
        report=report,
        user=office,
        title="关于学位的建议",
        situation="精简后的情况",
        analysis=report.analysis,
        suggestion=report.suggestion,
    )
    report.refresh_from_db()
    assert report.situation == "城区新建小区多，学位紧张。"
    assert report.edited["situation"] == "精简后的情况" and report.editor == office
    assert chen.user is not None
    with pytest.raises(StudioError):  # a member is not the information office
        services.report_edit(
            report=report, user=chen.user, title="x", situation="x", analysis="x", suggestion="x"
        )


def test_adoptions_per_level_once_each_and_the_tally(
    chen: Member, office: User, zeguo: Studio
) -> None:
    colleague = zeguo.members.exclude(pk=chen.pk).first()
    assert colleague is not None
    joint = _report(chen, coauthors=[colleague])
    services.report_adopt(report=joint, user=office, level=Level.WENLING, body="温岭市委办公室")
    services.report_adopt(report=joint, user=office, level=Level.TAIZHOU, body="台州市政协")
    with pytest.raises(StudioError) as exc:
        services.report_adopt(report=joint, user=office, level=Level.TAIZHOU, body="台州市政协")
    assert exc.value.code == StudioErrorCode.LEVEL
    services.report_instruct(
        report=joint, user=office, leader="台州市副市长", level=Level.TAIZHOU, text="请研究落实。"
    )
    _report(chen, title="关于第二件事的建议")
    tallies = {t.member.pk: t for t in report_tallies(year=joint.year)}
    mine, theirs = tallies[chen.pk], tallies[colleague.pk]
    assert mine.reports == 2 and theirs.reports == 1  # a joint report counts for each
    assert mine.adoptions == {"wenling": 1, "taizhou": 1}
    assert mine.score == 5 + 10 + 10 and theirs.score == 25
    assert mine.instructions == 1
    # 陈委员 is a standing-committee member: 3 a year, so 2 is below quota.
    assert mine.quota == 3 and mine.below_quota


def test_the_member_and_the_citizen_see_what_became_of_it(
    zeguo: Studio, chen: Member, office: User, citizen_phone: str
) -> None:
    thread = services.thread_open(studio=zeguo, member=chen, phone=citizen_phone, text="学区问题")
    assert chen.user is not None
    services.thread_message_post(thread=thread, user=chen.user, text="我会向上反映。")
    report = _report(chen, threads=[thread])
    services.report_adopt(report=report, user=office, level=Level.TAIZHOU, body="台州市政协")
    page = Client().get(f"/studios/t/{thread.token}/").content.decode()
    assert report.title in page and "台州市政协" in page
    member = Client()
    member.force_login(chen.user)
    assert member.get(f"/studios/reports/{report.pk}/").status_code == 200
    stranger = Client()
    stranger.force_login(User.objects.get(username="handler_zeguo"))
    assert stranger.get(f"/studios/reports/{report.pk}/").status_code == 403


def test_a_member_reports_only_from_threads_they_answer(
    zeguo: Studio, chen: Member, citizen_phone: str
) -> None:
    other = Member.objects.exclude(studio=zeguo).first()
    assert other is not None
    thread = services.thread_open(studio=zeguo, member=chen, phone=citizen_phone, text="问题")
    with pytest.raises(StudioError) as exc:
        _report(other, threads=[thread])
    assert exc.value.code == StudioErrorCode.FORBIDDEN


def test_the_yearly_list_as_xlsx_for_the_office_only(chen: Member, office: User) -> None:
    report = _report(chen)
    services.report_adopt(report=report, user=office, level=Level.PROVINCE, body="浙江省政协")
    client = Client()
    client.force_login(office)
    response = client.get(f"/studios/reports/tally.xlsx?year={report.year}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    mine = rows[chen.name]
    assert mine[3] == 1 and 30 in mine
    assert chen.user is not None
    client.force_login(chen.user)
    assert client.get("/studios/reports/tally.xlsx").status_code == 403


def test_a_nonsense_year_is_this_year(chen: Member, office: User) -> None:
    client = Client()
    client.force_login(office)
    assert client.get("/studios/reports/?year=abc").status_code == 200
    assert client.get("/studios/reports/tally.xlsx?year=20x6").status_code == 200
    assert Studio.objects.exists()


def test_the_office_sets_the_points_table_and_quotas_that_the_tally_uses(
    chen: Member, office: User, zeguo: Studio
) -> None:
    report = _report(chen)
    services.report_adopt(report=report, user=office, level=Level.TAIZHOU, body="台州市政协")
    year = report.year
    assert {t.member.pk: t for t in report_tallies(year=year)}[chen.pk].score == 10

    client = Client()
    client.force_login(office)
    page = client.get(f"/studios/reports/rules/?year={year}")
    assert page.status_code == 200 and "尚未设定过" in page.content.decode()
    form = {name: "0" for name in services.RULES_FIELDS}
    form.update(points_taizhou="12", quota_standing="1", points_instruction="7")
    # Nonsense is refused with the field named, and nothing is saved.
    refused = client.post(f"/studios/reports/rules/?year={year}", {**form, "quota_other": "-1"})
    assert refused.status_code == 200 and "其他委员应报篇数" in refused.content.decode()
    assert not TallyRules.objects.exists()
    saved = client.post(f"/studios/reports/rules/?year={year}", form)
    assert saved.status_code == 302
    services.report_instruct(
        report=report, user=office, leader="市政协主席", level=Level.WENLING, text="转有关部门。"
    )
    mine = {t.member.pk: t for t in report_tallies(year=year)}[chen.pk]
    assert mine.score == 12 + 7 and mine.quota == 1 and not mine.below_quota
    listed = client.get(f"/studios/reports/?year={year}").content.decode()
    assert "台州市12分" in listed
    # The next year carries this table over until the office sets its own.
    assert tally_rules(year=year + 1).points_taizhou == 12
    assert tally_rules(year=year - 1).pk is None  # earlier years keep the defaults
    # A member may not set it.
    assert chen.user is not None
    client.force_login(chen.user)
    assert client.get(f"/studios/reports/rules/?year={year}").status_code == 403
    with pytest.raises(StudioError):
        services.tally_rules_set(year=year, values=form, user=chen.user)
