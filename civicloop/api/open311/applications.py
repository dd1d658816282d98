"""A public application as an Open311 (GeoReport v2) service.

Its service definition lists the form's top-level questions that Open311 can carry as
attributes (text, numbers, dates, single and multiple choices), and a POST is checked
by the form exactly as the application's own page and API check it: the attributes
(`attribute[<name>]`) are the answers, `description` fills a question of that name when
the form has one. Questions Open311 cannot carry (photos, points, repeats) cannot be
required of an Open311 client: such a form refuses the request with their names."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _g

from civicloop.core.forms.definition import FormDef, Question
from civicloop.core.forms.models import Application
from civicloop.core.forms.selectors import form_of

DATATYPES = {
    "text": "text",
    "string": "string",
    "integer": "number",
    "decimal": "number",
    "date": "datetime",
    "dateTime": "datetime",
    "time": "string",
    "select one": "singlevaluelist",
    "select all that apply": "multivaluelist",
}


def application_of(code: str) -> Application | None:
    """The enabled application behind an Open311 service code, with a form, or None."""
    return (
        Application.objects.select_related("current_form")
        .filter(code=code, enabled=True, current_form__isnull=False)
        .first()
    )


def _carried(form: FormDef) -> list[Question]:
    out: list[Question] = []

    def walk(questions: tuple[Question, ...]) -> None:
        for q in questions:
            if q.type == "group":
                walk(q.children)
            elif q.type in DATATYPES and not q.is_meta:
                out.append(q)

    walk(form.questions)
    return out


def attributes(application: Application, *, lang: str) -> list[dict[str, Any]]:
    """The service definition's attributes: one per question Open311 can carry."""
    assert application.current_form is not None
    form = form_of(application.current_form)
    out = []
    for order, q in enumerate(_carried(form), start=1):
        item: dict[str, Any] = {
            "variable": True,
            "code": q.name,
            "datatype": DATATYPES[q.type],
            "required": q.required.strip().lower() in ("yes", "true", "true()"),
            "datatype_description": str(form.label(q.hints, lang)) if q.hints else "",
            "order": order,
            "description": str(form.label(q.labels, lang)) if q.labels else q.name,
        }
        if q.choices:
            item["values"] = [
                {"key": c.name, "name": str(form.label(c.labels, lang)) if c.labels else c.name}
                for c in q.choices
            ]
        out.append(item)
    return out


def answers_from_post(application: Application, post: QueryDict) -> dict[str, Any]:
    """The answers an Open311 POST gives: `attribute[<name>]` for each carried question
    (repeated for a multiple choice), `description` for a question named so."""
    assert application.current_form is not None
    form = form_of(application.current_form)
    answers: dict[str, Any] = {}
    for q in _carried(form):
        values = post.getlist(f"attribute[{q.name}]")
        if q.type == "select all that apply":
            if values:
                answers[q.name] = [v for v in values if v]
        elif values and values[0] != "":
            answers[q.name] = values[0]
    if "description" in form.by_name and post.get("description") and "description" not in answers:
        answers["description"] = post["description"]
    return answers


def errors_text(errors: dict[str, str]) -> str:
    """Every failing attribute with its message, for a GeoReport error description."""
    return "；".join(
        _g("%(field)s：%(message)s") % {"field": k, "message": v} for k, v in errors.items()
    )
