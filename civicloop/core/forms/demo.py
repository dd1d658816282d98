"""Applications defined only as data, loaded by `manage.py load_demo`.

Each is an XLSForm file and a workflow JSON in a package's `data/` folder, loaded through
the same services an administrator's upload uses; nothing here is code of the
application. Core ships 议事协商会 (a village deliberation meeting; each decision is followed
as a case of 议事决定落实 with its deadline); modules ship their own (民意 ships
代表联系群众活动登记)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from civicloop.core.forms.models import Application, OwnerRule, Submitter
from civicloop.core.forms.services import application_import_xlsform
from civicloop.core.forms.workflow_data import workflow_definition_save

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class DemoApplication:
    """An application of the demo: its code, name, form and workflow files, and the
    settings an administrator would choose in the admin."""

    code: str
    name: str
    name_en: str = ""
    xlsform: Path | None = None
    workflow: Path | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)


def demo_application_load(spec: DemoApplication, log: Callable[[str], None]) -> Application:
    """Create or confirm the application: the workflow definition (a new version only if
    the file changed), the form (likewise) and its settings. Idempotent."""
    with transaction.atomic():
        workflow = "generic_loop"
        if spec.workflow is not None:
            definition = json.loads(spec.workflow.read_text(encoding="utf-8"))
            saved = workflow_definition_save(
                code=spec.code, label=definition.get("label", spec.name), definition=definition
            )
            workflow = saved.code
        if spec.xlsform is not None:
            app, version, created = application_import_xlsform(
                code=spec.code, data=spec.xlsform.read_bytes(), filename=spec.xlsform.name
            )
            log(f"app {spec.code}: form version {version.version}{'' if created else ' (present)'}")
        else:
            app, _created = Application.objects.get_or_create(
                code=spec.code,
                defaults={"name": spec.name, "number_prefix": spec.code[:2].upper()},
            )
            log(f"app {spec.code}: present")
        app.name = spec.name
        app.name_en = spec.name_en
        app.workflow = workflow
        for key, value in spec.settings.items():
            setattr(app, key, value)
        app.save()
    return app


DECISION_FOLLOWUP = DemoApplication(
    code="decision_followup",
    name="议事决定落实",
    name_en="Follow-up of decisions",
    settings={
        "description": "议事协商会议定事项逐项跟踪落实，按落实期限计时。",
        "number_prefix": "YJ",
        "submitters": [],
        "show_in_menu": False,
        "owner_rule": OwnerRule.AREA,
    },
)
DELIBERATION = DemoApplication(
    code="deliberation",
    name="议事协商会",
    name_en="Village deliberation meeting",
    xlsform=DATA / "deliberation.xlsx",
    workflow=DATA / "deliberation.workflow.json",
    settings={
        "description": "村（社区）议事协商会登记：议题、参会人员、会议记录和议定事项，议定事项逐项交办落实。",
        "number_prefix": "YS",
        "submitters": [Submitter.STAFF.value, Submitter.API.value],
        "owner_rule": OwnerRule.AREA_OR_SUBMITTER,
        "owner_unit_kinds": ["town_office"],
        "area_question": "village",
        "show_in_menu": True,
        "show_in_cockpit": True,
    },
)


def demo_forms_load(log: Callable[[str], None] = lambda _m: None) -> None:
    """Core's applications of the demo (before any module's, which may use them)."""
    demo_application_load(DECISION_FOLLOWUP, log)
    demo_application_load(DELIBERATION, log)


def demo_meeting_load(log: Callable[[str], None]) -> None:
    """One 议事协商会 of 牧屿村 recorded by the 泽国镇 clerk and confirmed by the town office,
    so its two decisions are open cases with their deadlines. Once only."""
    from datetime import timedelta

    from django.utils import timezone

    from civicloop.core.accounts.models import User
    from civicloop.core.cases.models import Case
    from civicloop.core.cases.services import transition
    from civicloop.core.forms.services import submission_create

    if Case.objects.filter(channel=DELIBERATION.code, source="demo").exists():
        return
    clerk = User.objects.filter(username="handler_zeguo").first()
    if clerk is None:
        return
    app = Application.objects.get(code=DELIBERATION.code)
    today = timezone.localdate()
    case = submission_create(
        application=app,
        answers={
            "meeting_date": today.isoformat(),
            "town": "331081100",
            "village": "331081100002",
            "topic": "牧屿村老年食堂选址",
            "host": "村党支部书记",
            "attendance": 15,
            "participants": [
                {"participant": "林美华", "role": "villager_rep"},
                {"participant": "陈国平", "role": "party"},
                {"participant": "王建国", "role": "elder"},
            ],
            "minutes": "与会人员对原村小学旧址和村部东侧空地两处选址进行了讨论，"
            "多数同意使用原村小学旧址，由村委会牵头改建。",
            "decisions": [
                {
                    "decision": "原村小学旧址改建为老年食堂",
                    "responsible": "牧屿村村委会",
                    "deadline": (today + timedelta(days=10)).isoformat(),
                },
                {
                    "decision": "食堂运营方案提交村民代表会议表决",
                    "responsible": "牧屿村老年协会",
                    "deadline": (today + timedelta(days=6)).isoformat(),
                },
            ],
            "confirm": "OK",
        },
        submitter=clerk,
        source="demo",
    )
    transition(case=case, action="confirm", actor=clerk)
    log(f"app deliberation: meeting {case.number} with its decisions followed")
