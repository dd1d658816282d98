from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicloop.core.accounts.services import api_key_create


class Command(BaseCommand):
    help = (
        "Create an API key for an integration (Open311 api_key, API bearer token); prints it once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument(
            "--full-records",
            action="store_true",
            help="The key may read whole records through Open311 (every read is logged).",
        )

    def handle(self, *args: Any, name: str, full_records: bool, **options: Any) -> None:
        if not name.strip():
            raise CommandError("NAME must not be empty.")
        _, raw = api_key_create(name=name, can_read_full_records=full_records)
        self.stdout.write(raw)
