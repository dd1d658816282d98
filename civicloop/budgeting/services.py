"""What changes state in 参与式预算 (the ballot and congress parts are in ballots.py and
congress.py): the process and its phases, proposals and their screening, the sampling
frame, the panel draw, invitations, RSVP and attendance, questionnaire answers, small
groups and plenary questions. Every service raises BudgetError with a sentence for the
person; side effects (SMS) go through the outbox in the same transaction."""

from __future__ import annotations

import csv
import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TextIO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from civicloop.budgeting import draw as lottery
from civicloop.budgeting.errors import BudgetError, BudgetErrorCode
from civicloop.budgeting.hooks import INVITE_TEMPLATE
from civicloop.budgeting.models import (
    PHASE_ORDER,
    RATING_MAX,
    BudgetProcess,
    BudgetProject,
    FrameRow,
    PanelDraw,
    PanelMember,
    Phase,
    PhaseSchedule,
    PlenaryQuestion,
    ProjectRating,
    Questionnaire,
    QuestionnaireResponse,
    SmallGroup,
    Wave,
)
from civicloop.core.accounts.crypto import lookup_digest
from civicloop.core.areas.models import Area
from civicloop.core.cases.services import clean_text
from civicloop.core.outbox.services import OutboxDraft, outbox_enqueue_many
from civicloop.core.ratelimit import RateLimitExceeded, rate_limit_hit
from civicloop.notify.phones import mainland_mobile

# Frame columns that are not strata.
FRAME_FIXED_COLUMNS = ("id", "name", "phone", "age", "sex", "designated")
# The frame's ``designated`` column: empty or one of these is "not designated"; one of
# DESIGNATED_YES is "designated" without a named role; any other text is the role
# (人大代表, 村干部 ...).
DESIGNATED_NO = frozenset({"0", "否", "no", "n", "false"})
DESIGNATED_YES = frozenset({"1", "是", "yes", "y", "true"})
DESIGNATED_DEFAULT_ROLE = "指定代表"
# How many bad lines a refused frame import names (the rest are counted).
FRAME_ERRORS_SHOWN = 20
# Words of the module's URLs under /budget/ that cannot be a process code.
RESERVED_CODES = frozenset({"staff", "t"})


# --------------------------------------------------------------------------- process


def process_create(
    *,
    code: str,
    title: str,
    year: int,
    town: Area,
    total_budget: int,
    description: str = "",
    panel_size: int = 275,
    panel_reserve: int = 30,
    designated_share: int = 0,
    panel_features: Sequence[str] = (),
    schedule: Mapping[str, tuple[date, date]] | None = None,
) -> BudgetProcess:
    """A new process in its first phase (征集), with its planned phase dates."""
    if total_budget <= 0:
        raise BudgetError(BudgetErrorCode.INVALID, _("预算总额必须大于零。"), field="total_budget")
    if not 0 <= designated_share <= 100:
        raise BudgetError(
            BudgetErrorCode.INVALID, _("指定代表比例应在 0–100 之间。"), field="designated_share"
        )
    if code in RESERVED_CODES:
        raise BudgetError(
            BudgetErrorCode.INVALID, _("编码 %(code)s 不能使用。") % {"code": code}, field="code"
        )
    if BudgetProcess.objects.filter(code=code).exists():
        raise BudgetError(
            BudgetErrorCode.INVALID, _("编码 %(code)s 已被使用。") % {"code": code}, field="code"
        )
    with transaction.atomic():
        process = BudgetProcess.objects.create(
            code=code,
            title=clean_text(title),
            year=year,
            town=town,
            total_budget=total_budget,
            description=clean_text(description),
            panel_size=panel_size,
            panel_reserve=panel_reserve,
            designated_share=designated_share,
            panel_features=list(panel_features),
        )
        for phase, (starts_on, ends_on) in (schedule or {}).items():
            phase_schedule_set(process=process, phase=phase, starts_on=starts_on, ends_on=ends_on)
    return process


def phase_schedule_set(
    *, process: BudgetProcess, phase: str, starts_on: date, ends_on: date
) -> PhaseSchedule:
    """Plan (or re-plan) the dates of one phase."""
    if phase not in PHASE_ORDER:
        raise BudgetError(BudgetErrorCode.INVALID, _("未知阶段。"), field="phase")
    if ends_on < starts_on:
        raise BudgetError(BudgetErrorCode.INVALID, _("结束日期不能早于开始日期。"), field="ends_on")
    row, _created = PhaseSchedule.objects.update_or_create(
        process=process, phase=phase, defaults={"starts_on": starts_on, "ends_on": ends_on}
    )
    return row


