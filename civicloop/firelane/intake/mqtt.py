"""The MQTT consumer of Frigate events: subscribe, batch, record, then acknowledge.

Nothing is lost while we are down or failing: the client id is fixed and the session
persists (MQTT 5: clean_start False with a session expiry, the v5 form of clean_session
False), messages are QoS 1, and each is acknowledged (PUBACK) only after the batch holding
it committed. A crash between commit and acknowledgement redelivers the message; its event
key makes the replay a duplicate, never a second row.

MQTT 5 also lets us raise the broker's in-flight window (Receive Maximum); over MQTT 3.1.1
Mosquitto allows 20 unacknowledged messages per client, which caps batching at 20.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
import requests
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections, transaction
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from civicloop.firelane.intake.events import CameraEvent, RecordOutcome
from civicloop.firelane.intake.frigate import (
    FrigateMessage,
    frigate_message_parse,
    frigate_snapshot_fetch,
)
from civicloop.firelane.intake.services import (
    RefusalNote,
    intake_refusals_count,
    jpeg_size,
    sightings_record,
)

logger = logging.getLogger(__name__)

# How long the broker keeps our session (and queues QoS 1 messages) while we are away.
SESSION_EXPIRY_S = 7 * 24 * 3600
# Unacknowledged messages the broker may have in flight to us (MQTT 5 Receive Maximum).
RECEIVE_MAXIMUM = 2000
# A batch is written when it is full or when the first message has waited this long.
BATCH_WAIT_S = 0.02
SNAPSHOT_THREADS = 4
DB_RETRY_MAX_S = 30.0

CommittedHook = Callable[[Sequence[mqtt.MQTTMessage], Sequence[RecordOutcome]], None]


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def broker_address(url: str) -> BrokerAddress:
    """mqtt://[user:pass@]host[:port] (or mqtts://) as its parts."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError(f"MQTT_URL must look like mqtt://host:1883, not {parts.scheme}://...")
    tls = parts.scheme in ("mqtts", "ssl")
    return BrokerAddress(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


@dataclass
class ConsumerStats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    batches: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class MqttConsumer:
    """Frigate events from one broker into `sightings_record`, in batches.

    Paho's network thread only queues messages; one worker thread takes them in batches of
    up to FIRELANE_MQTT_BATCH, fetches snapshots, writes the batch in one transaction and
    then acknowledges every message of it. A database failure retries the same batch with
    back-off (unacknowledged, so nothing is lost); paho reconnects the broker with back-off.
    """

    def __init__(
        self,
        *,
        url: str,
        topic: str | None = None,
        client_id: str | None = None,
        batch_size: int | None = None,
        on_committed: CommittedHook | None = None,
    ):
        self.address = broker_address(url)
        self.topic = topic or settings.FRIGATE_EVENTS_TOPIC
        self.client_id = client_id or settings.FIRELANE_MQTT_CLIENT_ID
        self.batch_size = max(1, batch_size or settings.FIRELANE_MQTT_BATCH)
        self.on_committed = on_committed
        self.stats = ConsumerStats()
        self.connected = threading.Event()
        self._inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._work, name="firelane-mqtt", daemon=True)
        self._snapshots = ThreadPoolExecutor(SNAPSHOT_THREADS, thread_name_prefix="frigate-snap")
        self._session = requests.Session()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if self.address.username is not None:
            client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=60)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client

    # -- paho callbacks (network thread) -------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            logger.warning("MQTT connect to %s refused: %s", self.address.host, reason)
            return
        # The persistent session keeps the subscription; subscribing again is harmless
        # and covers a session the broker expired.
        client.subscribe(self.topic, qos=1)
        self.connected.set()
        logger.info(
            "MQTT connected to %s:%s (session present: %s), topic %s",
            self.address.host,
            self.address.port,
            flags.session_present,
            self.topic,
        )

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.connected.clear()
        if not self._stopping.is_set():
            logger.warning("MQTT disconnected (%s); reconnecting with back-off", reason)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self._inbox.put(msg)

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> MqttConsumer:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        # connect_async + loop_start: the first connection is retried like any reconnect,
        # so a broker that is down at start-up delays the consumer instead of killing it.
        self._client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=30,
            clean_start=False,
            properties=properties,
        )
        self._client.loop_start()
        self._worker.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the batch in hand (written and acknowledged), then disconnect."""
        self._stopping.set()
        self._worker.join(timeout)
        self._client.disconnect()
        self._client.loop_stop()
        self._snapshots.shutdown(wait=False, cancel_futures=True)
        self._session.close()

    # -- the worker thread ------------------------------------------------------------

    def _work(self) -> None:
        try:
            while not self._stopping.is_set():
                batch = self._next_batch()
                if batch:
                    self._process(batch)
        finally:
            connections.close_all()

    def _next_batch(self) -> list[mqtt.MQTTMessage]:
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + BATCH_WAIT_S
        while len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            try:
                batch.append(
                    self._inbox.get(timeout=remaining)
                    if remaining > 0
                    else self._inbox.get_nowait()
                )
            except queue.Empty:
                break
        return batch

    def _process(self, batch: list[mqtt.MQTTMessage]) -> None:
        parsed = [frigate_message_parse(payload=m.payload) for m in batch]
        events = self._with_snapshots(parsed)
        refusals = [p.refusal for p in parsed if p.refusal is not None]
        outcomes = self._write(events, refusals)
        for message in batch:
            self._client.ack(message.mid, message.qos)
        with self.stats.lock:
            self.stats.received += len(batch)
            self.stats.batches += 1
            self.stats.refused += len(refusals)
            for outcome in outcomes:
                if outcome.outcome == "stored":
                    self.stats.stored += 1
                elif outcome.outcome == "duplicate":
                    self.stats.duplicates += 1
                else:
                    self.stats.refused += 1
        if self.on_committed is not None:
            try:
                self.on_committed(batch, outcomes)
            except Exception:
                logger.exception("on_committed hook failed")

    def _with_snapshots(self, parsed: list[FrigateMessage]) -> list[CameraEvent]:
        wanted = [p for p in parsed if p.event is not None and p.has_snapshot]
        pictures: dict[int, bytes | None] = {}
        if wanted and settings.FRIGATE_API_URL:
            fetched = self._snapshots.map(
                lambda p: frigate_snapshot_fetch(frigate_id=p.frigate_id, session=self._session),
                wanted,
            )
            pictures = {id(p): data for p, data in zip(wanted, fetched, strict=True)}
        events: list[CameraEvent] = []
        for p in parsed:
            if p.event is None:
                continue
            picture = pictures.get(id(p))
            if picture is not None and jpeg_size(picture) is None:
                logger.warning("Frigate snapshot of %s is not a JPEG; stored without", p.frigate_id)
                picture = None
            if picture is not None:
                events.append(
                    CameraEvent(
                        source=p.event.source,
                        serial=p.event.serial,
                        event_key=p.event.event_key,
                        camera_time=p.event.camera_time,
                        plate=p.event.plate,
                        color=p.event.color,
                        confidence=p.event.confidence,
                        scene_jpeg=picture,
                        box_px=p.event.box_px,
                    )
                )
            else:
                events.append(p.event)
        return events

    def _write(self, events: list[CameraEvent], refusals: list[RefusalNote]) -> list[RecordOutcome]:
        delay = 0.5
        while True:
            close_old_connections()
            try:
                with transaction.atomic():
                    outcomes = sightings_record(events=events, remote_addr=None)
                    if refusals:
                        intake_refusals_count(notes=refusals)
                return outcomes
            except DatabaseError:
                # Not acknowledged: retry the same batch; if we are stopped instead, the
                # broker redelivers it to the next consumer with this client id.
                logger.exception("Writing an MQTT batch failed; retrying in %.1f s", delay)
                connections.close_all()
                if self._stopping.wait(delay):
                    raise
                delay = min(delay * 2, DB_RETRY_MAX_S)


def mqtt_consumer_start(*, url: str) -> MqttConsumer:
    """Start consuming Frigate events from the broker at `url` in background threads;
    call `.stop()` on the result to finish the batch in hand and disconnect."""
    return MqttConsumer(url=url).start()
