"""Template tags of applications defined as data.

`{% submission_answers case %}`: the answers of a case opened through an application,
with the labels of the form version they were made with (the case pages include it;
the pages themselves already checked who may see the case).
`{% has_applications as flag %}`: whether the shell's menu shows "应用"."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from civicloop.core.cases.models import Case
from civicloop.core.forms.selectors import form_of, menu_offers_applications, submission_of
from civicloop.web.forms_render import answers_tree

register = template.Library()


@register.inclusion_tag("web/apps/_answers.html")
def submission_answers(case: Case, show_media: bool = True) -> dict[str, Any]:
    """`show_media`: thumbnails and links (the staff's attachment views); off, a count."""
    submission = submission_of(case)
    if submission is None:
        return {"answer_nodes": []}
    form = form_of(submission.form_version)
    lang = get_language() or "zh-hans"
    return {
        "answer_nodes": answers_tree(form, submission.answers, lang=lang),
        "form_title": form.label(form.title, lang) or submission.form_version.title,
        "form_version": submission.form_version.version,
        "show_media": show_media,
    }


@register.simple_tag(takes_context=True)
def has_applications(context: template.Context) -> bool:
    """Whether the signed-in person may submit to an application shown in the menu,
    computed once per request."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return False
    cached = getattr(request, "_civicloop_has_apps", None)
    if cached is None:
        cached = menu_offers_applications(request.user)
        request._civicloop_has_apps = cached
    return bool(cached)