def process_phase_advance(*, process: BudgetProcess, to: str) -> BudgetProcess:
    """Move the process forward to phase ``to``; never back (what was done in a phase
    stays done). Leaving 征集 needs at least one proposal; leaving 初审 needs every
    proposal screened."""
    if to not in PHASE_ORDER:
        raise BudgetError(BudgetErrorCode.INVALID, _("未知阶段。"), field="phase")
    if PHASE_ORDER.index(to) <= process.phase_index:
        raise BudgetError(BudgetErrorCode.PHASE, _("阶段只能向前推进。"))
    if process.phase_index <= PHASE_ORDER.index(Phase.SCREENING) < PHASE_ORDER.index(to):
        pending = process.projects.filter(status=BudgetProject.Status.PROPOSED).count()
        if pending:
            raise BudgetError(
                BudgetErrorCode.PHASE, _("还有 %(n)d 个项目未初审。") % {"n": pending}
            )
    if to == Phase.PUBLISHED:
        # 每条意见都有回应 (Zhejiang's 2025 guide): nothing is published unanswered.
        unanswered = process.plenary_questions.filter(answer="").count()
        if unanswered:
            raise BudgetError(
                BudgetErrorCode.PHASE,
                _("还有 %(n)d 个小组提问未答复。") % {"n": unanswered},
            )
    process.phase = to
    process.save(update_fields=["phase"])
    return process


def _phase_check(process: BudgetProcess, *allowed: str) -> None:
    if process.phase not in allowed:
        raise BudgetError(
            BudgetErrorCode.PHASE,
            _("当前阶段（%(phase)s）不能进行此操作。") % {"phase": process.get_phase_display()},
        )


# --------------------------------------------------------------------------- projects


@dataclass(frozen=True)
class ProjectProposal:
    title: str
    description: str
    cost: int
    source: str
    category: str = ""
    location: str = ""
    contact_name: str = ""
    contact_phone: str = ""


def project_propose(
    *,
    process: BudgetProcess,
    proposal: ProjectProposal,
    proposer: Any = None,
    ip: str | None = None,
) -> BudgetProject:
    """A proposal by the public, a deputy or a department while the process collects.
    A client address (``ip``) is held to BUDGET_PROPOSALS_PER_IP_PER_HOUR."""
    _phase_check(process, Phase.COLLECTING)
    title = clean_text(proposal.title)
    if not title:
        raise BudgetError(BudgetErrorCode.MISSING, _("请填写项目名称。"), field="title")
    if proposal.cost <= 0:
        raise BudgetError(BudgetErrorCode.INVALID, _("估算造价必须大于零。"), field="cost")
    if proposal.cost > process.total_budget:
        raise BudgetError(BudgetErrorCode.INVALID, _("估算造价超过了本次预算总额。"), field="cost")
    if proposal.source not in BudgetProject.Source.values:
        raise BudgetError(BudgetErrorCode.INVALID, field="source")
    phone = ""
    if proposal.contact_phone.strip():
        phone = mainland_mobile(proposal.contact_phone) or ""
        if not phone:
            raise BudgetError(
                BudgetErrorCode.INVALID, _("请填写正确的手机号。"), field="contact_phone"
            )
    if ip:
        try:
            rate_limit_hit(
                scope="budget-propose",
                ident=ip,
                limit=int(settings.BUDGET_PROPOSALS_PER_IP_PER_HOUR),
                window=3600,
            )
        except RateLimitExceeded as exc:
            raise BudgetError(BudgetErrorCode.RATE_LIMITED, retry_after=exc.retry_after) from None
    return BudgetProject.objects.create(
        process=process,
        title=title[:200],
        description=clean_text(proposal.description),
        cost=proposal.cost,
        category=clean_text(proposal.category)[:50],
        location=clean_text(proposal.location)[:200],
        source=proposal.source,
        proposer=proposer if getattr(proposer, "is_authenticated", False) else None,
        contact_name=clean_text(proposal.contact_name)[:50],
        contact_phone=phone,
    )


def _screenable(project: BudgetProject) -> None:
    _phase_check(project.process, Phase.COLLECTING, Phase.SCREENING)
    if project.status == BudgetProject.Status.MERGED:
        raise BudgetError(BudgetErrorCode.PHASE, _("该项目已合并，不能再初审。"))


def project_screen(
    *, project: BudgetProject, accept: bool, reason: str, actor: Any
) -> BudgetProject:
    """The screening (初审) decision on a proposal: accepted onto the list, or rejected
    with a reason the proposer is shown. May be revised while screening lasts."""
    _screenable(project)
    reason = clean_text(reason)
    if not accept and not reason:
        raise BudgetError(BudgetErrorCode.MISSING, _("不通过初审须写明理由。"), field="reason")
    project.status = BudgetProject.Status.ACCEPTED if accept else BudgetProject.Status.REJECTED
    project.screening_reason = reason
    project.screened_by = actor
    project.screened_at = timezone.now()
    project.save(update_fields=["status", "screening_reason", "screened_by", "screened_at"])
    return project


