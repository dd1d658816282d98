"""The studios module's pages: the public directory and studio pages (with the code), the
citizen's write page and thread (by the link sent by SMS), the member's inbox and
thread, the unit's referral, the office's reports and tallies, a 民生议事堂 session."""

from __future__ import annotations

import io
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicloop.core import posters, registry
from civicloop.core.accounts.models import User
from civicloop.core.accounts.responses import sms_code_json
from civicloop.core.accounts.services import sms_code_verify
from civicloop.core.attachments.errors import AttachmentError
from civicloop.core.attachments.models import Attachment
from civicloop.core.attachments.responses import attachment_response
from civicloop.core.attachments.services import attachments_create_batch
from civicloop.core.cases.models import Case
from civicloop.core.client_ip import client_ip
from civicloop.core.errors import DomainError, refusal_show
from civicloop.core.ratelimit import RateLimitExceeded, rate_limit_hit
from civicloop.core.units.models import Unit
from civicloop.core.units.selectors import user_standing
from civicloop.studios import grouping, selectors, services
from civicloop.studios.errors import StudioError, StudioErrorCode
from civicloop.studios.models import (
    Level,
    Member,
    Message,
    Participant,
    ParticipantKind,
    Report,
    Session,
    Side,
    Statement,
    Studio,
    StudioKind,
    TallyRules,
    Thread,
)

SMS_PURPOSE = "studio"


def _year(request: HttpRequest) -> int:
    """The year asked for (?year=), this year when none or nonsense."""
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else timezone.localdate().year


def _ids(values: list[str]) -> list[int]:
    """The whole numbers among submitted ids (anything else is ignored)."""
    return [int(v) for v in values if v.isdigit()][:50]


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required
    return user


# A spam brake on the public write page: threads per client address per hour.
THREADS_PER_IP_PER_HOUR = 20
WEEKDAYS = ("", "周一", "周二", "周三", "周四", "周五", "周六", "周日")


def studio_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:50]
    field = request.GET.get("field", "")[:20]
    kind = request.GET.get("kind", "")[:8]
    town = request.GET.get("town", "")[:32]
    studios = list(selectors.studios_search(q=q, field=field, kind=kind, town=town))
    active = Studio.objects.filter(is_active=True).select_related("town")
    fields = sorted({f for s in active for f in s.fields or []})
    towns = sorted({(s.town.code, s.town.name) for s in active})
    return render(
        request,
        "studios/studio_list.html",
        {
            "studios": studios,
            "q": q,
            "field": field,
            "kind": kind,
            "fields": fields,
            "kinds": StudioKind.choices,
            "town": town,
            "towns": towns,
        },
    )


def _studio(slug: str) -> Studio:
    return get_object_or_404(Studio.objects.select_related("town"), slug=slug, is_active=True)


def studio_detail(request: HttpRequest, slug: str) -> HttpResponse:
    studio = _studio(slug)
    members = list(studio.members.filter(is_active=True))
    by_id = {m.pk: m for m in members}
    rota = [
        (WEEKDAYS[r["weekday"]], by_id.get(r["member"]))
        for r in sorted(studio.rota or [], key=lambda r: r["weekday"])
        if 1 <= r.get("weekday", 0) <= 7
    ]
    sessions = studio.sessions.filter(Q(published=True) | Q(round_open=True))[:5]
    return render(
        request,
        "studios/studio_detail.html",
        {
            "studio": studio,
            "members": members,
            "rota": rota,
            "sessions": sessions,
            "can_manage": request.user.is_authenticated
            and (
                selectors.is_cppcc_office(user=request.user)
                or selectors.is_studio_head(user=request.user, studio=studio)
            ),
        },
    )


def member_photo(request: HttpRequest, pk: int) -> FileResponse:
    """A serving member's photo (its thumbnail), public on the studio's page."""
    member = get_object_or_404(
        Member.objects.select_related("photo"), pk=pk, is_active=True, studio__is_active=True
    )
    photo = member.photo
    if photo is None or photo.kind != Attachment.Kind.PHOTO:
        raise Http404
    response = attachment_response(photo, thumbnail=bool(photo.thumbnail))
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _rota_posted(request: HttpRequest) -> list[tuple[int, int]]:
    """(weekday, member id) pairs from the form's `rota_<weekday>` selects."""
    pairs = []
    for day in range(1, 8):
        raw = request.POST.get(f"rota_{day}", "")
        if raw.isdigit():
            pairs.append((day, int(raw)))
    return pairs


