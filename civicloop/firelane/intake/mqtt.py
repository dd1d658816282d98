"""The MQTT consumer of Frigate events: subscribe, batch, record, then acknowledge.

Nothing is lost while we are down or failing: each consumer's client id is fixed and its
session persists (MQTT 5: clean_start False with a session expiry, the v5 form of
clean_session False), messages are QoS 1, and each is acknowledged (PUBACK) only after
the batch holding it committed. A crash between commit and acknowledgement redelivers the
message; its event key makes the replay a duplicate, never a second row.

Several consumers split the load through an MQTT 5 shared subscription
(`$share/<group>/<topic>`, Mosquitto 2 and EMQX), each with its own client id
`<FIRELANE_MQTT_CLIENT_ID>-<instance>-<n>`. The broker deals each message to one member
of the group. Mosquitto 2.0 keeps dealing to a member whose connection died (its
persistent session queues them) and does not hand its unacknowledged messages to the
others: they wait for that consumer to come back under the same client id, which is why
the id is fixed per process slot and the process is restarted by its supervisor. Two
processes given the same instance take each other's session over ("Session taken over"),
which is logged as the configuration error it is.

MQTT 5 also lets us raise the broker's in-flight window (Receive Maximum); over MQTT 3.1.1
Mosquitto allows 20 unacknowledged messages per client, which caps batching at 20.
"""

from __future__ import annotations

import logging
import queue
import socket
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

from civicloop.core.registry import ReadyCheck
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
        group: str | None = None,
        instance: str = "",
        index: int = 1,
        batch_size: int | None = None,
        on_committed: CommittedHook | None = None,
    ):
        self.address = broker_address(url)
        self.topic = topic or settings.FRIGATE_EVENTS_TOPIC
        self.group = settings.FIRELANE_MQTT_GROUP if group is None else group
        # The topic filter we subscribe to: the shared one when there is a group.
        self.subscription = f"$share/{self.group}/{self.topic}" if self.group else self.topic
        self.client_id = client_id or consumer_client_id(
            instance=instance or socket.gethostname(), index=index
        )
        self.batch_size = max(1, batch_size or settings.FIRELANE_MQTT_BATCH)
        self.on_committed = on_committed
        self.stats = ConsumerStats()
        self.connected = threading.Event()
        # (time received, message): the oldest one's wait is the consumer's lag.
        self._inbox: queue.Queue[tuple[float, mqtt.MQTTMessage]] = queue.Queue()
        self._batch_since: float | None = None
        self._reported_at = 0.0
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
        client.subscribe(self.subscription, qos=1)
        self.connected.set()
        logger.info(
            "MQTT %s connected to %s:%s (session present: %s), subscribed to %s",
            self.client_id,
            self.address.host,
            self.address.port,
            flags.session_present,
            self.subscription,
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
        if self._stopping.is_set():
            return
        if reason == "Session taken over":
            logger.error(
                "MQTT client id %s is used by another consumer too; give each process its "
                "own --instance (they take each other's session over)",
                self.client_id,
            )
        else:
            logger.warning("MQTT disconnected (%s); reconnecting with back-off", reason)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self._inbox.put((time.monotonic(), msg))

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
                self._report()
                batch = self._next_batch()
                if batch:
                    self._process(batch)
                    self._batch_since = None
        finally:
            connections.close_all()

    def _next_batch(self) -> list[mqtt.MQTTMessage]:
        try:
            since, first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        self._batch_since = since
        batch = [first]
        deadline = time.monotonic() + BATCH_WAIT_S
        while len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            try:
                _since, message = (
                    self._inbox.get(timeout=remaining)
                    if remaining > 0
                    else self._inbox.get_nowait()
                )
            except queue.Empty:
                break
            batch.append(message)
        return batch

    def lag_seconds(self) -> float:
        """How long the oldest message received and not yet acknowledged has waited."""
        since = self._batch_since
        if since is None:
            with self._inbox.mutex:
                since = self._inbox.queue[0][0] if self._inbox.queue else None
        return 0.0 if since is None else max(0.0, time.monotonic() - since)

    def _report(self) -> None:
        """Tell /healthz/ready (through the shared cache) that we live, and our lag."""
        now = time.monotonic()
        if now - self._reported_at < REPORT_EVERY_S:
            return
        self._reported_at = now
        try:
            consumer_report(
                client_id=self.client_id,
                state={
                    "at": time.time(),
                    "connected": self.connected.is_set(),
                    "lag_s": round(self.lag_seconds(), 1),
                    "queued": self._inbox.qsize(),
                    "received": self.stats.received,
                },
            )
        except Exception:  # a cache outage must not stop the intake
            logger.warning("MQTT consumer %s could not report its state", self.client_id)

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


def mqtt_consumer_start(
    *, url: str, group: str | None = None, instance: str = "", index: int = 1
) -> MqttConsumer:
    """Start consuming Frigate events from the broker at `url` in background threads;
    call `.stop()` on the result to finish the batch in hand and disconnect."""
    return MqttConsumer(url=url, group=group, instance=instance, index=index).start()


def consumer_client_id(*, instance: str, index: int) -> str:
    """`<FIRELANE_MQTT_CLIENT_ID>-<instance>-<index>`, at most 64 characters (brokers
    accept 23 at least, Mosquitto and EMQX far more)."""
    return f"{settings.FIRELANE_MQTT_CLIENT_ID}-{instance}-{index}"[:64]


# --------------------------------------------------------------------------- readiness

REPORT_EVERY_S = 5.0
_REPORT_KEY = "civicloop:mqtt:consumer:"
_REPORT_INDEX = "civicloop:mqtt:consumers"


def consumer_report(*, client_id: str, state: dict[str, object]) -> None:
    from django.core.cache import cache

    cache.set(_REPORT_KEY + client_id, state, timeout=24 * 3600)
    known = cache.get(_REPORT_INDEX) or []
    if client_id not in known:
        cache.set(_REPORT_INDEX, sorted({*known, client_id}), timeout=None)


def mqtt_readiness() -> ReadyCheck | None:
    """The consumers' figures for /healthz/ready: each one's lag; a failure when one of
    them lags over FIRELANE_MQTT_READY_MAX_LAG_S or none has reported for
    FIRELANE_MQTT_READY_SILENT_S (with MQTT_URL set: someone should be consuming)."""
    from django.core.cache import cache

    if not settings.MQTT_URL:
        return None
    known = cache.get(_REPORT_INDEX) or []
    states = cache.get_many([_REPORT_KEY + c for c in known])
    now = time.time()
    silent = settings.FIRELANE_MQTT_READY_SILENT_S
    figures: dict[str, object] = {}
    lagging = []
    alive = 0
    for key, state in sorted(states.items()):
        client_id = key[len(_REPORT_KEY) :]
        age = now - float(state.get("at", 0))
        if age > silent:
            figures[client_id] = f"silent for {round(age)} s"
            continue
        alive += 1
        lag = float(state.get("lag_s", 0))
        figures[client_id] = {"lag_s": lag, "queued": state.get("queued", 0)}
        if lag > settings.FIRELANE_MQTT_READY_MAX_LAG_S or not state.get("connected", False):
            lagging.append(
                f"{client_id} lags {lag:.0f} s"
                if state.get("connected")
                else f"{client_id} offline"
            )
    if not alive:
        return ReadyCheck("mqtt", figures, f"no MQTT consumer reported in {round(silent)} s")
    if lagging:
        return ReadyCheck("mqtt", figures, "; ".join(lagging))
    return ReadyCheck("mqtt", figures)