def project_merge(
    *, project: BudgetProject, into: BudgetProject, reason: str, actor: Any
) -> BudgetProject:
    """Merge a duplicate proposal into another of the same process (which is accepted
    with it); the duplicate keeps its text and points to the one it went into."""
    _screenable(project)
    if into.process_id != project.process_id or into.pk == project.pk:
        raise BudgetError(
            BudgetErrorCode.INVALID, _("只能合并到同一流程的另一个项目。"), field="into"
        )
    if into.status in (BudgetProject.Status.MERGED, BudgetProject.Status.REJECTED):
        raise BudgetError(
            BudgetErrorCode.INVALID, _("不能合并到已合并或未通过的项目。"), field="into"
        )
    if project.merged.exists():
        raise BudgetError(
            BudgetErrorCode.INVALID, _("已有项目合并到本项目，不能再合并出去。"), field="into"
        )
    now = timezone.now()
    with transaction.atomic():
        project.status = BudgetProject.Status.MERGED
        project.merged_into = into
        project.screening_reason = clean_text(reason) or _("与其他项目重复，已合并。")
        project.screened_by = actor
        project.screened_at = now
        project.save()
        if into.status == BudgetProject.Status.PROPOSED:
            into.status = BudgetProject.Status.ACCEPTED
            into.screened_by = actor
            into.screened_at = now
            into.save(update_fields=["status", "screened_by", "screened_at"])
    return project


# --------------------------------------------------------------------------- frame


def _frame_lines(stream: TextIO, features: Sequence[str]) -> tuple[list[FrameRow], list[str]]:
    reader = csv.DictReader(stream)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    errors: list[str] = []
    if "id" not in header:
        return [], [_("缺少 id 列。")]
    strata_columns = list(features) or [h for h in header if h and h not in FRAME_FIXED_COLUMNS]
    missing_columns = [f for f in strata_columns if f not in header]
    if missing_columns:
        return [], [_("缺少分层列：%(cols)s") % {"cols": "、".join(missing_columns)}]
    if not strata_columns:
        return [], [_("没有分层列。")]
    rows: list[FrameRow] = []
    first_line: dict[str, int] = {}
    for line_no, raw in enumerate(reader, start=2):
        line = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        frame_id = line.get("id", "")
        problems = []
        if not frame_id:
            problems.append(_("编号为空"))
        elif frame_id in first_line:
            problems.append(
                _("编号 %(id)s 与第 %(n)d 行重复") % {"id": frame_id, "n": first_line[frame_id]}
            )
        else:
            first_line[frame_id] = line_no
        empty = [f for f in strata_columns if not line.get(f)]
        if empty:
            problems.append(_("分层值为空：%(cols)s") % {"cols": "、".join(empty)})
        age: int | None = None
        if line.get("age"):
            try:
                age = int(line["age"])
            except ValueError:
                problems.append(_("年龄不是整数"))
        sex = line.get("sex", "")
        if sex and len(sex) != 1:
            problems.append(_("性别应为一个字（男/女）"))
        phone = ""
        if line.get("phone"):
            phone = mainland_mobile(line["phone"]) or ""
            if not phone:
                problems.append(_("手机号有误"))
        designated_as = line.get("designated", "")
        if designated_as.lower() in DESIGNATED_NO:
            designated_as = ""
        elif designated_as.lower() in DESIGNATED_YES:
            designated_as = DESIGNATED_DEFAULT_ROLE
        elif len(designated_as) > 50:
            problems.append(_("指定身份超过 50 字"))
        if problems:
            errors.append(_("第 %(n)d 行：%(what)s") % {"n": line_no, "what": "，".join(problems)})
            continue
        rows.append(
            FrameRow(
                frame_id=frame_id,
                strata={f: line[f] for f in strata_columns},
                age=age,
                sex=sex,
                name=line.get("name", ""),
                phone=phone,
                phone_digest=lookup_digest(phone) if phone else "",
                designated_as=designated_as,
            )
        )
    if not rows and not errors:
        errors.append(_("文件没有数据行。"))
    return rows, errors


