import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from civicloop.firelane.vehicles.fake import QUERY_PATH, FakeProvincialRegistry, demo_vehicles


class Command(BaseCommand):
    help = (
        "Serve the loopback stand-in of the provincial vehicle registry in the foreground "
        "(demo only), with the demo's cars registered. Ctrl-C stops it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        # 8765 is taken by payment_fake in the demo.
        parser.add_argument("--port", type=int, default=8766)
        parser.add_argument(
            "--app-key", default=settings.VEHICLE_REGISTRY_APP_KEY or "demo-app-key"
        )
        parser.add_argument("--secret", default=settings.VEHICLE_REGISTRY_SECRET or "demo-secret")

    def handle(self, *args: Any, **options: Any) -> None:
        fake = FakeProvincialRegistry(
            app_key=options["app_key"],
            secret=options["secret"],
            host=options["host"],
            port=options["port"],
        )
        for vehicle in demo_vehicles():
            fake.vehicle_add(**vehicle)
        fake.start()
        self.stdout.write(
            f"fake provincial vehicle registry on {fake.url}{QUERY_PATH} "
            f"({len(demo_vehicles())} vehicles); set\n"
            f"  VEHICLE_REGISTRY_URL={fake.url}{QUERY_PATH}\n"
            f"  VEHICLE_REGISTRY_APP_KEY={options['app_key']}\n"
            "  VEHICLE_REGISTRY_SECRET=<the secret given with --secret>"
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()
