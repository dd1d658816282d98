"""Pages of 代表建议: the list (我的建议 / 待办), the draft form, one suggestion with the
forms its reader may fill in, the yearly figures and the public answers. Views parse,
call one service or selector, and render; every refusal is shown on the page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicloop.core.accounts.models import User
from civicloop.core.attachments.errors import AttachmentError
from civicloop.core.attachments.models import Attachment
from civicloop.core.attachments.services import attachments_create_batch
from civicloop.core.cases.labels import action_label, channel_label, state_label
from civicloop.core.cases.models import Rating
from civicloop.core.cases.selectors import case_timeline
from civicloop.core.units.models import Unit
from civicloop.suggestions import forms
from civicloop.suggestions import workflow as wf
from civicloop.suggestions.errors import SuggestionError
from civicloop.suggestions.hooks import SUGGESTION
from civicloop.suggestions.models import AnswerCategory, ContactMethod, SessionKind
from civicloop.suggestions.selectors import (
    access_suggestion_by_number,
    assign_unit_choices,
    assist_suggestion_number,
    figures_areas_for,
    figures_scope_ok,
    opinion_choices,
    public_answers,
    suggestion_figures,
    suggestion_sections,
    suggestion_view,
)
from civicloop.suggestions.services import (
    SuggestionDraft,
    deputy_choices,
    is_deputy,
    suggestion_answer,
    suggestion_assign,
    suggestion_contact_record,
    suggestion_cosign,
    suggestion_cosigner_remove,
    suggestion_draft,
    suggestion_evaluate,
    suggestion_key_mark,
    suggestion_publish_consent_set,
    suggestion_review,
    suggestion_submit,
    suggestion_views_send,
    suggestion_withdraw,
)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required
    return user


def _name(user: User) -> str:
    # Deputies are public figures: their names are shown in full.
    return user.full_name or user.username


@login_required
@require_GET
def suggestion_list_view(request: HttpRequest) -> HttpResponse:
    sections = suggestion_sections(user=request.user)
    if not sections:
        raise PermissionDenied
    rows = {
        s.key: [
            {"s": row, "state_label": state_label(wf.SUGGESTION_FLOW.code, row.case.state)}
            for row in s.rows
        ]
        for s in sections
    }
    return render(
        request,
        "suggestions/list.html",
        {
            "sections": [(s, rows[s.key]) for s in sections],
            "may_draft": is_deputy(request.user),
        },
    )


def _draft_form(request: HttpRequest, data: Any = None) -> forms.DraftForm:
    user = _user(request)
    return forms.DraftForm(
        data,
        cosigner_choices=[(u.pk, _name(u)) for u in deputy_choices(exclude=user)],
        opinion_choices=[
            (c.number, f"{c.number} {c.title}（{channel_label(c.channel)}）")
            for c in opinion_choices(user=user)
        ],
        initial={"opinions": request.GET.getlist("from")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def suggestion_new_view(request: HttpRequest) -> HttpResponse:
    """A deputy drafts a suggestion: co-signers, the opinions it comes from."""
    if not is_deputy(request.user):
        raise PermissionDenied
    form = _draft_form(request, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                s = suggestion_draft(
                    deputy=_user(request),
                    draft=SuggestionDraft(
                        title=data["title"],
                        body=data["body"],
                        category=data["category"],
                        session_kind=data["session_kind"],
                        cosigner_ids=data["cosigners"],
                        opinion_numbers=data["opinions"],
                        publish_consent=data["publish_consent"],
                    ),
                )
            except SuggestionError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("建议草稿已保存。附议代表确认后即可提交。"))
                return redirect("suggestions:detail", number=s.case.number)
        status = 400
    return render(request, "suggestions/new.html", {"form": form}, status=status)


def _detail(
    request: HttpRequest, number: str, *, error: str = "", error_form: str = "", status: int = 200
) -> HttpResponse:
    s = access_suggestion_by_number(request.user, number)
    view = suggestion_view(user=request.user, suggestion=s)
    case = s.case
    timeline = [
        {
            "entry": e,
            "label": action_label(case.workflow, e.action),
            "to": state_label(case.workflow, e.to_state),
            "attachments": list(e.attachments.all()),
        }
        for e in case_timeline(case=case)
    ]
    return render(
        request,
        "suggestions/detail.html",
        {
            "s": s,
            "case": case,
            "v": view,
            "state_label": state_label(case.workflow, case.state),
            "category_label": dict(SUGGESTION.categories).get(case.category, ""),
            "came_from": [
                {"case": c, "state": state_label(c.workflow, c.state)} for c in view.came_from
            ],
            "timeline": timeline,
            "unit_choices": assign_unit_choices() if "assign" in view.forms else [],
            "answer_categories": AnswerCategory.choices,
            "contact_methods": ContactMethod.choices,
            "ratings": Rating.choices,
            "today": timezone.localdate().isoformat(),
            "deputy_name": _name(s.deputy),
            "error": error,
            "error_form": error_form,
            "posted": request.POST.dict() if request.method == "POST" else {},
        },
        status=status,
    )


@login_required
@require_GET
def suggestion_detail_view(request: HttpRequest, number: str) -> HttpResponse:
    parent = assist_suggestion_number(request.user, number)
    if parent is not None:
        # An assisting unit's own case: its part is done on the suggestion's page.
        return redirect("suggestions:detail", number=parent)
    return _detail(request, number)


ANSWER_FILE_KINDS = frozenset({Attachment.Kind.PHOTO, Attachment.Kind.DOCUMENT})
ACTIONS = (
    "cosign",
    "uncosign",
    "submit",
    "withdraw",
    "review",
    "assign",
    "key",
    "views",
    "contact",
    "answer",
    "evaluate",
    "consent",
)


@login_required
@require_POST
def suggestion_act_view(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Take one step; a refusal shows the page again with the reason at the form."""
    if action not in ACTIONS:
        raise Http404("no such action")
    s = access_suggestion_by_number(request.user, number)
    user = _user(request)
    post = request.POST
    try:
        done = _act(s, user, action, post, request.FILES.getlist("files"))
    except (SuggestionError, AttachmentError) as exc:
        return _detail(request, number, error=exc.message, error_form=action, status=exc.status)
    except _BadForm:
        return _detail(
            request,
            number,
            error=_("填写的内容有误，请检查后重试。"),
            error_form=action,
            status=400,
        )
    messages.success(request, done)
    return redirect("suggestions:detail", number=number)


