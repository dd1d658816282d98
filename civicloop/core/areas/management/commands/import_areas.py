from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicloop.core.areas.services import ImportFailed, areas_import_csv


class Command(BaseCommand):
    help = "Import areas from a UTF-8 CSV file (see civicloop/core/areas/data/ for the format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        if not path.exists():
            raise CommandError(f"File not found: {path}")
        try:
            with path.open(encoding="utf-8-sig", newline="") as stream:
                report = areas_import_csv(stream=stream)
        except ImportFailed as exc:
            raise CommandError(
                "Import refused, nothing changed:\n" + "\n".join(exc.errors)
            ) from exc
        self.stdout.write(
            f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}"
        )
