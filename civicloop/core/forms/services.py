"""Changes to applications: importing an XLSForm (a new form version), and a
submission, which opens a case on the application's channel with its answers."""

from __future__ import annotations

import hashlib
import itertools
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from civicloop.core.areas.models import Area
from civicloop.core.areas.services import area_nearest
from civicloop.core.attachments.models import Attachment
from civicloop.core.attachments.services import attachments_create_batch
from civicloop.core.cases.services import CaseDraft, case_submit
from civicloop.core.forms.errors import FormError, FormErrorCode
from civicloop.core.forms.models import (
    Application,
    FormVersion,
    OwnerRule,
    Submission,
)
from civicloop.core.forms.selectors import (
    application_may_submit,
    application_open_in,
    application_takes_api,
    form_of,
    submitter_unit,
)
from civicloop.core.forms.workflow_data import application_code_check
from civicloop.core.units.models import Unit
from civicloop.core.units.selectors import unit_for_area

if TYPE_CHECKING:
    from civicloop.core.accounts.models import ApiKey, User
    from civicloop.core.cases.models import Case
    from civicloop.core.forms.definition import FormDef, Question

# Which attachment kind each media question takes.
MEDIA_KINDS = {"image": "photo", "audio": "voice", "file": "document"}
BODY_MAX_CHARS = 5000


# --------------------------------------------------------------------------- import


def _number_prefix(code: str) -> str:
    """Initials of the code's words, upper case (visit_register → VR), at least two."""
    words = [w for w in code.split("_") if w]
    prefix = "".join(w[0] for w in words).upper()
    if len(prefix) < 2:
        prefix = code[:2].upper()
    return prefix[:6]


def application_import_xlsform(
    *, code: str, data: bytes, filename: str, actor: User | None = None
) -> tuple[Application, FormVersion, bool]:
    """Convert an XLSForm and make it the application's current form: a new version,
    or the current one when the same file is uploaded again (created False).

    An application that does not exist yet is created and enabled with the defaults:
    the generic closed loop, owned by the town office of the submission's area or of the
    submitter's unit, open to staff and API keys, not public. pyxform's refusal (or our
    checks') is raised as FormError(BAD_FORM) naming the sheet and row; nothing is
    written then."""
    from civicloop.core.forms.convert import convert_xlsform

    app = Application.objects.filter(code=code).first()
    if app is None:
        application_code_check(code)
    converted = convert_xlsform(data, filename)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        if app is None:
            app = Application.objects.create(
                code=code,
                name=(converted.title or code)[:100],
                number_prefix=_number_prefix(code),
            )
        else:
            app = Application.objects.select_for_update().get(pk=app.pk)
        current = app.current_form
        if current is not None and current.sha256 == digest:
            return app, current, False
        last = app.form_versions.aggregate(n=Max("version"))["n"] or 0
        version = FormVersion.objects.create(
            application=app,
            version=last + 1,
            title=(converted.title or app.name)[:200],
            form_id=str(converted.form_id or "")[:100],
            xlsform_version=str(converted.version or "")[:100],
            definition=converted.definition,
            source=data,
            source_name=filename[:255],
            sha256=digest,
            uploaded_by=actor,
        )
        app.current_form = version
        app.save()
    return app, version, True


# --------------------------------------------------------------------------- submit


def _key_parts(key: str) -> list[str | int]:
    """`rep[0].name` → ["rep", 0, "name"]."""
    parts: list[str | int] = []
    for piece in key.split("."):
        match = re.fullmatch(r"([^\[\]]+)((?:\[\d+\])*)", piece)
        if not match:
            raise FormError(FormErrorCode.INVALID_ANSWERS, errors={key: str(_("无法识别的字段。"))})
        parts.append(match.group(1))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    return parts


def answers_set(answers: dict[str, Any], key: str, value: Any) -> None:
    """Set the answer at a field key (`name`, `rep[1].name`), creating repeat rows."""
    parts = _key_parts(key)
    node: Any = answers
    for here, after in itertools.pairwise(parts):
        if isinstance(here, int):
            while len(node) <= here:
                node.append({})
            node = node[here]
        else:
            default: Any = [] if isinstance(after, int) else {}
            if not isinstance(node.get(here), type(default)):
                node[here] = default
            node = node[here]
    last = parts[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
    node[last] = value


def _media_keys(form: FormDef, answers: Mapping[str, Any]) -> dict[str, Question]:
    """Field key → question of every media answer present in `answers` (any depth)."""
    out: dict[str, Question] = {}

    def walk(questions: Sequence[Question], values: Mapping[str, Any], prefix: str) -> None:
        for q in questions:
            if q.type == "group":
                walk(q.children, values, prefix)
            elif q.type == "repeat":
                rows = values.get(q.name)
                if isinstance(rows, list):
                    for i, row in enumerate(rows):
                        if isinstance(row, Mapping):
                            walk(q.children, row, f"{prefix}{q.name}[{i}].")
            elif q.is_media and values.get(q.name) not in (None, "", []):
                out[f"{prefix}{q.name}"] = q

    walk(form.questions, answers, "")
    return out


def _answers_with_uploads(
    form: FormDef, answers: Mapping[str, Any], files: Mapping[str, Sequence[UploadedFile]]
) -> dict[str, Any]:
    """The answers with a placeholder (`upload:<key>:<i>`) for each uploaded file, so
    the form is checked before anything is stored."""
    out: dict[str, Any] = _deep_copy(answers)
    for key, uploads in files.items():
        if uploads:
            answers_set(out, key, [f"upload:{key}:{i}" for i in range(len(uploads))])
    return out


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_deep_copy(v) for v in value]
    return value


