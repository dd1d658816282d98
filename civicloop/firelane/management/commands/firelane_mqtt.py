"""Consume Frigate events from MQTT in the foreground (the same consumer `serve` starts)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicloop.firelane.intake.mqtt import mqtt_consumer_start


class Command(BaseCommand):
    help = "Consume Frigate NVR events (MQTT) into 生命通道 sightings until interrupted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="", help="Broker URL; default: MQTT_URL.")

    def handle(self, *args: Any, url: str, **options: Any) -> None:
        url = url or settings.MQTT_URL
        if not url:
            raise CommandError("Set MQTT_URL (e.g. mqtt://127.0.0.1:1883) or pass --url.")
        done = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: done.set())
        try:
            consumer = mqtt_consumer_start(url=url)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"consuming {consumer.topic} from {consumer.address.host}; Ctrl-C stops")
        done.wait()
        consumer.stop()
        stats = consumer.stats
        self.stdout.write(
            f"stopped: {stats.received} messages, {stats.stored} stored, "
            f"{stats.duplicates} duplicates, {stats.refused} refused"
        )
