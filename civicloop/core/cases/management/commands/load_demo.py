from typing import Any

from django.core.management.base import BaseCommand

from civicloop.core.demo import DEMO_PASSWORD, demo_city_build
from civicloop.core.forms.demo import demo_meeting_load


class Command(BaseCommand):
    help = "Build the demo city of Wenling (idempotent) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        logins = demo_city_build(log=lambda m: self.stdout.write(f"  {m}"))
        # A sample of the applications' loop (not in the tests' demo city, whose
        # counts the tests rely on).
        demo_meeting_load(log=lambda m: self.stdout.write(f"  {m}"))
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for login in logins:
            self.stdout.write(f"  {login.username:<16} {login.description}")