def _store_uploads(
    form: FormDef,
    answers: dict[str, Any],
    files: Mapping[str, Sequence[UploadedFile]],
    *,
    user: User | None,
) -> list[Attachment]:
    """Store each upload (checked by content, as its question's kind) and put its id in
    place of its placeholder. Media answers that name attachments by id (the API) must
    name stored ones."""
    stored: list[Attachment] = []
    for key, question in _media_keys(form, answers).items():
        values = _get(answers, key)
        values = values if isinstance(values, list) else [values]
        uploads = list(files.get(key, ()))
        kind = MEDIA_KINDS.get(question.type, "photo")
        new = (
            attachments_create_batch(
                uploads=uploads, uploaded_by=user, allowed_kinds=frozenset({kind})
            )
            if uploads
            else []
        )
        ids: list[str] = []
        fresh = iter(new)
        for value in values:
            if isinstance(value, str) and value.startswith("upload:"):
                attachment = next(fresh)
            else:
                attachment = _existing_attachment(value, key=key, kind=kind)
            stored.append(attachment)
            ids.append(str(attachment.pk))
        answers_set(answers, key, ids)
    return stored


def _existing_attachment(value: Any, *, key: str, kind: str) -> Attachment:
    try:
        pk = uuid.UUID(str(value))
    except ValueError:
        attachment = None
    else:
        attachment = Attachment.objects.filter(pk=pk, kind=kind).first()
    if attachment is None:
        raise FormError(
            FormErrorCode.INVALID_ANSWERS, errors={key: str(_("附件不存在，请重新上传。"))}
        )
    return attachment


def _get(answers: Mapping[str, Any], key: str) -> Any:
    node: Any = answers
    for part in _key_parts(key):
        node = node[part]
    return node


def _display(form: FormDef, q: Question, value: Any, lang: str) -> str:
    if q.choices and value not in (None, ""):
        names = value if isinstance(value, list) else [value]
        labels = {c.name: form.label(c, lang) or c.name for c in q.choices}
        return "、".join(labels.get(str(n), str(n)) for n in names)
    if q.is_media:
        count = len(value) if isinstance(value, list) else 1
        return str(_("%(count)d 个附件") % {"count": count})
    if isinstance(value, Decimal | int | float):
        return str(value)
    return str(value)


def answers_summary(form: FormDef, answers: Mapping[str, Any], *, lang: str = "zh-hans") -> str:
    """The answers as plain text, one "label：value" line each (the case's body, read
    by handlers, SMS and search). Repeat rows are numbered."""
    lines: list[str] = []

    def walk(questions: Sequence[Question], values: Mapping[str, Any], indent: str) -> None:
        for q in questions:
            label = form.label(q, lang) or q.name
            if q.type == "group":
                walk(q.children, values, indent)
            elif q.type == "repeat":
                rows = values.get(q.name) or []
                for i, row in enumerate(rows if isinstance(rows, list) else []):
                    lines.append(f"{indent}{label} {i + 1}")
                    if isinstance(row, Mapping):
                        walk(q.children, row, indent + "  ")
            elif q.type in ("note", "calculate") or q.name not in values:
                continue
            elif values[q.name] not in (None, "", []):
                lines.append(f"{indent}{label}：{_display(form, q, values[q.name], lang)}")

    walk(form.questions, answers, "")
    return "\n".join(lines)[:BODY_MAX_CHARS]


def _title(
    form: FormDef, application: Application, answers: Mapping[str, Any], now: datetime
) -> str:
    """The instance name the form defines (settings `instance_name`), else the first
    text answer, else the application's name and the date."""
    if form.instance_name:
        from civicloop.core.forms.evaluate import expression_value

        try:
            title = expression_value(form, form.instance_name, answers, now=now)
        except FormError:
            title = ""
        if title.strip():
            return title.strip()[:200]
    for q in form.walk():
        if q.type == "text" and q.repeat == "" and str(answers.get(q.name) or "").strip():
            return str(answers[q.name]).strip()[:200]
    return f"{application.name} {timezone.localdate(now):%Y-%m-%d}"