class _BadForm(Exception):
    pass


def _valid(form: Any) -> dict[str, Any]:
    if not form.is_valid():
        raise _BadForm
    data: dict[str, Any] = form.cleaned_data
    return data


def _act(s: Any, user: User, action: str, post: Any, uploads: list[Any]) -> str:
    if action == "cosign":
        data = _valid(forms.CosignForm(post))
        suggestion_cosign(suggestion=s, deputy=user, agree=data["agree"] == "yes")
        return _("已确认附议。") if data["agree"] == "yes" else _("已谢绝附议。")
    if action == "uncosign":
        data = _valid(forms.UncosignForm(post))
        suggestion_cosigner_remove(suggestion=s, actor=user, cosigner_id=data["cosigner"])
        return _("已取消附议邀请。")
    if action == "submit":
        suggestion_submit(suggestion=s, actor=user)
        return _("建议已提交代表工委审查。")
    if action == "withdraw":
        suggestion_withdraw(suggestion=s, actor=user)
        return _("建议已撤回。")
    if action == "review":
        data = _valid(forms.ReviewForm(post))
        suggestion_review(
            suggestion=s, actor=user, accept=data["decision"] == "accept", note=data["note"]
        )
        return _("审查通过。") if data["decision"] == "accept" else _("建议已退回。")
    if action == "assign":
        ids = [pk for _label, rows in assign_unit_choices() for pk, _name in rows]
        data = _valid(forms.AssignForm(post, unit_ids=ids))
        lead = Unit.objects.filter(pk=data["lead"], pk__in=ids).first() if data["lead"] else None
        units = {u.pk: u for u in Unit.objects.filter(pk__in=data["assisting"])}
        suggestion_assign(
            suggestion=s,
            actor=user,
            lead=lead,
            assisting=[units[i] for i in data["assisting"] if i in units],
            hard=data["hard"],
            note=data["note"],
        )
        return _("已交办。")
    if action == "key":
        data = _valid(forms.KeyForm(post))
        suggestion_key_mark(suggestion=s, actor=user, leader=data["leader"])
        return _("已列为重点督办建议。")
    if action == "views":
        data = _valid(forms.ViewsForm(post))
        unit = Unit.objects.filter(pk=data["unit"]).first()
        if unit is None:
            raise _BadForm
        suggestion_views_send(suggestion=s, actor=user, unit=unit, views=data["views"])
        return _("协办意见已送主办单位。")
    if action == "contact":
        data = _valid(forms.ContactForm(post))
        suggestion_contact_record(
            suggestion=s,
            actor=user,
            method=data["method"],
            contacted_on=data["contacted_on"],
            note=data["note"],
        )
        return _("沟通情况已记录。")
    if action == "answer":
        data = _valid(forms.AnswerForm(post))
        # The answer letter (PDF, Word) or photos, checked by their content.
        with transaction.atomic():
            files = attachments_create_batch(
                uploads=uploads, uploaded_by=user, allowed_kinds=ANSWER_FILE_KINDS
            )
            suggestion_answer(
                suggestion=s,
                actor=user,
                category=data["category"],
                text=data["text"],
                attachments=files,
            )
        return _("已书面答复，等待代表评价。")
    if action == "evaluate":
        data = _valid(forms.EvaluateForm(post))
        suggestion_evaluate(
            suggestion=s, actor=user, rating=data["rating"], comment=data["comment"]
        )
        return _("评价已提交。")
    data = _valid(forms.ConsentForm(post))
    suggestion_publish_consent_set(suggestion=s, actor=user, consent=data["consent"])
    return _("已更新公开设置。")


@login_required
@require_GET
def figures_view(request: HttpRequest) -> HttpResponse:
    """The year's figures for the 代表工委 and leaders."""
    if not figures_scope_ok(request.user):
        raise PermissionDenied
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    f = suggestion_figures(year=year, area_paths=figures_areas_for(request.user))
    return render(
        request,
        "suggestions/figures.html",
        {
            "f": f,
            "year": year,
            "states": [
                (str(st.label), f.by_state.get(st.code, 0))
                for st in wf.SUGGESTION_FLOW.states
                if st.code != wf.DRAFTED
            ],
            "categories": [
                (code, str(label), f.categories[code], f.category_shares[code])
                for code, label in AnswerCategory.choices
            ],
            "ratings": [(str(label), f.ratings[code]) for code, label in Rating.choices],
            "session_kinds": SessionKind.choices,
        },
    )


@require_GET
def public_answers_view(request: HttpRequest) -> HttpResponse:
    """Answers the deputies agreed to publish (no login)."""
    rows = list(public_answers()[:100].prefetch_related("answers__unit"))
    return render(
        request,
        "suggestions/public.html",
        {
            "rows": [
                {
                    "s": s,
                    "answer": max(s.answers.all(), key=lambda a: a.round),
                    "deputy": _name(s.deputy),
                }
                for s in rows
            ]
        },
    )
