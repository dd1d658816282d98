"""`manage.py budget_draw PROCESS_CODE --seed SEED [--reason TEXT]`

Draws the panel of a process with SEED and prints one selected frame id per line, then
`drawn=N reserve=M seed=SEED`. The same frame, quotas and seed give the same ids: when the
process already has a draw with this seed, it is computed again (nothing stored) and
checked against the stored one, so anyone can verify a published draw."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicloop.budgeting import selectors, services
from civicloop.budgeting.errors import BudgetError


class Command(BaseCommand):
    help = "Draw (or re-run) the panel of a participatory budgeting process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code")
        parser.add_argument("--seed", type=int, required=True)
        parser.add_argument("--reason", default="", help="Why a new draw replaces the panel.")

    def handle(self, *args: Any, code: str, seed: int, reason: str, **options: Any) -> None:
        try:
            process = selectors.process_by_code(code)
            stored = process.draws.filter(seed=seed).first()
            if stored is None:
                stored = services.panel_draw(process=process, seed=seed, reason=reason)
            result, _quotas, digest, _n = services.draw_compute(process=process, seed=seed)
        except BudgetError as exc:
            raise CommandError(exc.message) from None
        kept = sorted(
            stored.members.filter(reserve=False, designated=False).values_list(
                "frame_row__frame_id", flat=True
            )
        )
        if kept != result.selected or digest != stored.frame_digest:
            raise CommandError(
                f"draw #{stored.pk} with seed {seed} does not match the frame and quotas now"
            )
        for frame_id in result.selected:
            self.stdout.write(frame_id)
        self.stdout.write(
            f"drawn={len(result.selected)} reserve={len(result.reserves)} seed={seed}"
        )