def _owner(
    application: Application,
    *,
    area: Area | None,
    unit: Unit | None,
    submitter: User | None,
) -> Unit:
    rule = application.owner_rule
    kinds = tuple(application.owner_unit_kinds or ("town_office",))
    if rule == OwnerRule.CHOSEN_UNIT:
        if unit is None or not application.owner_units.filter(pk=unit.pk).exists():
            raise FormError(FormErrorCode.UNROUTABLE, _("请选择受理单位。"), field="unit")
        return unit
    if rule in (OwnerRule.AREA, OwnerRule.AREA_OR_SUBMITTER) and area is not None:
        found = unit_for_area(area=area, kinds=kinds)
        if found is not None:
            return found
    if rule in (OwnerRule.SUBMITTER_UNIT, OwnerRule.AREA_OR_SUBMITTER) and submitter is not None:
        pk = submitter_unit(submitter, application)
        if pk is not None:
            return Unit.objects.select_related("area").get(pk=pk)
    raise FormError(FormErrorCode.UNROUTABLE, field="area")


def submission_create(
    *,
    application: Application,
    answers: Mapping[str, Any],
    files: Mapping[str, Sequence[UploadedFile]] | None = None,
    submitter: User | None = None,
    api_key: ApiKey | None = None,
    area: Area | None = None,
    lat: Decimal | None = None,
    lng: Decimal | None = None,
    unit: Unit | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    source: str = "web",
    submission_key: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Open a case on the application's channel from a submission.

    Guarantees:
    - the submitter (or API key) may submit to the enabled application, in the town
      where the submission is;
    - the answers are checked whole by the form's rules (`evaluate`, strict): a
      failure raises FormError(INVALID_ANSWERS) naming every failing field, before any
      file is stored or row written; answers to questions that are not relevant are
      dropped, calculations are the server's;
    - the case, its Submission (answers encrypted, with the form version) and the
      attachments' links commit together (`case_submit`'s guarantees hold);
    - the same `submission_key` twice returns the first case."""
    from civicloop.core.forms.evaluate import evaluate

    now = now or timezone.now()
    if not application.enabled:
        raise FormError(FormErrorCode.DISABLED)
    if api_key is not None:
        if not application_takes_api(application):
            raise FormError(FormErrorCode.FORBIDDEN)
    elif not application_may_submit(submitter, application):
        raise FormError(FormErrorCode.FORBIDDEN)
    version = application.current_form
    if version is None:
        raise FormError(FormErrorCode.NO_FORM)
    if submission_key:
        existing = Submission.objects.filter(case__submission_key=submission_key).first()
        if existing is not None:
            return existing.case
    form = form_of(version)
    files = files or {}
    if area is None and lat is not None and lng is not None:
        area = area_nearest(lat=float(lat), lng=float(lng))
        if area is None:
            raise FormError(FormErrorCode.UNROUTABLE, _("所在位置不在本市范围内。"), field="lat")
    checked = evaluate(form, _answers_with_uploads(form, answers, files), now=now, strict=True)
    if not checked.ok:
        raise FormError(FormErrorCode.INVALID_ANSWERS, errors=checked.errors)
    if area is None and application.area_question:
        answered = checked.answers.get(application.area_question)
        if answered:
            area = Area.objects.filter(code=str(answered)).first()
    owner = _owner(application, area=area, unit=unit, submitter=submitter)
    case_area = area or owner.area
    if not application_open_in(application, case_area):
        raise FormError(FormErrorCode.DISABLED, _("该应用未在此镇街启用。"), field="area")
    clean: dict[str, Any] = _deep_copy(checked.answers)
    with transaction.atomic():
        stored = _store_uploads(form, clean, files, user=submitter)
        case = case_submit(
            draft=CaseDraft(
                channel=application.code,
                title=_title(form, application, clean, now),
                body=answers_summary(form, clean) or application.name,
                area=case_area,
                lat=lat,
                lng=lng,
                submitter=submitter,
                owner_unit=owner,
                contact_name=contact_name,
                contact_phone=contact_phone,
                attachments=stored,
                submission_key=submission_key,
                source=source,
                data={"app": application.code, "form_version": version.version},
            ),
            now=now,
        )
        submission = Submission.objects.create(
            case=case,
            application=application,
            form_version=version,
            answers=clean,
            created_at=now,
        )
        if stored:
            submission.attachments.add(*stored)
    return case


def language() -> str:
    return get_language() or "zh-hans"
