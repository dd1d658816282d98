"""Every public opinion followed to an answer (浙江 2025 参与式预算审查指引: 意见有回应):
the public list of every proposal and every plenary question with its answer, one
proposal's own page (where its proposer follows it), and the staff's follow-up page that
lists what is still unanswered, records the small groups' questions and their answers."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from civicloop.budgeting import selectors, services
from civicloop.budgeting.errors import BudgetError
from civicloop.budgeting.forms import PlenaryAnswerForm, PlenaryQuestionForm
from civicloop.budgeting.models import BudgetProcess, Phase
from civicloop.budgeting.views import _int, _process_or_404, _staff_page, _staff_process
from civicloop.core.errors import DomainError, refusal_show


@require_GET
def answers_view(request: HttpRequest, code: str) -> HttpResponse:
    """Public: every proposal with what became of it (accepted, screened out with the
    reason, merged into another) and every plenary question with the expert's answer."""
    process = _process_or_404(code)
    return render(
        request,
        "budgeting/answers.html",
        {
            "process": process,
            "counts": selectors.opinion_counts(process),
            "projects": list(selectors.projects_with_answers(process)),
            "questions": list(selectors.plenary_questions(process)),
        },
    )


@require_GET
def project_view(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """Public: one proposal, its screening answer, and the plenary questions about it."""
    process = _process_or_404(code)
    try:
        project = selectors.project_public(process, pk)
    except BudgetError:
        raise Http404("no such project") from None
    return render(
        request,
        "budgeting/project.html",
        {
            "process": process,
            "project": project,
            "merged": list(project.merged.order_by("pk")),
            "questions": list(selectors.plenary_questions(process).filter(project=project)),
        },
    )


@_staff_page
@require_http_methods(["GET", "POST"])
def followup_view(request: HttpRequest, code: str) -> HttpResponse:
    """Staff: what is still unanswered (proposals not screened, plenary questions without
    an answer), with counts; record a group's question; record an answer."""
    process = _staff_process(request, code)
    ask_form, answer_form = PlenaryQuestionForm(), PlenaryAnswerForm()
    answering = None
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op == "ask":
                ask_form = PlenaryQuestionForm(request.POST)
                if ask_form.is_valid():
                    services.plenary_question_ask(
                        process=process,
                        text=ask_form.cleaned_data["text"],
                        group=process.groups.filter(
                            pk=_int(request.POST.get("group")) or 0
                        ).first(),
                        project=process.projects.filter(
                            pk=_int(request.POST.get("project")) or 0
                        ).first(),
                    )
                    messages.success(request, _("问题已记录。"))
                    return redirect("budgeting:followup", code=code)
            elif op == "answer":
                answering = process.plenary_questions.filter(
                    pk=_int(request.POST.get("question")) or 0
                ).first()
                if answering is None:
                    raise Http404("no such question")
                answer_form = PlenaryAnswerForm(request.POST)
                if answer_form.is_valid():
                    services.plenary_question_answer(
                        question=answering,
                        answer=answer_form.cleaned_data["answer"],
                        answered_by=answer_form.cleaned_data["answered_by"],
                    )
                    messages.success(request, _("答复已记录，已向公众公开。"))
                    return redirect("budgeting:followup", code=code)
            else:
                raise Http404("unknown step")
        except DomainError as exc:
            refusal_show(request, exc, form=ask_form if op == "ask" else answer_form)
            return _followup_page(request, process, ask_form, answer_form, answering, exc.status)
        return _followup_page(request, process, ask_form, answer_form, answering, 400)
    return _followup_page(request, process, ask_form, answer_form, answering, 200)


def _followup_page(
    request: HttpRequest,
    process: BudgetProcess,
    ask_form: PlenaryQuestionForm,
    answer_form: PlenaryAnswerForm,
    answering: object,
    status: int,
) -> HttpResponse:
    questions = list(selectors.plenary_questions(process))
    return render(
        request,
        "budgeting/followup.html",
        {
            "process": process,
            "counts": selectors.opinion_counts(process),
            "unscreened": list(selectors.projects_unanswered(process)),
            "unanswered": [q for q in questions if not q.answer],
            "answered": [q for q in questions if q.answer],
            "can_ask": process.phase == Phase.DELIBERATION,
            "groups": list(process.groups.order_by("number")),
            "projects": list(selectors.projects_accepted(process)),
            "ask_form": ask_form,
            "answer_form": answer_form,
            "answering": answering,
        },
        status=status,
    )
