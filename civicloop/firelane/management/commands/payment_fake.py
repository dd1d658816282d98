"""Run the loopback Alipay stand-in in the foreground, for the demo (PAYMENT_PROVIDER=fake)."""

from __future__ import annotations

import threading
import urllib.parse
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicloop.firelane.payments.fake import FakeAlipay, fake_keys_load_or_create


class Command(BaseCommand):
    help = (
        "Serve the fake payment provider (an Alipay-compatible gateway and phone cashier) at "
        "PAYMENT_FAKE_URL until interrupted. Keys are shared with the web process through "
        "PAYMENT_FAKE_KEYS_FILE (created on first use)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--notify-attempts", type=int, default=5)
        parser.add_argument("--notify-interval", type=float, default=2.0, help="seconds")
        parser.add_argument(
            "--resend-after-success",
            action="store_true",
            help="send each notify once more after `success`, to show idempotency",
        )
        parser.add_argument(
            "--lose-notifies", action="store_true", help="never send notifies (reconciliation)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PAYMENT_PROVIDER != "fake":
            raise CommandError("PAYMENT_PROVIDER is not 'fake': the web side would not use it.")
        split = urllib.parse.urlsplit(settings.PAYMENT_FAKE_URL)
        if split.scheme != "http" or not split.hostname or not split.port:
            raise CommandError("PAYMENT_FAKE_URL must look like http://127.0.0.1:8765")
        keys = fake_keys_load_or_create(path=settings.PAYMENT_FAKE_KEYS_FILE)
        fake = FakeAlipay(
            app_id=keys.app_id,
            app_public_key=keys.app_public_key,
            private_key=keys.fake_private_key,
            host=split.hostname,
            port=split.port,
            notify_attempts=options["notify_attempts"],
            notify_interval_s=options["notify_interval"],
            resend_after_success=options["resend_after_success"],
            lose_notifies=options["lose_notifies"],
        )
        try:
            fake.start()
        except OSError as exc:
            raise CommandError(f"Cannot listen on {split.hostname}:{split.port}: {exc}") from exc
        self.stdout.write(f"Fake payment provider (Alipay protocol) at {fake.url}")
        self.stdout.write(f"  gateway: {fake.gateway_url}   app_id: {keys.app_id}")
        self.stdout.write("Press Ctrl-C to stop.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()
            for trade in fake.trades().values():
                self.stdout.write(f"  {trade.out_trade_no} {trade.total_amount} {trade.status}")
