"""The MQTT side of the ingester: one client, callbacks that only enqueue.

paho's network thread runs :meth:`MqttLink._enqueue` for every PUBLISH: it
counts and queues, nothing else. The worker acknowledges a batch with
:meth:`MqttLink.ack` once it committed, on the connection the messages came
on (``generation``): a packet id means nothing on another connection.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.fastclient import FastClient, StockClient, make_client
from ingest.metrics import IngestStats
from ingest.redelivery import Msg
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["SESSION_EXPIRY_S", "MqttLink"]

#: Session kept by the broker while the ingester is away [s]. Mosquitto 2.0 lost
#: sessions with a 7-day expiry across a restart here; 1 day survives it.
SESSION_EXPIRY_S = 24 * 3600


class MqttLink:
    """A persistent MQTT 5 session (fixed client id, clean start off, manual
    acknowledgements) that feeds :attr:`queue`."""

    def __init__(
        self,
        settings: Settings,
        stats: IngestStats,
        *,
        receive_maximum: int,
        queue_limit: int,
        keepalive_s: int,
        connect_timeout_s: float,
        stop: threading.Event,
    ) -> None:
        self.settings = settings
        self.stats = stats
        self.receive_maximum = receive_maximum
        self.queue: queue.SimpleQueue[Msg] = queue.SimpleQueue()
        #: Beyond this the network thread waits for the worker (TCP holds the
        #: broker back), but at most ``max_block_s`` per episode, so that
        #: keepalive pings still go out when the worker is stuck (database
        #: down); beyond ``hard_limit`` the link pauses (clean disconnect).
        self.queue_limit = queue_limit
        self.hard_limit = 2 * queue_limit
        self.keepalive_s = keepalive_s
        self.max_block_s = max(0.5, min(5.0, keepalive_s / 3))
        self.room = threading.Event()
        self._overfull = False
        self.accepting = True
        #: Counts connections; a message remembers the one it came on.
        self.generation = 0
        #: The broker kept our session for this connection: it redelivers what
        #: an earlier one did not acknowledge.
        self.session_present = False
        #: Not taking messages (the queue overflowed): still connected and
        #: pinging; see :meth:`resume`.
        self.paused = False
        self._stop = stop
        self._disconnected = threading.Event()
        #: Held by :meth:`resume` and :meth:`stop`: a resume never starts a
        #: connection while (or after) the ingester stops.
        self._lifecycle = threading.Lock()
        self._closed = False
        self.client = self._make_client(connect_timeout_s)

    def _make_client(self, connect_timeout_s: float) -> StockClient | FastClient:
        s = self.settings
        client = make_client(
            bool(s.mqtt_fast_path),
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=s.ingest_client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        url = s.mqtt
        if url.username:
            client.username_pw_set(url.username, url.password)
        if url.tls:
            client.tls_set()
        client.connect_timeout = connect_timeout_s
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.sink = self._enqueue
        return client

    @property
    def subscriptions(self) -> list[str]:
        group = self.settings.ingest_group
        topics = list(self.settings.ingest_topics)
        return [f"$share/{group}/{t}" if group else t for t in topics]

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> None:
        """Connect (retrying in the background on paho's thread)."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = self.receive_maximum
        url = self.settings.mqtt
        self.client.connect_async(
            url.host,
            url.port,
            keepalive=self.keepalive_s,
            clean_start=False,
            properties=props,
        )
        self.client.loop_start()

    def drained(self) -> bool:
        """Paused, and the worker has taken everything queued."""
        return self.paused and self.queue.qsize() == 0

    def resume(self) -> bool:
        """After a pause, once the worker took everything queued and acknowledged
        what it committed (on this connection: the PUBACKs go out before the
        DISCONNECT), disconnect cleanly and connect again, so that the broker
        redelivers what was let go while paused (worker thread); True when it
        did. Every wait has a deadline."""
        with self._lifecycle:
            if not self.drained() or self._closed or self._stop.is_set():
                return False
            self._disconnect(timeout_s=2.0)
            if not self._end_loop(timeout_s=10.0):
                return False  # tried again on the worker's next step
            self.paused = False
            logger.info("queue drained; connecting again")
            self.start()
            return True

    def stop(self) -> None:
        """Disconnect, after the DISCONNECT (and the last acknowledgements
        before it) went out; at most a few seconds."""
        with self._lifecycle:
            self._closed = True
            self._disconnect(timeout_s=2.0)
            self._end_loop(timeout_s=10.0)

    def _disconnect(self, timeout_s: float) -> None:
        self._disconnected.clear()
        if self.client.disconnect() == mqtt.MQTT_ERR_SUCCESS:
            self._disconnected.wait(timeout_s)

    def _end_loop(self, timeout_s: float) -> bool:
        """paho's ``loop_stop()`` (it joins the network thread without a
        deadline) with one: False, logged, if the thread did not end in time."""
        stopper = threading.Thread(
            target=self.client.loop_stop, name="ingest-loop-stop", daemon=True
        )
        stopper.start()
        stopper.join(timeout_s)
        if stopper.is_alive():
            logger.error("paho's network thread did not end within %.0f s", timeout_s)
            return False
        return True

    def ack(self, batch: Sequence[Msg]) -> None:
        """Acknowledge the committed ``batch`` (those of this connection)."""
        generation = self.generation
        client = self.client
        client.ack_many(
            [m.mid for m in batch if m.qos == 1 and m.generation == generation]
        )
        for m in batch:
            if m.qos == 2 and m.generation == generation:  # via paho's path
                client.ack(m.mid, 2)

    # -- paho callbacks (network thread) ----------------------------------------
    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        try:
            if reason.is_failure:
                logger.error("broker refused the connection: %s", reason)
                return
            self.session_present = bool(flags.session_present)
            self.generation += 1
            self.stats.connects += 1
            self.stats.mqtt_connected = True
            logger.info(
                "connected to %s (session present: %s); subscribing %s",
                self.settings.mqtt.url(),
                flags.session_present,
                ", ".join(self.subscriptions),
            )
            client.subscribe([(t, SubscribeOptions(qos=1)) for t in self.subscriptions])
        except Exception:  # paho callbacks must never raise
            logger.exception("on_connect failed")

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any
    ) -> None:
        try:
            failed = [r for r in reasons if r.is_failure]
            if failed:
                logger.error("subscription refused by the broker: %s", failed)
            else:
                self.stats.subscribed = True
        except Exception:
            logger.exception("on_subscribe failed")

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.stats.mqtt_connected = False
        self.stats.subscribed = False
        self.stats.disconnects += 1
        self._disconnected.set()
        if self.paused:
            logger.info("disconnected to resume; the broker keeps the session")
        elif not self._stop.is_set() and not self._closed:
            logger.warning("disconnected from the broker (%s); reconnecting", reason)

    def _enqueue(
        self, topic: bytes, payload: bytes, mid: int, qos: int, dup: bool = False
    ) -> None:
        """The hot path on paho's network thread: count and queue, nothing else.
        ``received`` is counted before the message is queued, so the worker
        never accounts for more than was received. The thread never blocks
        (keepalive pings go out while the database is down)."""
        if not self.accepting or self.paused:
            return  # not acknowledged: the broker redelivers it next session
        depth = self.queue.qsize()
        if depth >= self.queue_limit:
            if depth >= self.hard_limit:
                self._pause()
                return
            if not self._overfull:
                self._wait_for_room()
        elif self._overfull:
            self._overfull = False
        now = time.time()
        stats = self.stats
        stats.received += 1  # only this thread writes it
        stats.last_message_at = now
        if dup:
            stats.redelivered += 1
        self.queue.put(Msg(topic, payload, now, mid, qos, self.generation, dup))

    def _wait_for_room(self) -> None:
        """Block the network thread (it stops reading the socket, TCP holds the
        broker back: Mosquitto sends a resumed session's backlog beyond Receive
        Maximum) until the worker has taken a batch, for ``max_block_s`` at
        most: then the thread goes on (pings, reading) and stops blocking
        until the queue was below the limit again."""
        deadline = time.monotonic() + self.max_block_s
        while self.queue.qsize() >= self.queue_limit and not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                self._overfull = True
                logger.warning(
                    "the worker took nothing for %.1f s; reading on (keepalive)",
                    self.max_block_s,
                )
                return
            self.room.clear()
            if self.queue.qsize() < self.queue_limit:
                return
            self.room.wait(min(0.5, left))

    def _pause(self) -> None:
        """The broker sent more than Receive Maximum allows: stop taking messages
        (those let go are not acknowledged: the broker keeps them in the
        session) instead of holding more in memory or blocking this thread. The
        connection stays up, so keepalive pings go out and the worker still
        acknowledges what it commits on it; :meth:`resume` reconnects once the
        worker has taken everything queued (a reconnect is what makes the
        broker send the let-go messages again)."""
        self.paused = True
        self.stats.pauses += 1
        logger.warning(
            "%d messages queued (beyond Receive Maximum %d): taking no more until "
            "the worker has written them, then reconnecting",
            self.queue.qsize(),
            self.receive_maximum,
        )

    def _on_message(
        self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage
    ) -> None:
        """paho's path (a PUBLISH with MQTT 5 properties): same as the sink."""
        try:
            self._enqueue(
                msg._topic, bytes(msg.payload), msg.mid, msg.qos, bool(msg.dup)
            )
        except Exception:  # paho callbacks must never raise
            logger.exception("on_message failed")
