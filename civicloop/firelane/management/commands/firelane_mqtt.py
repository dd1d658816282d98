"""Consume Frigate events from MQTT in the foreground, as one or several consumers of a
shared subscription (`$share/<group>/frigate/events`), until interrupted."""

from __future__ import annotations

import signal
import socket
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicloop.firelane.intake.mqtt import MqttConsumer, mqtt_consumer_start


class Command(BaseCommand):
    help = "Consume Frigate NVR events (MQTT) into 生命通道 sightings until interrupted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="", help="Broker URL; default: MQTT_URL.")
        parser.add_argument(
            "--group",
            default=None,
            help="Shared-subscription group (default FIRELANE_MQTT_GROUP); '' for the plain topic.",
        )
        parser.add_argument(
            "--instance",
            default="",
            help="This process's name in the client ids, fixed across restarts and unique "
            "among the consumers (default: the host name; e.g. systemd's %%i).",
        )
        parser.add_argument(
            "--consumers",
            type=int,
            default=0,
            help="Consumers in this process (default FIRELANE_MQTT_CONSUMERS).",
        )

    def handle(
        self,
        *args: Any,
        url: str,
        group: str | None,
        instance: str,
        consumers: int,
        **options: Any,
    ) -> None:
        url = url or settings.MQTT_URL
        if not url:
            raise CommandError("Set MQTT_URL (e.g. mqtt://127.0.0.1:1883) or pass --url.")
        count = consumers or settings.FIRELANE_MQTT_CONSUMERS
        if count < 1:
            raise CommandError("--consumers must be at least 1.")
        if group is not None and ("/" in group or "+" in group or "#" in group):
            raise CommandError("A group name may not contain '/', '+' or '#'.")
        if group == "" and count > 1:
            raise CommandError("Several consumers need a shared-subscription group (--group).")
        instance = instance or socket.gethostname()
        done = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: done.set())
        started: list[MqttConsumer] = []
        try:
            for index in range(1, count + 1):
                started.append(
                    mqtt_consumer_start(url=url, group=group, instance=instance, index=index)
                )
        except ValueError as exc:
            for consumer in started:
                consumer.stop()
            raise CommandError(str(exc)) from exc
        for consumer in started:
            self.stdout.write(
                f"{consumer.client_id}: consuming {consumer.subscription} "
                f"from {consumer.address.host}"
            )
        self.stdout.write("Ctrl-C stops")
        done.wait()
        for consumer in started:
            consumer.stop()
            stats = consumer.stats
            self.stdout.write(
                f"{consumer.client_id} stopped: {stats.received} messages, {stats.stored} stored, "
                f"{stats.duplicates} duplicates, {stats.refused} refused"
            )