def frame_import_csv(*, process: BudgetProcess, stream: TextIO) -> int:
    """Replace the process's sampling frame with the CSV in ``stream`` (columns id, name,
    phone, age, sex and the strata: ``process.panel_features``, else every other column).

    All or nothing: any bad line (empty or duplicate id, a missing strata value, a wrong
    age or phone) refuses the whole file with BudgetError(FRAME) naming the lines. Refused
    once the panel has been drawn from the frame. Returns the number of rows imported."""
    _phase_check(process, Phase.COLLECTING, Phase.SCREENING, Phase.SAMPLING)
    if process.draws.exists():
        raise BudgetError(BudgetErrorCode.PHASE, _("已经从抽样框抽样，不能再替换抽样框。"))
    rows, errors = _frame_lines(stream, process.panel_features)
    if errors:
        shown = errors[:FRAME_ERRORS_SHOWN]
        more = len(errors) - len(shown)
        text = "；".join(shown) + (_("；另有 %(n)d 行有错误") % {"n": more} if more else "")
        raise BudgetError(
            BudgetErrorCode.FRAME,
            _("抽样框有 %(n)d 处错误，未导入任何一行：%(lines)s")
            % {"n": len(errors), "lines": text},
            field="file",
        )
    for row in rows:
        row.process = process
    with transaction.atomic():
        FrameRow.objects.filter(process=process).delete()
        FrameRow.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def frame_people(process: BudgetProcess) -> list[lottery.FramePerson]:
    """The people the lottery draws from: the frame less those marked designated (they
    may be seated by designation, never by lot). Read in frame-id order as plain tuples
    (no model instances: a frame may hold a million rows)."""
    rows = (
        FrameRow.objects.filter(process=process, designated_as="")
        .order_by("frame_id")
        .values_list("frame_id", "strata")
        .iterator(chunk_size=20_000)
    )
    return [lottery.FramePerson(id=fid, strata=strata) for fid, strata in rows]


# --------------------------------------------------------------------------- panel


def draw_quotas(
    process: BudgetProcess, frame: Sequence[lottery.FramePerson], seats: int
) -> list[lottery.Quota]:
    """The process's quotas, or quotas in proportion to the frame on its panel features."""
    if process.panel_quotas:
        return lottery.quotas_from(process.panel_quotas)
    features = process.panel_features or sorted({k for p in frame[:1] for k in p.strata})
    return lottery.quotas_proportional(frame=frame, features=features, size=seats)


def drawn_seats(process: BudgetProcess) -> int:
    """The seats filled by lot: the panel less the designated share."""
    return process.panel_size - round(process.panel_size * process.designated_share / 100)


def draw_compute(
    *, process: BudgetProcess, seed: int
) -> tuple[lottery.PanelResult, list[lottery.Quota], str, int]:
    """The draw of ``process`` with ``seed`` as it would be made now (nothing stored):
    the result, the quotas, the frame digest and the frame size."""
    frame = frame_people(process)
    if not frame:
        raise BudgetError(BudgetErrorCode.DRAW, _("还没有导入抽样框。"))
    seats = drawn_seats(process)
    quotas = draw_quotas(process, frame, seats)
    result = lottery.panel_compute(
        frame=frame, quotas=quotas, size=seats, reserve=process.panel_reserve, seed=seed
    )
    return result, quotas, lottery.frame_digest(frame), len(frame)


