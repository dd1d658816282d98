"""The 代表建议 records in Django's admin (read mostly: steps go through the services)."""

from __future__ import annotations

from django.contrib import admin

from civicloop.suggestions.models import (
    Answer,
    Assignment,
    Contact,
    Cosigner,
    Evaluation,
    Suggestion,
)


class CosignerInline(admin.TabularInline):
    model = Cosigner
    extra = 0
    raw_id_fields = ("deputy",)


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    raw_id_fields = ("unit", "case")
    readonly_fields = ("assigned_at", "due_at", "views_sent_at")


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    readonly_fields = ("round", "unit", "category", "text", "due_at", "answered_at", "on_time")
    can_delete = False


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ("case", "deputy", "year", "session_kind", "is_key", "category")
    list_filter = ("year", "session_kind", "is_key", "category")
    search_fields = ("case__number", "case__title")
    raw_id_fields = ("case", "deputy")
    readonly_fields = ("case", "created_at", "handling_round", "category")
    inlines = (CosignerInline, AssignmentInline, AnswerInline)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("suggestion", "unit", "method", "contacted_on")
    raw_id_fields = ("suggestion", "unit", "actor")


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ("suggestion", "round", "rating", "created_at")
    raw_id_fields = ("suggestion",)
