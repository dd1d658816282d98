"""Admin for 督政议事: read-mostly lists of topics and meetings. Changes go through the
module's pages (services check and record them); the admin shows, it does not edit the
vote or the cases."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from civicloop.oversight.models import FollowUp, Meeting, Participant, Question, Topic


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    fields = ["kind", "user", "unit", "representative"]
    readonly_fields = ("kind", "user", "unit", "representative")
    can_delete = False


@admin.register(Topic)
class TopicAdmin(_ReadOnly):
    list_display = ["title", "proposer_kind", "state", "created_at"]
    list_filter = ["state", "proposer_kind"]
    search_fields = ["title"]


@admin.register(Meeting)
class MeetingAdmin(_ReadOnly):
    list_display = ["title", "kind", "held_at", "status", "published_at"]
    list_filter = ["kind", "status"]
    search_fields = ["title"]
    inlines = [ParticipantInline]


@admin.register(Question)
class QuestionAdmin(_ReadOnly):
    list_display = ["case", "meeting", "unit", "created_at"]
    list_select_related = ["case", "meeting", "unit"]


@admin.register(FollowUp)
class FollowUpAdmin(_ReadOnly):
    list_display = ["case", "meeting", "unit", "created_at"]
    list_select_related = ["case", "meeting", "unit"]
