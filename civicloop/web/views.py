"""The staff web shell: sign-in, the workbench, the case list and the case page.

Views are thin: parse the request, call one selector or service, render. Every case is
fetched through `access_case_by_number`, so a case the user may not see is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from civicloop.core import registry
from civicloop.core.accounts.login_limits import login_device_remember
from civicloop.core.accounts.models import User
from civicloop.core.areas.selectors import area_by_code
from civicloop.core.attachments.errors import AttachmentError
from civicloop.core.attachments.models import Attachment
from civicloop.core.attachments.responses import attachment_response
from civicloop.core.attachments.services import attachments_create_batch
from civicloop.core.cases import labels
from civicloop.core.cases.access import (
    access_case_by_number,
    cases_visible_to,
    contact_reveal,
    may_see_contact,
)
from civicloop.core.cases.errors import CaseError
from civicloop.core.cases.links import case_came_from
from civicloop.core.cases.models import Case, TimelineEntry
from civicloop.core.cases.selectors import CaseFilters, case_list, case_timeline, workbench_for
from civicloop.core.cases.services import actions_available, transition
from civicloop.core.cases.workflow import Action, Requires
from civicloop.core.units.models import Unit
from civicloop.web.forms import (
    CaseActionForm,
    CaseFilterForm,
    StaffLoginForm,
    unit_choices_grouped,
)

CASES_PER_PAGE = 25

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


def staff_required(view: _View) -> _View:
    """Only staff reach the view: an anonymous visitor is sent to sign in, a citizen
    (signed in by SMS code) to their own pages at /citizen/, never to a staff page."""

    @login_required
    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request.user, "is_citizen", False):
            return redirect("web:citizen_login")
        return view(request, *args, **kwargs)

    return checked  # type: ignore[return-value]


# --------------------------------------------------------------------------- sign-in


class CivicLoginView(LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True
    authentication_form = StaffLoginForm

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        """Signed in: this browser is known to the account from now on, so a stranger's
        failures elsewhere never lock its owner out of it (`accounts.login_limits`)."""
        response = super().form_valid(form)
        login_device_remember(request=self.request, response=response, user=form.get_user())
        return response


class CivicLogoutView(LogoutView):
    """POST only (Django's LogoutView refuses GET)."""


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if getattr(request.user, "is_citizen", False):
        return redirect("web:citizen_cases")
    return redirect("web:workbench")


# --------------------------------------------------------------------------- workbench


@dataclass(frozen=True)
class WorkbenchSection:
    key: str
    title: str
    cases: list[Case]
    count: int
    empty: str
    list_query: str


@staff_required
@require_GET
def workbench(request: HttpRequest) -> HttpResponse:
    bench = workbench_for(user=request.user)
    sections = [
        WorkbenchSection(
            "to_accept",
            _("待受理/待签收"),
            bench.to_accept,
            bench.counts["to_accept"],
            _("没有等待受理或签收的事项。"),
            "mine=on&state=open",
        ),
        WorkbenchSection(
            "due_soon",
            _("即将到期"),
            bench.due_soon,
            bench.counts["due_soon"],
            _("两天内没有到期的事项。"),
            "mine=on&state=open",
        ),
        WorkbenchSection(
            "overdue",
            _("已超期"),
            bench.overdue,
            bench.counts["overdue"],
            _("没有超期事项。"),
            "mine=on&overdue=on",
        ),
        WorkbenchSection(
            "recently_closed",
            _("近期办结"),
            bench.recently_closed,
            bench.counts["recently_closed"],
            _("近30天没有办结的事项。"),
            "",
        ),
    ]
    return render(request, "web/workbench.html", {"sections": sections})


# --------------------------------------------------------------------------- case list


@staff_required
@require_GET
def case_list_view(request: HttpRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    area = area_by_code(data.get("area") or "")
    filters = CaseFilters(
        q=data.get("q", ""),
        channel=data.get("channel", ""),
        state=data.get("state", ""),
        overdue=bool(data.get("overdue")),
        mine=bool(data.get("mine")),
        # An unknown area code narrows to nothing rather than to everything.
        area_path=area.path if area is not None else ("-" if data.get("area") else ""),
        category=data.get("category") or "",
        created_from=data.get("created_from"),
        created_to=data.get("created_to"),
        due_soon=bool(data.get("due_soon")),
        owner_unit=data.get("owner_unit") or "",
        assignee_unit=data.get("assignee_unit") or "",
        person=data.get("person") or "",
    )
    narrowed = [
        (form.fields[name].label, area.name if name == "area" and area else data[name])
        for name in CaseFilterForm.DRILL_FIELDS
        if data.get(name) and name != "due_soon"
    ]
    paginator = Paginator(case_list(user=request.user, filters=filters), CASES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    kept = [(k, v) for k, v in request.GET.items() if k != "page" and v]
    return render(
        request,
        "web/case_list.html",
        {
            "form": form,
            "page": page,
            "query": urlencode(kept),
            "narrowed": narrowed,
            "drill_hidden": [
                (n, request.GET[n]) for n in CaseFilterForm.DRILL_FIELDS if request.GET.get(n)
            ],
        },
    )


# --------------------------------------------------------------------------- case page


@dataclass(frozen=True)
class TimelineRow:
    entry: TimelineEntry
    actor_label: str
    action_label: str
    from_label: str
    to_label: str
    attachments: list[Attachment]


def _timeline_rows(case: Case) -> list[TimelineRow]:
    return [
        TimelineRow(
            entry=entry,
            actor_label=entry.actor_label if entry.actor_id else _("系统"),
            action_label=labels.action_label(case.workflow, entry.action),
            from_label=labels.state_label(case.workflow, entry.from_state),
            to_label=labels.state_label(case.workflow, entry.to_state),
            attachments=list(entry.attachments.all()),
        )
        for entry in case_timeline(case=case)
    ]


def _needs_units(actions: list[Action]) -> bool:
    return any(Requires.UNIT in a.requires for a in actions)


def _case_page(
    request: HttpRequest,
    case: Case,
    *,
    bound: CaseActionForm | None = None,
    revealed: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the case page; `bound` is a refused action form shown with its errors."""
    actions = actions_available(case=case, user=request.user)
    unit_choices = unit_choices_grouped() if _needs_units(actions) else []
    forms = [
        bound
        if bound is not None and bound.action.code == act.code
        else CaseActionForm(act, unit_choices=unit_choices)
        for act in actions
    ]
    # A refused action that is no longer offered (the case moved on): say why at the top.
    page_errors: list[str] = []
    if bound is not None and all(act.code != bound.action.code for act in actions):
        page_errors = [str(e) for errors in bound.errors.values() for e in errors]
    context: dict[str, Any] = {
        "case": case,
        "state_label": labels.state_label(case.workflow, case.state),
        "channel_label": labels.channel_label(case.channel),
        "timeline": _timeline_rows(case),
        "primary_forms": [f for f in forms if f.action.primary],
        "other_forms": [f for f in forms if not f.action.primary],
        "may_see_contact": may_see_contact(request.user, case),
        "revealed": revealed,
        "error_action": bound.action.code if bound is not None else "",
        "module_page": _module_page(case),
        "page_errors": page_errors,
        "came_from": case_came_from(case=case),
    }
    return render(request, "web/case_detail.html", context, status=status)


def _module_page(case: Case) -> tuple[str, str] | None:
    """(url, label) of the module's own page for this case, when its channel has one."""
    try:
        channel = registry.channel(case.channel)
    except registry.RegistryError:
        return None
    if not channel.staff_page:
        return None
    return channel.staff_page.format(number=case.number), str(channel.staff_page_label)


@staff_required
@require_GET
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _case_page(request, access_case_by_number(request.user, number))


@staff_required
@require_POST
def case_contact_reveal(request: HttpRequest, number: str) -> HttpResponse:
    """Show the unmasked contact once; every reveal is logged (PersonalDataAccess)."""
    case = access_case_by_number(request.user, number)
    try:
        revealed = contact_reveal(user=request.user, case=case, purpose="web:case_detail")
    except PermissionError:
        raise PermissionDenied from None
    return _case_page(request, case, revealed=revealed)


def _action_of(case: Case, code: str) -> Action:
    try:
        return registry.workflow(case.workflow).action(code)
    except KeyError:
        raise Http404("no such action") from None


@staff_required
@require_POST
def case_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Take one workflow action. A refusal re-renders the case page with the field
    marked; success redirects (POST/redirect/GET), so a reload posts nothing again."""
    case = access_case_by_number(request.user, number)
    act = _action_of(case, action)
    actor = request.user
    assert isinstance(actor, User)  # staff_required
    form = CaseActionForm(
        act,
        request.POST,
        request.FILES,
        unit_choices=unit_choices_grouped() if Requires.UNIT in act.requires else None,
    )
    if not form.is_valid():
        return _case_page(request, case, bound=form, status=400)
    data = form.cleaned_data
    key: str = data["idempotency_key"]
    unit = None
    if data.get("unit"):
        unit = Unit.objects.filter(pk=data["unit"], is_active=True).first()
    merge_into = None
    if data.get("merge_into"):
        merge_into = cases_visible_to(request.user).filter(number=data["merge_into"]).first()
        if merge_into is None:
            form.mark_error("merge_into", _("找不到该事项编号。"))
            return _case_page(request, case, bound=form, status=400)
    already_done = TimelineEntry.objects.filter(case=case, data__idempotency_key=key).exists()
    photos = [] if already_done else data.get("photos") or []
    try:
        attachments = attachments_create_batch(
            uploads=photos, uploaded_by=actor, allowed_kinds=frozenset({"photo"})
        )
        transition(
            case=case,
            action=act.code,
            actor=actor,
            note=data.get("note", ""),
            unit=unit,
            grade=data.get("grade", ""),
            rating=data.get("rating", ""),
            due_at=data.get("due_at"),
            merge_into=merge_into,
            attachments=attachments,
            idempotency_key=key,
        )
    except AttachmentError as err:
        form.mark_error("photos", err.message)
        return _case_page(request, case, bound=form, status=400)
    except CaseError as err:
        form.mark_error(err.field, err.message)
        return _case_page(request, case, bound=form, status=400)
    messages.success(request, _("已完成：%(action)s") % {"action": act.label})
    return redirect("web:case_detail", number=case.number)


# --------------------------------------------------------------------------- attachments


def _attachment_visible(request: HttpRequest, pk: UUID) -> Attachment:
    """An attachment the user may see: one referenced by the timeline of a case they may
    see. Anything else is a 404, whether or not it exists."""
    attachment = Attachment.objects.filter(pk=pk).first()
    if attachment is None or not (
        cases_visible_to(request.user).filter(timeline__attachments=attachment).exists()
    ):
        raise Http404("attachment not found")
    return attachment


@staff_required
@require_GET
def attachment_file(request: HttpRequest, pk: UUID) -> FileResponse:
    return attachment_response(_attachment_visible(request, pk))


@staff_required
@require_GET
def attachment_thumbnail(request: HttpRequest, pk: UUID) -> FileResponse:
    return attachment_response(_attachment_visible(request, pk), thumbnail=True)
