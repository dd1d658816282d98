from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civicloop.core.cases.timeline import chains_verify


class Command(BaseCommand):
    help = (
        "Verify every case's timeline hash chain, the case fields it vouches for (body,"
        " title, contact, attachments, result, rating) and the stored bytes of every linked"
        " attachment; exit 1 naming each broken case and its first broken entry or"
        " differing field."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-files",
            action="store_true",
            help="skip reading attachments back from storage (chains and fields only)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        checked, breaks = chains_verify(files=not options["no_files"])
        if not breaks:
            self.stdout.write(f"OK: {checked} case timelines verified, every chain holds.")
            return
        for found in breaks:
            self.stderr.write(f"BROKEN {found}")
        self.stderr.write(f"{len(breaks)} of {checked} case timelines are broken.")
        raise SystemExit(1)
