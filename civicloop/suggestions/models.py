"""What a suggestion holds beyond its core Case: the session it was raised in, its
co-signers (附议), the units it was assigned to (主办/协办), the contacts with the deputy
(沟通), the written answers (A/B/C) and the deputy's evaluations.

The Case (channel "suggestion") carries the title, text, state, holder and deadline; the
timeline of every step is the case's."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicloop.core.cases.models import Rating


class SessionKind(models.TextChoices):
    SESSION = "session", _("大会期间")
    INTERIM = "interim", _("闭会期间")


class AnswerCategory(models.TextChoices):
    # 温岭市人大代表建议办理答复分类
    A = "A", _("A类：已解决或采纳")
    B = "B", _("B类：列入计划逐步解决")
    C = "C", _("C类：因条件限制暂不能解决")


class Suggestion(models.Model):
    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="suggestion", verbose_name=_("事项")
    )
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="suggestions",
        verbose_name=_("领衔代表"),
    )
    session_kind = models.CharField(
        _("提出时间"), max_length=16, choices=SessionKind.choices, default=SessionKind.INTERIM
    )
    year = models.PositiveSmallIntegerField(_("年度"), db_index=True)
    hard = models.BooleanField(_("办理难度大"), default=False)
    is_key = models.BooleanField(_("重点督办"), default=False)
    key_leader = models.CharField(_("督办领导"), max_length=100, blank=True, default="")
    category = models.CharField(
        _("答复类别"), max_length=1, choices=AnswerCategory.choices, blank=True, default=""
    )
    publish_consent = models.BooleanField(_("同意公开答复"), default=False)
    # 1 for the first handling, 2 after a 不满意.
    handling_round = models.PositiveSmallIntegerField(_("办理轮次"), default=1)
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("代表建议")
        verbose_name_plural = _("代表建议")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.case)


class CosignStatus(models.TextChoices):
    INVITED = "invited", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    DECLINED = "declined", _("已谢绝")


class Cosigner(models.Model):
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="cosigners")
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="cosigned_suggestions",
        verbose_name=_("附议代表"),
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=CosignStatus.choices, default=CosignStatus.INVITED
    )
    responded_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("附议代表")
        verbose_name_plural = _("附议代表")
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "deputy"], name="unique_cosigner")
        ]

    def __str__(self) -> str:
        return f"{self.suggestion_id} · {self.deputy_id}"


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("主办")
    ASSIST = "assist", _("协办")


class Assignment(models.Model):
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("承办单位")
    )
    role = models.CharField(_("承办方式"), max_length=8, choices=AssignmentRole.choices)
    assigned_at = models.DateTimeField(_("交办时间"))
    due_at = models.DateTimeField(_("办理时限"))
    # An assisting unit's part is a case of its own (channel suggestion_assist).
    case = models.OneToOneField(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="suggestion_assignment",
        verbose_name=_("协办事项"),
    )
    # An assisting unit's views, sent to the lead unit before its deadline.
    views = models.TextField(_("协办意见"), blank=True, default="")
    views_sent_at = models.DateTimeField(_("协办意见提交时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("交办单位")
        verbose_name_plural = _("交办单位")
        ordering = ["role", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "unit"], name="unique_assignment"),
            models.UniqueConstraint(
                fields=["suggestion"],
                condition=models.Q(role="lead"),
                name="one_lead_per_suggestion",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.suggestion_id} · {self.unit_id} · {self.role}"


class ContactMethod(models.TextChoices):
    VISIT = "visit", _("登门走访")
    PHONE = "phone", _("电话沟通")
    MEETING = "meeting", _("座谈会")
    SURVEY = "survey", _("实地调研")


class Contact(models.Model):
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="contacts")
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("承办单位")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    method = models.CharField(_("沟通方式"), max_length=16, choices=ContactMethod.choices)
    contacted_on = models.DateField(_("沟通日期"))
    note = models.TextField(_("沟通情况"))
    created_at = models.DateTimeField(_("记录时间"))

    class Meta:
        verbose_name = _("沟通记录")
        verbose_name_plural = _("沟通记录")
        ordering = ["contacted_on", "pk"]

    def __str__(self) -> str:
        return f"{self.suggestion_id} · {self.contacted_on}"


class Answer(models.Model):
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="answers")
    round = models.PositiveSmallIntegerField(_("办理轮次"))
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("主办单位")
    )
    category = models.CharField(_("答复类别"), max_length=1, choices=AnswerCategory.choices)
    text = models.TextField(_("答复内容"))
    due_at = models.DateTimeField(_("办理时限"))
    answered_at = models.DateTimeField(_("答复时间"))
    on_time = models.BooleanField(_("按期答复"))

    class Meta:
        verbose_name = _("书面答复")
        verbose_name_plural = _("书面答复")
        ordering = ["round"]
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "round"], name="unique_answer_round")
        ]

    def __str__(self) -> str:
        return f"{self.suggestion_id} · {self.round} · {self.category}"


class Evaluation(models.Model):
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="evaluations")
    round = models.PositiveSmallIntegerField(_("办理轮次"))
    rating = models.CharField(_("评价"), max_length=16, choices=Rating.choices)
    comment = models.TextField(_("评价意见"), blank=True, default="")
    created_at = models.DateTimeField(_("评价时间"))

    class Meta:
        verbose_name = _("代表评价")
        verbose_name_plural = _("代表评价")
        ordering = ["round"]
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "round"], name="unique_evaluation_round")
        ]

    def __str__(self) -> str:
        return f"{self.suggestion_id} · {self.round} · {self.rating}"