def panel_draw(
    *, process: BudgetProcess, seed: int, reason: str = "", actor: Any = None
) -> PanelDraw:
    """Draw the panel and its reserves and store them, each member with a ticket (the key
    of their phone pages). The first draw needs no reason; a re-draw replaces the panel
    only with a seed not used before and a reason (kept on the record), and never after
    the deliberation has begun. Refused quotas name the strata (BudgetError QUOTA)."""
    _phase_check(process, Phase.SCREENING, Phase.SAMPLING)
    previous = process.draws.order_by("-pk").first()
    if previous is not None:
        if process.draws.filter(seed=seed).exists():
            raise BudgetError(
                BudgetErrorCode.DRAW, _("重新抽样必须使用新的随机种子。"), field="seed"
            )
        if not clean_text(reason):
            raise BudgetError(BudgetErrorCode.DRAW, _("重新抽样须写明理由。"), field="reason")
    result, quotas, digest, frame_size = draw_compute(process=process, seed=seed)
    rows = dict(
        FrameRow.objects.filter(
            process=process, frame_id__in=result.selected + result.reserves
        ).values_list("frame_id", "pk")
    )
    try:
        with transaction.atomic():
            drawn = PanelDraw.objects.create(
                process=process,
                seed=seed,
                size=process.panel_size,
                reserve=process.panel_reserve,
                designated_share=process.designated_share,
                quotas=[q.as_dict() for q in quotas],
                frame_digest=digest,
                frame_size=frame_size,
                reason=clean_text(reason),
                drawn_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            members = [
                PanelMember(draw=drawn, frame_row_id=rows[fid], ticket=secrets.token_urlsafe(24))
                for fid in result.selected
            ] + [
                PanelMember(
                    draw=drawn,
                    frame_row_id=rows[fid],
                    reserve=True,
                    reserve_rank=rank,
                    ticket=secrets.token_urlsafe(24),
                )
                for rank, fid in enumerate(result.reserves, start=1)
            ]
            PanelMember.objects.bulk_create(members, batch_size=1000)
            if process.phase == Phase.SCREENING:
                process_phase_advance(process=process, to=Phase.SAMPLING)
    except IntegrityError:  # a concurrent draw with the same seed
        raise BudgetError(
            BudgetErrorCode.DRAW, _("重新抽样必须使用新的随机种子。"), field="seed"
        ) from None
    return drawn


def panel_publish(*, draw: PanelDraw) -> PanelDraw:
    """Publish the draw (seed, quotas, frame digest and the representativeness table) so
    anyone can re-run it; names are never published."""
    draw.published = True
    draw.save(update_fields=["published"])
    return draw


def designated_seats(draw: PanelDraw) -> int:
    """The seats of ``draw`` filled by designation (its designated share of the size)."""
    return round(draw.size * draw.designated_share / 100)


def designated_add(
    *,
    draw: PanelDraw,
    name: str = "",
    role: str = "",
    frame_row: FrameRow | None = None,
    actor: Any = None,
) -> PanelMember:
    """Seat a designated participant (人大代表, 村干部 ... not drawn by lot) within the
    draw's designated share: a person marked in the frame (``frame_row``, whose strata
    then count for groups) or one added by name. Refused when the share is full, for a
    frame row not marked designated or already seated, and once the deliberation is over."""
    _phase_check(draw.process, Phase.SAMPLING, Phase.DELIBERATION)
    role = clean_text(role)[:50]
    if frame_row is not None:
        if frame_row.process_id != draw.process_id or not frame_row.designated_as:
            raise BudgetError(
                BudgetErrorCode.INVALID, _("该居民在抽样框中没有标为指定代表。"), field="frame_row"
            )
        if draw.members.filter(frame_row=frame_row).exists():
            raise BudgetError(
                BudgetErrorCode.INVALID, _("该居民已在本次代表名单中。"), field="frame_row"
            )
        name = frame_row.name or frame_row.frame_id
        role = role or frame_row.designated_as
    name = clean_text(name)[:50]
    if not name:
        raise BudgetError(BudgetErrorCode.MISSING, _("请填写姓名。"), field="name")
    with transaction.atomic():
        # Lock the draw so two clerks adding at once cannot pass the share together.
        PanelDraw.objects.select_for_update().filter(pk=draw.pk).first()
        if draw.members.filter(designated=True).count() >= designated_seats(draw):
            raise BudgetError(
                BudgetErrorCode.INVALID,
                _("指定代表名额（%(n)d 人）已满。") % {"n": designated_seats(draw)},
            )
        return PanelMember.objects.create(
            draw=draw,
            frame_row=frame_row,
            designated=True,
            designated_name=name,
            designated_as=role or DESIGNATED_DEFAULT_ROLE,
            ticket=secrets.token_urlsafe(24),
            called_by=actor if getattr(actor, "is_authenticated", False) else None,
        )


def designated_remove(*, member: PanelMember) -> None:
    """Take a designated participant off the panel before the deliberation, if they have
    answered nothing (a drawn member is never removed: they decline instead)."""
    _phase_check(member.draw.process, Phase.SAMPLING)
    if not member.designated:
        raise BudgetError(BudgetErrorCode.INVALID, _("只能移除指定代表。"))
    if member.responses.exists():
        raise BudgetError(BudgetErrorCode.INVALID, _("该代表已填写问卷，不能移除。"))
    member.delete()


def _stratum_of(member: PanelMember, features: Sequence[str]) -> tuple[str, ...]:
    strata = member.frame_row.strata if member.frame_row is not None else {}
    return tuple(strata.get(f, "") for f in features)


def reserve_call_up(*, member: PanelMember, actor: Any, now: datetime | None = None) -> PanelMember:
    """A drawn member declined: call up the first reserve (in the published reserve order)
    of the same stratum on every quota feature, so the panel keeps its make-up. The
    reserve records whom it replaces, when and by whom. Refused for a member who has not
    declined, was already replaced, or was designated, and when no reserve of that
    stratum is left (the stratum is named). Returns the reserve now on the panel."""
    draw = member.draw
    _phase_check(draw.process, Phase.SAMPLING, Phase.DELIBERATION)
    if member.designated:
        raise BudgetError(BudgetErrorCode.INVALID, _("指定代表的名额由指定补足，不从候补递补。"))
    if not member.on_panel:
        raise BudgetError(BudgetErrorCode.INVALID, _("候补代表尚未递补。"))
    if member.rsvp != PanelMember.Rsvp.NO:
        raise BudgetError(BudgetErrorCode.INVALID, _("只有回复不参加的代表才能由候补递补。"))
    features = sorted({q["feature"] for q in draw.quotas})
    with transaction.atomic():
        locked = (
            PanelMember.objects.select_for_update(of=("self",))
            .select_related("frame_row")
            .get(pk=member.pk)
        )
        if PanelMember.objects.filter(replaces=locked).exists():
            raise BudgetError(BudgetErrorCode.INVALID, _("该代表已有候补递补。"))
        wanted = _stratum_of(locked, features)
        waiting = (
            draw.members.select_for_update(of=("self",))
            .select_related("frame_row")
            .filter(reserve=True, called_at__isnull=True)
            .exclude(rsvp=PanelMember.Rsvp.NO)
            .order_by("reserve_rank", "pk")
        )
        reserve = next((r for r in waiting if _stratum_of(r, features) == wanted), None)
        if reserve is None:
            label = "，".join(f"{f}={v}" for f, v in zip(features, wanted, strict=True))
            raise BudgetError(
                BudgetErrorCode.DRAW,
                _("%(stratum)s 没有可递补的候补代表。") % {"stratum": label},
            )
        reserve.replaces = locked
        reserve.called_at = now or timezone.now()
        reserve.called_by = actor if getattr(actor, "is_authenticated", False) else None
        reserve.save(update_fields=["replaces", "called_at", "called_by"])
    return reserve


def process_panel_set(
    *,
    process: BudgetProcess,
    size: int,
    reserve: int,
    designated_share: int,
    features: Sequence[str],
    quotas: Sequence[Mapping[str, Any]] | None,
) -> BudgetProcess:
    """Set the panel before it is drawn (a re-draw uses it too): its size, reserves,
    designated share, the strata (frame columns) and their quotas (``None`` or empty:
    in proportion to the frame). With a frame imported, the features must be its
    columns and the quotas must be meetable by the seats drawn by lot (refused with
    the strata named, BudgetError QUOTA). The draws already made keep their own quotas."""
    _phase_check(process, Phase.COLLECTING, Phase.SCREENING, Phase.SAMPLING)
    if size < 1:
        raise BudgetError(BudgetErrorCode.INVALID, _("抽选人数至少为 1。"), field="panel_size")
    if reserve < 0:
        raise BudgetError(BudgetErrorCode.INVALID, _("候补人数不能为负。"), field="panel_reserve")
    if not 0 <= designated_share <= 100:
        raise BudgetError(
            BudgetErrorCode.INVALID, _("指定代表比例应在 0–100 之间。"), field="designated_share"
        )
    features = [f for f in dict.fromkeys(clean_text(f) for f in features) if f]
    rows = lottery.quotas_from([dict(q) for q in quotas or []])
    if rows and not features:
        features = sorted({q.feature for q in rows})
    stray = sorted({q.feature for q in rows} - set(features))
    if stray:
        raise BudgetError(
            BudgetErrorCode.INVALID,
            _("配额中的分层 %(f)s 不在所选分层中。") % {"f": "、".join(stray)},
            field="quotas",
        )
    frame = frame_people(process)
    if frame:
        columns = {k for p in frame[:1] for k in p.strata}
        unknown = [f for f in features if f not in columns]
        if unknown:
            raise BudgetError(
                BudgetErrorCode.INVALID,
                _("抽样框没有这些分层列：%(cols)s") % {"cols": "、".join(unknown)},
                field="panel_features",
            )
        if rows:
            seats = size - round(size * designated_share / 100)
            lottery.quotas_check(frame=frame, quotas=rows, size=seats)
    process.panel_size = size
    process.panel_reserve = reserve
    process.designated_share = designated_share
    process.panel_features = features
    process.panel_quotas = [q.as_dict() for q in rows]
    process.save(
        update_fields=[
            "panel_size",
            "panel_reserve",
            "designated_share",
            "panel_features",
            "panel_quotas",
        ]
    )
    return process


def panel_invite(*, draw: PanelDraw, when: str, place: str, now: datetime | None = None) -> int:
    """Invite by SMS every drawn member (and every reserve called up since) with a phone
    who was not invited yet: one outbox message each, carrying the link of their own page
    (``{site}/budget/t/<ticket>/``, where they answer whether they come), in the
    transaction that marks them invited, so a repeat sends nothing twice. Returns how
    many were invited now."""
    now = now or timezone.now()
    process = draw.process
    label = f"{process.town.name}{process.year}年"
    with transaction.atomic():
        members = list(
            draw.members.select_for_update(of=("self",))
            .filter(designated=False, invited_at__isnull=True)
            .filter(Q(reserve=False) | Q(called_at__isnull=False))
            .select_related("frame_row")
        )
        drafts = [
            OutboxDraft(
                "sms",
                {
                    "phone": m.frame_row.phone,  # type: ignore[union-attr]
                    "template": INVITE_TEMPLATE,
                    "params": {
                        "process": label,
                        "date": when,
                        "place": place,
                        "ticket": m.ticket,
                    },
                },
                f"budget:invite:{m.pk}",
                process.code,
            )
            for m in members
            if m.frame_row is not None and m.frame_row.phone
        ]
        outbox_enqueue_many(drafts=drafts)
        PanelMember.objects.filter(pk__in=[m.pk for m in members]).update(invited_at=now)
    return len(drafts)


def member_by_ticket(*, ticket: str) -> PanelMember:
    """The panel member holding ``ticket`` in the current draw of their process."""
    member = (
        PanelMember.objects.select_related("draw__process", "frame_row")
        .filter(ticket=ticket)
        .first()
        if ticket
        else None
    )
    if member is None:
        raise BudgetError(BudgetErrorCode.TICKET)
    latest = (
        PanelDraw.objects.filter(process=member.draw.process)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if latest != member.draw_id:
        raise BudgetError(BudgetErrorCode.TICKET, _("该抽样已被重新抽样取代。"))
    return member


def ticket_rate_check(ip: str | None) -> None:
    if not ip:
        return
    try:
        rate_limit_hit(
            scope="budget-ticket",
            ident=ip,
            limit=int(settings.BUDGET_TICKET_POSTS_PER_IP_PER_HOUR),
            window=3600,
        )
    except RateLimitExceeded as exc:
        raise BudgetError(BudgetErrorCode.RATE_LIMITED, retry_after=exc.retry_after) from None


def member_rsvp(
    *, member: PanelMember, attending: bool, now: datetime | None = None
) -> PanelMember:
    """The member's answer to the invitation; may be changed until the deliberation."""
    _phase_check(member.draw.process, Phase.SAMPLING)
    member.rsvp = PanelMember.Rsvp.YES if attending else PanelMember.Rsvp.NO
    member.rsvp_at = now or timezone.now()
    member.save(update_fields=["rsvp", "rsvp_at"])
    return member


def attendance_record(*, draw: PanelDraw, attended_ids: Iterable[int]) -> int:
    """Mark who came on the day (sign-in): exactly the members in ``attended_ids``."""
    _phase_check(draw.process, Phase.SAMPLING, Phase.DELIBERATION)
    ids = set(attended_ids)
    with transaction.atomic():
        draw.members.update(attended=False)
        return draw.members.filter(pk__in=ids).update(attended=True)


# --------------------------------------------------------------------------- questionnaires


def questionnaire_create(
    *,
    process: BudgetProcess,
    wave: str,
    title: str,
    knowledge_items: Sequence[Mapping[str, Any]] = (),
) -> Questionnaire:
    """The T1 or T2 questionnaire. Knowledge items are ``{"id", "text", "options",
    "answer"}`` (the index of the right option)."""
    if wave not in Wave.values:
        raise BudgetError(BudgetErrorCode.INVALID, field="wave")
    items = []
    for item in knowledge_items:
        options = list(item.get("options", []))
        answer = item.get("answer")
        if (
            not item.get("id")
            or not options
            or not isinstance(answer, int)
            or not 0 <= answer < len(options)
        ):
            raise BudgetError(
                BudgetErrorCode.INVALID, _("知识题格式有误。"), field="knowledge_items"
            )
        items.append(
            {
                "id": str(item["id"]),
                "text": str(item.get("text", "")),
                "options": options,
                "answer": answer,
            }
        )
    questionnaire, _created = Questionnaire.objects.update_or_create(
        process=process, wave=wave, defaults={"title": clean_text(title), "knowledge_items": items}
    )
    return questionnaire


def _knowledge_score(items: Sequence[Mapping[str, Any]], answers: Mapping[str, int]) -> int:
    return sum(1 for item in items if answers.get(item["id"]) == item["answer"])


def questionnaire_answer(
    *,
    questionnaire: Questionnaire,
    member: PanelMember,
    ratings: Mapping[int, int | str],
    knowledge: Mapping[str, int | str] | None = None,
) -> QuestionnaireResponse:
    """A panel member's answers: every accepted project rated 0–10, the knowledge items
    answered. Once per member and wave (the unique constraint holds it under races)."""
    process = questionnaire.process
    if member.draw.process_id != process.pk:
        raise BudgetError(BudgetErrorCode.TICKET)
    if not member.on_panel and not member.attended:
        raise BudgetError(BudgetErrorCode.FORBIDDEN, _("候补代表递补后才能填写问卷。"))
    phase = Phase.SAMPLING if questionnaire.wave == Wave.T1 else Phase.DELIBERATION
    _phase_check(process, phase, Phase.DELIBERATION)
    project_ids = list(
        process.projects.filter(status=BudgetProject.Status.ACCEPTED).values_list("pk", flat=True)
    )
    scores: dict[int, int] = {}
    for pid in project_ids:
        raw = ratings.get(pid, ratings.get(str(pid), ""))  # type: ignore[call-overload]
        try:
            score = int(raw)
        except (TypeError, ValueError):
            raise BudgetError(
                BudgetErrorCode.MISSING, _("请为每个项目打分（0–10 分）。"), field=f"p_{pid}"
            ) from None
        if not 0 <= score <= RATING_MAX:
            raise BudgetError(BudgetErrorCode.INVALID, _("分数应在 0–10 之间。"), field=f"p_{pid}")
        scores[pid] = score
    items = questionnaire.knowledge_items
    answers: dict[str, int] = {}
    for item in items:
        raw_answer = (knowledge or {}).get(item["id"])
        try:
            answers[item["id"]] = int(raw_answer)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise BudgetError(
                BudgetErrorCode.MISSING, _("请回答每一道知识题。"), field=f"k_{item['id']}"
            ) from None
    if QuestionnaireResponse.objects.filter(questionnaire=questionnaire, member=member).exists():
        raise BudgetError(BudgetErrorCode.ANSWERED)
    try:
        with transaction.atomic():
            response = QuestionnaireResponse.objects.create(
                questionnaire=questionnaire,
                member=member,
                knowledge_answers=answers,
                knowledge_score=_knowledge_score(items, answers),
            )
            ProjectRating.objects.bulk_create(
                [
                    ProjectRating(response=response, project_id=pid, score=s)
                    for pid, s in scores.items()
                ]
            )
    except IntegrityError:
        raise BudgetError(BudgetErrorCode.ANSWERED) from None
    return response


# --------------------------------------------------------------------------- deliberation


def groups_form(
    *, process: BudgetProcess, count: int, facilitators: Sequence[str] = (), seed: int = 1
) -> list[SmallGroup]:
    """Split the members who came (or, before the day, those who said yes; else every
    drawn member) into ``count`` small groups balanced on the strata: members are sorted
    by their strata (in a seeded order within each stratum) and dealt round the groups,
    so every stratum is spread as evenly as it can be. Re-forming replaces the groups."""
    _phase_check(process, Phase.SAMPLING, Phase.DELIBERATION)
    if count < 1:
        raise BudgetError(BudgetErrorCode.INVALID, _("小组数至少为 1。"), field="count")
    draw = process.draws.order_by("-pk").first()
    if draw is None:
        raise BudgetError(BudgetErrorCode.DRAW, _("还没有抽样。"))
    members = list(draw.members.filter(attended=True).select_related("frame_row"))
    if not members:
        members = list(draw.members.filter(rsvp=PanelMember.Rsvp.YES).select_related("frame_row"))
    if not members:
        members = list(draw.members.filter(reserve=False).select_related("frame_row"))
    features = sorted({q["feature"] for q in draw.quotas})
    rng = random.Random(seed)
    rng.shuffle(members)

    def stratum(m: PanelMember) -> tuple[str, ...]:
        strata = m.frame_row.strata if m.frame_row is not None else {}
        return tuple(strata.get(f, "") for f in features)

    members.sort(key=stratum)  # stable: the shuffled order stays within a stratum
    with transaction.atomic():
        PanelMember.objects.filter(draw__process=process).update(group=None)
        SmallGroup.objects.filter(process=process).delete()
        groups = SmallGroup.objects.bulk_create(
            [
                SmallGroup(
                    process=process,
                    number=i + 1,
                    facilitator=facilitators[i] if i < len(facilitators) else "",
                )
                for i in range(count)
            ]
        )
        groups = list(SmallGroup.objects.filter(process=process).order_by("number"))
        by_group: dict[int, list[int]] = {g.pk: [] for g in groups}
        for i, member in enumerate(members):
            by_group[groups[i % count].pk].append(member.pk)
        for group_pk, ids in by_group.items():
            PanelMember.objects.filter(pk__in=ids).update(group_id=group_pk)
    return groups


def plenary_question_ask(
    *,
    process: BudgetProcess,
    text: str,
    group: SmallGroup | None = None,
    project: BudgetProject | None = None,
) -> PlenaryQuestion:
    """A question a small group brings to the plenary."""
    _phase_check(process, Phase.DELIBERATION)
    text = clean_text(text)
    if not text:
        raise BudgetError(BudgetErrorCode.MISSING, _("请填写问题。"), field="text")
    return PlenaryQuestion.objects.create(process=process, group=group, project=project, text=text)


def plenary_question_answer(
    *, question: PlenaryQuestion, answer: str, answered_by: str
) -> PlenaryQuestion:
    """The answer given in the plenary, by whom (an official or an expert)."""
    answer = clean_text(answer)
    if not answer:
        raise BudgetError(BudgetErrorCode.MISSING, _("请填写回答。"), field="answer")
    question.answer = answer
    question.answered_by = clean_text(answered_by)[:100]
    question.answered_at = timezone.now()
    question.save(update_fields=["answer", "answered_by", "answered_at"])
    return question
