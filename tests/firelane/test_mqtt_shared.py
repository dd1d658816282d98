"""MQTT intake that scales out: two `manage.py firelane_mqtt` processes share
`$share/<group>/<topic>` on the real Mosquitto, each with its own client id; one is
killed mid-stream and comes back under its own id (as its supervisor restarts it), and
every event is stored exactly once. Also: the readiness check sees each consumer."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from django.db import connection
from paho.mqtt.enums import CallbackAPIVersion

from civicloop.firelane.intake.mqtt import MqttConsumer, mqtt_readiness
from tests.conftest import ROOT, require_service
from tests.firelane.intake_fixtures import (
    intake_camera_copies_forgotten,  # noqa: F401 (autouse)
    intake_site_camera,
)
from tests.firelane.test_intake_frigate import CAMERA, message, publish
from tests.waiting import mqtt_subscribed, wait_until

EVENTS = 400


def _consumer(env: dict[str, str], instance: str, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "manage.py", "firelane_mqtt",
        "--group", env["TEST_GROUP"], "--instance", instance,
    ]  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _kill(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=15)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_consumers_split_the_events_and_one_killed_loses_nothing(
    settings: Any, tmp_path: Path
) -> None:
    require_service("mqtt")
    require_service("postgres")
    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL test database shared with the consumer processes")
    from civicloop.firelane.models import Sighting

    intake_site_camera(serial=CAMERA, vendor="frigate", ip_allowlist="")
    base = f"civicloop-test-{uuid.uuid4().hex[:8]}"
    group = f"g{uuid.uuid4().hex[:8]}"
    topic = f"test/frigate/{uuid.uuid4().hex}/events"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "MQTT_URL": "mqtt://127.0.0.1:1883",
        "FRIGATE_EVENTS_TOPIC": topic,
        "FRIGATE_API_URL": "",
        "FIRELANE_MQTT_CLIENT_ID": base,
        "FIRELANE_MQTT_BATCH": "20",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONPATH": str(ROOT),
        "TEST_GROUP": group,
    }
    logs = {name: tmp_path / f"{name}.log" for name in ("a", "b")}
    procs = {name: _consumer(env, name, logs[name]) for name in ("a", "b")}
    try:

        def both_subscribed() -> bool:
            return all("consuming $share" in logs[n].read_text() for n in logs if logs[n].exists())

        assert wait_until(both_subscribed, timeout=60), logs["a"].read_text()
        time.sleep(1.0)  # the connect callback subscribes just after it prints
        t0 = time.time() - 60
        payloads = [
            message("update", object_id=f"obj-{i:04d}", frame_time=t0 + i * 0.01)
            for i in range(EVENTS)
        ]
        publish(topic, *payloads[: EVENTS // 2])
        # Mid-stream: once some are stored, consumer a dies without a word.
        assert wait_until(lambda: Sighting.objects.count() >= 20, timeout=60)
        _kill(procs["a"], signal.SIGKILL)
        publish(topic, *payloads[EVENTS // 2 :])
        time.sleep(2)
        # Until a comes back, its share waits in its session on the broker.
        procs["a"] = _consumer(env, "a", logs["a"])

        def all_stored() -> bool:
            return Sighting.objects.count() >= EVENTS

        assert wait_until(all_stored, timeout=120), (
            Sighting.objects.count(),
            logs["a"].read_text()[-2000:],
            logs["b"].read_text()[-2000:],
        )
        time.sleep(1)
        keys = list(Sighting.objects.values_list("event_key", flat=True))
        assert len(keys) == len(set(keys)) == EVENTS
        # Both took part: b's tally when stopped is some but not all of the events.
        _kill(procs["b"], signal.SIGTERM)
        tally = logs["b"].read_text()
        assert "stopped:" in tally, tally
        received = int(tally.rsplit("stopped:", 1)[1].split("messages")[0])
        assert 0 < received < EVENTS
    finally:
        for proc in procs.values():
            _kill(proc, signal.SIGKILL)
        for name in ("a", "b"):
            cleaner = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=f"{base}-{name}-1", clean_session=True
            )
            cleaner.connect("127.0.0.1", 1883)
            cleaner.disconnect()


@pytest.mark.django_db
def test_readiness_sees_each_consumer_and_its_lag(settings: Any) -> None:
    require_service("mqtt")
    from django.core.cache import cache

    cache.clear()
    settings.MQTT_URL = "mqtt://127.0.0.1:1883"
    settings.FIRELANE_MQTT_CLIENT_ID = f"civicloop-test-{uuid.uuid4().hex[:8]}"
    settings.FIRELANE_MQTT_READY_MAX_LAG_S = 30.0
    settings.FIRELANE_MQTT_READY_SILENT_S = 60.0
    # No consumer has reported: someone should be consuming.
    silent = mqtt_readiness()
    assert silent is not None and "no MQTT consumer" in silent.problem
    consumer = MqttConsumer(url=settings.MQTT_URL, topic=f"test/{uuid.uuid4().hex}", instance="r")
    assert consumer.subscription.startswith("$share/civicloop/")
    assert consumer.client_id == f"{settings.FIRELANE_MQTT_CLIENT_ID}-r-1"
    subscribed = mqtt_subscribed(consumer)
    consumer.start()
    try:
        assert subscribed.wait(10)
        assert wait_until(lambda: not (mqtt_readiness() or silent).problem, timeout=15)
        ready = mqtt_readiness()
        assert ready is not None and consumer.client_id in ready.value
        # A message that has waited 40 s unacknowledged is lag the operator must see.
        consumer._batch_since = time.monotonic() - 40
        consumer._reported_at = 0.0
        consumer._report()
        lagging = mqtt_readiness()
        assert lagging is not None and f"{consumer.client_id} lags" in lagging.problem
    finally:
        consumer._batch_since = None
        consumer.stop()
        cleaner = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=consumer.client_id, clean_session=True
        )
        cleaner.connect("127.0.0.1", 1883)
        cleaner.disconnect()