@login_required
def studio_manage(request: HttpRequest, slug: str) -> HttpResponse:
    """The office's (or the studio head's) page for a studio: facts, fields, first-reply
    deadline, duty rota, head (office only), and its members."""
    studio = get_object_or_404(Studio.objects.select_related("town", "head"), slug=slug)
    user = _user(request)
    office = selectors.is_cppcc_office(user=user)
    if not (office or selectors.is_studio_head(user=user, studio=studio)):
        raise PermissionDenied
    if request.method == "POST":
        head = request.POST.get("head", "")
        try:
            services.studio_update(
                studio=studio,
                user=user,
                address=request.POST.get("address", ""),
                office_hours=request.POST.get("office_hours", ""),
                fields=request.POST.get("fields", "").replace("，", ",").split(","),
                reply_days=request.POST.get("reply_days", ""),
                rota=_rota_posted(request),
                head_id=int(head) if head.isdigit() else None if office else studio.head_id,
            )
        except DomainError as exc:
            refusal_show(request, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("studios:studio_manage", slug=studio.slug)
    members = list(studio.members.order_by("-is_active", "pk"))
    on_duty = {r["weekday"]: r["member"] for r in studio.rota or []}
    days = [(d, WEEKDAYS[d], on_duty.get(d)) for d in range(1, 8)]
    return render(
        request,
        "studios/studio_manage.html",
        {"studio": studio, "members": members, "days": days, "office": office},
    )


@login_required
def member_edit(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    """Add a member to a studio, or change one: name, sector, standing, profile, photo,
    serving or not (the office only)."""
    studio = get_object_or_404(Studio, slug=slug)
    user = _user(request)
    if not selectors.is_cppcc_office(user=user):
        raise PermissionDenied
    member = get_object_or_404(Member, pk=pk, studio=studio) if pk is not None else None
    post: dict[str, Any] = {}
    if request.method == "POST":
        post = request.POST.dict()
        try:
            services.member_save(
                studio=studio,
                user=user,
                member=member,
                name=post.get("name", ""),
                sector=post.get("sector", ""),
                standing=bool(post.get("standing")),
                profile=post.get("profile", ""),
                is_active=bool(post.get("is_active")),
                photo=request.FILES.get("photo"),
            )
        except (DomainError, AttachmentError) as exc:
            refusal_show(request, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("studios:studio_manage", slug=studio.slug)
    elif member is not None:
        post = {
            "name": member.name,
            "sector": member.sector,
            "standing": member.standing,
            "profile": member.profile,
            "is_active": member.is_active,
        }
    else:
        post = {"sector": studio.sector, "is_active": True}
    return render(
        request,
        "studios/member_edit.html",
        {"studio": studio, "member": member, "post": post},
    )


def studio_code_png(request: HttpRequest, slug: str) -> HttpResponse:
    """The studio's QR code: its public page's absolute URL (host from SITE_URL)."""
    studio = _studio(slug)
    response = HttpResponse(posters.qr_png(selectors.studio_url(studio)), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _studio_poster(studio: Studio) -> posters.Poster:
    on_duty = "、".join(
        f"每{WEEKDAYS[r['weekday']]}" for r in studio.rota or [] if 1 <= r.get("weekday", 0) <= 7
    )
    return posters.Poster(
        header="中国人民政治协商会议温岭市委员会",
        kind_label="委员工作室码",
        name=studio.name,
        subtitle=" · ".join(studio.fields or []),
        url=selectors.studio_url(studio),
        caption="扫码与政协委员协商 · 三个工作日内答复",
        facts=(("地址", studio.address), ("接待时间", studio.office_hours), ("值班", on_duty)),
        code_label=studio.slug,
        footer="温岭数字治理平台 · 协商在线",
    )


def studio_poster(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """The studio's A4 poster with its code, to print for the office door (PDF or PNG)."""
    studio = _studio(slug)
    poster = _studio_poster(studio)
    if fmt == "pdf":
        response = HttpResponse(posters.poster_pdf(poster), content_type="application/pdf")
    else:
        response = HttpResponse(posters.poster_png(poster), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="studio-{studio.slug}.{fmt}"'
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_POST
def sms_code_send_view(request: HttpRequest, slug: str) -> JsonResponse:
    """The "获取验证码" button of the write page."""
    _studio(slug)
    return sms_code_json(request, purpose=SMS_PURPOSE)


def _uploads(request: HttpRequest) -> list[Any]:
    photos = request.FILES.getlist("photos")[:3]
    voice = request.FILES.getlist("voice")[:1]
    out = []
    try:
        if photos:
            out += attachments_create_batch(
                uploads=photos, uploaded_by=None, allowed_kinds=frozenset({"photo"})
            )
        if voice:
            out += attachments_create_batch(
                uploads=voice, uploaded_by=None, allowed_kinds=frozenset({"voice"})
            )
    except AttachmentError as exc:
        raise StudioError(StudioErrorCode.MISSING, exc.message, field="photos") from None
    return out


def thread_new(request: HttpRequest, slug: str) -> HttpResponse:
    """The citizen writes to a studio (or one of its members): SMS code, text, voice,
    photos; a second tap of the same form opens one thread."""
    studio = _studio(slug)
    member = None
    if request.GET.get("member") or request.POST.get("member"):
        member = Member.objects.filter(
            pk=(request.POST.get("member") or request.GET.get("member") or "0"), studio=studio
        ).first()
    error = ""
    if request.method == "POST":
        try:
            rate_limit_hit(
                scope="studio-thread",
                ident=client_ip(request) or "unknown",
                limit=THREADS_PER_IP_PER_HOUR,
                window=3600,
            )
            key = request.POST.get("key", "")[:64] or None
            existing = Case.objects.filter(submission_key=key).first() if key else None
            if existing is not None:
                return redirect("studios:thread_public", token=existing.thread.token)
            phone = sms_code_verify(
                phone=request.POST.get("phone", ""),
                code=request.POST.get("code", ""),
                purpose=SMS_PURPOSE,
            )
            with transaction.atomic():
                thread = services.thread_open(
                    studio=studio,
                    member=member,
                    phone=phone,
                    text=request.POST.get("text", ""),
                    anonymous=bool(request.POST.get("anonymous")),
                    attachments=_uploads(request),
                    submission_key=key,
                )
            return redirect("studios:thread_public", token=thread.token)
        except RateLimitExceeded:
            error = _("提交过于频繁，请稍后再试。")
        except DomainError as exc:
            error = exc.message
    return render(
        request,
        "studios/thread_new.html",
        {
            "studio": studio,
            "member": member,
            "key": uuid.uuid4().hex,
            "error": error,
            "members": studio.members.filter(is_active=True),
        },
    )


def _thread_context(thread: Thread) -> dict[str, Any]:
    case = thread.case
    referrals = Case.objects.filter(
        channel="consultation_referral", data__thread_case=case.number
    ).select_related("owner_unit")
    return {
        "thread": thread,
        "case": case,
        "state_label": registry.workflow(case.workflow).state(case.state).label,
        "thread_messages": thread.messages.select_related("author").prefetch_related("attachments"),
        "reports": selectors.reports_of_thread(thread=thread),
        "referrals": list(referrals),
        "ratings": (
            ("satisfied", _("满意")),
            ("basically", _("基本满意")),
            ("unsatisfied", _("不满意")),
        ),
    }


def thread_public(request: HttpRequest, token: str) -> HttpResponse:
    """The citizen's page of their thread, by the link sent to their phone: they read
    the answers, write back and rate."""
    thread = get_object_or_404(Thread.objects.select_related("case", "studio"), token=token)
    services.thread_for_case(case=thread.case)
    citizen = thread.case.submitter
    if request.method == "POST" and citizen is not None:
        try:
            if request.POST.get("rating"):
                services.thread_rate(
                    thread=thread,
                    user=citizen,
                    rating=request.POST["rating"],
                    comment=request.POST.get("comment", ""),
                )
            else:
                services.thread_message_post(
                    thread=thread,
                    user=citizen,
                    text=request.POST.get("text", ""),
                    key=request.POST.get("key") or None,
                    attachments=_uploads(request),
                )
        except DomainError as exc:
            refusal_show(request, exc)
        return redirect("studios:thread_public", token=token)
    thread.case.refresh_from_db()
    return render(
        request,
        "studios/thread.html",
        {**_thread_context(thread), "citizen_view": True, "key": uuid.uuid4().hex},
    )


def _thread_file(thread: Thread, pk: uuid.UUID, request: HttpRequest) -> FileResponse:
    attachment = Attachment.objects.filter(
        pk=pk,
        pk__in=Message.attachments.through.objects.filter(message__thread=thread).values(
            "attachment_id"
        ),
    ).first()
    if attachment is None:
        raise Http404("attachment not found")
    return attachment_response(attachment, thumbnail=request.GET.get("thumb") == "1")


def thread_file_public(request: HttpRequest, token: str, pk: uuid.UUID) -> FileResponse:
    """A photo or voice note of the thread, for the citizen who holds its link."""
    return _thread_file(get_object_or_404(Thread, token=token), pk, request)


@login_required
def thread_file(request: HttpRequest, thread_pk: int, pk: uuid.UUID) -> FileResponse:
    """A photo or voice note of the thread, for its member, head or the office."""
    thread = get_object_or_404(Thread.objects.select_related("case", "studio"), pk=thread_pk)
    if selectors.thread_party(thread=thread, user=request.user) is None:
        raise PermissionDenied
    return _thread_file(thread, pk, request)


INBOX_PAGE = 50


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The threads a member answers (a head: the studio's; the office: all), newest first,
    by state, 50 a page."""
    office = selectors.is_cppcc_office(user=request.user)
    if (
        not office
        and selectors.member_of(user=request.user) is None
        and not (selectors.led_studios(user=request.user))
    ):
        raise PermissionDenied
    threads = selectors.inbox_threads(user=request.user)
    state = request.GET.get("state", "")[:16]
    if state == "late":
        threads = threads.filter(
            case__closed_at=None, first_reply_at=None, case__due_at__lt=timezone.now()
        )
    elif state:
        threads = threads.filter(case__state=state)
    try:
        page = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        page = 1
    rows = list(threads[(page - 1) * INBOX_PAGE : page * INBOX_PAGE + 1])
    template = registry.workflow("consultation")
    labels = {st.code: st.label for st in template.states}
    for thread in rows:
        thread.state_label = labels.get(thread.case.state, thread.case.state)  # type: ignore[attr-defined]
    return render(
        request,
        "studios/inbox.html",
        {
            "threads": rows[:INBOX_PAGE],
            "more": len(rows) > INBOX_PAGE,
            "page": page,
            "state": state,
            "office": office,
            "states": list(labels.items()),
        },
    )


@login_required
def figures(request: HttpRequest) -> HttpResponse:
    """The CPPCC office's figures: answered on time and satisfaction, per studio and
    per member."""
    if not selectors.is_cppcc_office(user=request.user):
        raise PermissionDenied
    return render(
        request,
        "studios/figures.html",
        {
            "studios": selectors.thread_figures(by="studio"),
            "members": selectors.thread_figures(by="member"),
        },
    )


@login_required
def thread_of_case(request: HttpRequest, number: str) -> HttpResponse:
    """The generic case page's link: the thread of a consultation case."""
    case = get_object_or_404(Case, number=number, channel="consultation")
    return redirect("studios:thread_staff", pk=services.thread_for_case(case=case).pk)


@login_required
def thread_staff(request: HttpRequest, pk: int) -> HttpResponse:
    """The member's (or head's, or office's) page of a thread: answer, invite, pass."""
    thread = get_object_or_404(Thread.objects.select_related("case", "studio", "member"), pk=pk)
    if selectors.thread_party(thread=thread, user=request.user) != Side.MEMBER:
        raise PermissionDenied
    if request.method == "POST":
        act = request.POST.get("act", "reply")
        try:
            if act == "invite":
                services.thread_invite(
                    thread=thread, user=_user(request), text=request.POST.get("text", "")
                )
            elif act == "pass":
                unit = get_object_or_404(Unit, pk=request.POST.get("unit") or 0, is_active=True)
                services.thread_pass(
                    thread=thread, user=_user(request), unit=unit, note=request.POST.get("text", "")
                )
            else:
                services.thread_message_post(
                    thread=thread,
                    user=_user(request),
                    text=request.POST.get("text", ""),
                    key=request.POST.get("key") or None,
                    attachments=_uploads(request),
                )
            messages.success(request, _("已发送，群众将收到短信通知。"))
        except DomainError as exc:
            refusal_show(request, exc)
        return redirect("studios:thread_staff", pk=pk)
    thread.case.refresh_from_db()
    units = Unit.objects.filter(kind__in=("department", "town_office"), is_active=True)
    return render(
        request,
        "studios/thread.html",
        {**_thread_context(thread), "citizen_view": False, "units": units, "key": uuid.uuid4().hex},
    )


@login_required
def referral_view(request: HttpRequest, number: str) -> HttpResponse:
    """The unit's page of a passed matter: submit the result that goes back to the thread."""
    referral = get_object_or_404(Case, number=number, channel="consultation_referral")
    standing = user_standing(request.user)
    if not (standing.is_admin or referral.owner_unit_id in standing.unit_ids):
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.referral_result(
                referral=referral, user=_user(request), text=request.POST.get("text", "")
            )
        except DomainError as exc:
            refusal_show(request, exc)
        return redirect("studios:referral", number=number)
    return render(request, "studios/referral.html", {"case": referral})


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    office = selectors.is_cppcc_office(user=request.user)
    member = selectors.member_of(user=request.user)
    if not office and member is None:
        raise PermissionDenied
    reports = Report.objects.prefetch_related("authors", "adoptions")
    if not office:
        reports = reports.filter(authors=member)
    year = _year(request)
    tallies = selectors.report_tallies(year=year)
    if not office:
        tallies = [t for t in tallies if t.member.pk == member.pk]  # type: ignore[union-attr]
    return render(
        request,
        "studios/report_list.html",
        {
            "reports": reports[:200],
            "tallies": tallies,
            "year": year,
            "office": office,
            "sectors": selectors.sector_tallies(year=year) if office else [],
            "rules": selectors.tally_rules(year=year),
        },
    )


@login_required
def report_new(request: HttpRequest) -> HttpResponse:
    member = selectors.member_of(user=request.user)
    if member is None:
        raise PermissionDenied
    threads = [
        t
        for t in Thread.objects.filter(
            pk__in=_ids(request.GET.getlist("thread") or request.POST.getlist("thread"))
        ).select_related("case", "studio")
    ]
    error = ""
    if request.method == "POST":
        try:
            report = services.report_draft(
                author=member,
                title=request.POST.get("title", ""),
                situation=request.POST.get("situation", ""),
                analysis=request.POST.get("analysis", ""),
                suggestion=request.POST.get("suggestion", ""),
                coauthors=list(
                    Member.objects.filter(
                        pk__in=_ids(request.POST.getlist("coauthor")), is_active=True
                    )
                ),
                threads=threads,
            )
            return redirect("studios:report_detail", pk=report.pk)
        except DomainError as exc:
            error = exc.message
    return render(
        request,
        "studios/report_new.html",
        {
            "threads": threads,
            "error": error,
            "post": request.POST,
            "colleagues": member.studio.members.filter(is_active=True).exclude(pk=member.pk),
            "limit": settings.STUDIO_REPORT_MAX_CHARS,
        },
    )


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(Report.objects.prefetch_related("authors", "threads"), pk=pk)
    office = selectors.is_cppcc_office(user=request.user)
    member = selectors.member_of(user=request.user)
    if not office and (member is None or member not in report.authors.all()):
        raise PermissionDenied
    if request.method == "POST" and office:
        act = request.POST.get("act")
        try:
            if act == "edit":
                services.report_edit(
                    report=report,
                    user=_user(request),
                    title=request.POST.get("title", ""),
                    situation=request.POST.get("situation", ""),
                    analysis=request.POST.get("analysis", ""),
                    suggestion=request.POST.get("suggestion", ""),
                )
            elif act == "adopt":
                services.report_adopt(
                    report=report,
                    user=_user(request),
                    level=request.POST.get("level", ""),
                    body=request.POST.get("body", ""),
                )
            elif act == "instruct":
                services.report_instruct(
                    report=report,
                    user=_user(request),
                    leader=request.POST.get("leader", ""),
                    level=request.POST.get("level", ""),
                    text=request.POST.get("text", ""),
                )
        except DomainError as exc:
            refusal_show(request, exc)
        return redirect("studios:report_detail", pk=pk)
    edited = report.edited or {}
    return render(
        request,
        "studios/report_detail.html",
        {
            "report": report,
            "office": office,
            "levels": Level.choices,
            "edited": edited,
            "adoptions": report.adoptions.all(),
            "instructions": report.instructions.all(),
        },
    )


@login_required
def tally_rules(request: HttpRequest) -> HttpResponse:
    """The office's points table and quotas for a year (?year=); the tallies use them."""
    if not selectors.is_cppcc_office(user=request.user):
        raise PermissionDenied
    year = _year(request)
    rules = selectors.tally_rules(year=year)
    values: dict[str, Any] = {name: getattr(rules, name) for name in services.RULES_FIELDS}
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in services.RULES_FIELDS}
        try:
            services.tally_rules_set(year=year, values=request.POST, user=_user(request))
        except DomainError as exc:
            refusal_show(request, exc)
        else:
            messages.success(request, _("已保存%(year)s年度的计分与应报标准。") % {"year": year})
            return redirect(reverse("studios:report_list") + f"?year={year}")
    fields = [(name, TallyRules.label(name), values[name]) for name in services.RULES_FIELDS]
    return render(
        request,
        "studios/tally_rules.html",
        {
            "year": year,
            "fields": fields,
            "own": rules.pk is not None and rules.year == year,
            "from_year": rules.year if rules.pk is not None else None,
            "rules": rules,
            "max": services.RULES_MAX,
        },
    )


@login_required
def tally_xlsx(request: HttpRequest) -> HttpResponse:
    """The annual list of members' reports, adoptions and scores, as XLSX."""
    if not selectors.is_cppcc_office(user=request.user):
        raise PermissionDenied
    from openpyxl import Workbook

    year = _year(request)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = str(year)
    ws.append(
        [
            _("委员"),
            _("界别"),
            _("工作室"),
            _("报送"),
            *[str(lbl) for _v, lbl in Level.choices],
            _("批示"),
            _("得分"),
            _("应报"),
            _("未完成"),
        ]
    )
    for t in selectors.report_tallies(year=year):
        ws.append(
            [
                t.member.name,
                t.member.sector,
                t.member.studio.name,
                t.reports,
                *[t.adoptions.get(v, 0) for v, _l in Level.choices],
                t.instructions,
                t.score,
                t.quota,
                _("是") if t.below_quota else "",
            ]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="reports-{year}.xlsx"'
    return response


def _grouping_context(session: Session) -> dict[str, Any]:
    """The opinion groups of a session's votes, placed for the SVG chart."""
    participants, statements, matrix = selectors.session_matrix(session=session)
    result: grouping.Grouping | None = None
    sparse = ""
    try:
        result = grouping.groups_find(matrix)
    except StudioError as exc:
        sparse = exc.message
    points: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    if result is not None and result.distinct:
        xs, ys = result.coords[:, 0], result.coords[:, 1]
        span_x = float(xs.max() - xs.min()) or 1.0
        span_y = float(ys.max() - ys.min()) or 1.0
        for i, p in enumerate(participants):
            points.append(
                {
                    "x": round(20 + 260 * float((xs[i] - xs.min()) / span_x), 1),
                    "y": round(20 + 160 * float((ys[i] - ys.min()) / span_y), 1),
                    "group": int(result.labels[i]),
                    "kind": p.get_kind_display(),
                }
            )
        for g in range(result.k):
            groups.append(
                {
                    "n": int((result.labels == g).sum()),
                    "label": chr(ord("A") + g),
                    "index": g,
                    "statements": [statements[j] for j in result.representative.get(g, [])],
                }
            )
    return {
        "result": result,
        "sparse": sparse,
        "points": points,
        "groups": groups,
        "consensus": [statements[j] for j in (result.consensus if result else [])],
        "participants": len(participants),
        "statements": statements,
    }


def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A 民生议事堂 session: topic, its opinion groups as a chart, minutes and the
    recommendations with how each is being followed (public once published; the
    office and the studio's head see it before)."""
    session = get_object_or_404(Session.objects.select_related("studio"), pk=pk)
    manager = _session_manager(request, session)
    if not session.published and not manager:
        raise Http404
    recommendations = session.recommendations.select_related("case", "case__owner_unit")
    return render(
        request,
        "studios/session.html",
        {
            "session": session,
            "manager": manager,
            "recommendations": recommendations,
            **_grouping_context(session),
        },
    )


def _session_manager(request: HttpRequest, session: Session) -> bool:
    return selectors.is_cppcc_office(user=request.user) or selectors.is_studio_head(
        user=request.user, studio=session.studio
    )


@login_required
def session_manage(request: HttpRequest, pk: int) -> HttpResponse:
    """The office's (or the studio head's) page of a session: add participants (each
    gets a link to the opinion round), then close the round with the minutes and the
    recommendations, each sent to a unit as a case with a deadline."""
    session = get_object_or_404(Session.objects.select_related("studio"), pk=pk)
    if not _session_manager(request, session):
        raise PermissionDenied
    if request.method == "POST":
        try:
            if request.POST.get("act") == "participant":
                services.participant_add(
                    session=session,
                    name=request.POST.get("name", ""),
                    kind=request.POST.get("kind", ""),
                )
            elif request.POST.get("act") == "conclude":
                recommendations = []
                for unit_id, text in zip(
                    request.POST.getlist("unit"),
                    request.POST.getlist("recommendation"),
                    strict=False,
                ):
                    if text.strip():
                        unit = get_object_or_404(Unit, pk=unit_id or 0, is_active=True)
                        recommendations.append((text, unit))
                services.session_conclude(
                    session=session,
                    user=_user(request),
                    minutes=request.POST.get("minutes", ""),
                    recommendations=recommendations,
                )
                return redirect("studios:session_detail", pk=pk)
        except DomainError as exc:
            refusal_show(request, exc)
        return redirect("studios:session_manage", pk=pk)
    return render(
        request,
        "studios/session_manage.html",
        {
            "session": session,
            "participants": session.participants.order_by("pk"),
            "kinds": ParticipantKind.choices,
            "units": Unit.objects.filter(kind__in=("department", "town_office"), is_active=True),
            "site": settings.SITE_URL,
        },
    )


def session_round(request: HttpRequest, token: str) -> HttpResponse:
    """A participant's page of the opinion round, by their link: post short statements,
    and agree / disagree / pass on the others' (one statement at a time on a phone)."""
    participant = get_object_or_404(
        Participant.objects.select_related("session", "session__studio"), token=token
    )
    session = participant.session
    if request.method == "POST":
        try:
            if request.POST.get("act") == "post":
                services.statement_post(participant=participant, text=request.POST.get("text", ""))
            else:
                statement = get_object_or_404(
                    Statement, pk=request.POST.get("statement") or 0, session=session
                )
                services.vote_cast(
                    participant=participant,
                    statement=statement,
                    value=int(request.POST.get("value", "x")),
                )
        except ValueError:
            refusal_show(request, StudioError(StudioErrorCode.MISSING, field="value"))
        except DomainError as exc:
            refusal_show(request, exc)
        return redirect("studios:session_round", token=token)
    voted = dict(participant.votes.values_list("statement_id", "value"))
    statements = list(session.statements.exclude(author=participant))
    pending = [st for st in statements if st.pk not in voted]
    return render(
        request,
        "studios/session_round.html",
        {
            "session": session,
            "participant": participant,
            "next": pending[0] if pending else None,
            "left": len(pending),
            "done": len(statements) - len(pending),
            "mine": session.statements.filter(author=participant),
            "limit": services.STATEMENT_MAX_CHARS,
        },
    )
