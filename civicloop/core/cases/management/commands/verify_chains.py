from typing import Any

from django.core.management.base import BaseCommand

from civicloop.core.cases.timeline import chains_verify


class Command(BaseCommand):
    help = (
        "Verify every case's timeline hash chain and the case fields it vouches for (body,"
        " title, contact, attachments, result, rating); exit 1 naming each broken case and"
        " its first broken entry or differing field."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        checked, breaks = chains_verify()
        if not breaks:
            self.stdout.write(f"OK: {checked} case timelines verified, every chain holds.")
            return
        for found in breaks:
            self.stderr.write(f"BROKEN {found}")
        self.stderr.write(f"{len(breaks)} of {checked} case timelines are broken.")
        raise SystemExit(1)
