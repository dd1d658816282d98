"""The admin shows cycles and candidates only. Ballots, voter records and the roll are
deliberately not registered: no admin page may put a voter next to a ballot."""

from __future__ import annotations

from django.contrib import admin

from civicloop.projects.models import Candidate, Cycle


@admin.register(Cycle)
class CycleAdmin(admin.ModelAdmin):
    list_display = ("year", "title", "state", "places", "roll_size", "voters_count")
    readonly_fields = (
        "state",
        "roll_size",
        "voting_opened_at",
        "voting_closed_at",
        "voters_count",
        "outcome_note",
    )


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ("title", "cycle", "source", "shortlisted", "chosen", "votes_for")
    list_filter = ("cycle", "source", "shortlisted", "chosen")
    readonly_fields = (
        "case",
        "shortlisted",
        "votes_for",
        "votes_against",
        "votes_abstain",
        "chosen",
        "rank",
    )
