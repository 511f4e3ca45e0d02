"""A paho client with a lean path for incoming MQTT 5 PUBLISH packets.

paho builds an ``MQTTMessage`` and a ``Properties`` object for every incoming
PUBLISH and acknowledges one message per call; at thousands of messages per
second that is most of the ingester's CPU. :class:`FastClient` keeps paho's
connection handling, keepalive, reconnection and session logic unchanged and
adds two shortcuts:

- a PUBLISH (QoS 0/1) without MQTT 5 properties is handed to ``sink(topic
  bytes, payload bytes, mid, qos)`` directly; anything else (QoS 2, properties
  present, a malformed packet, no sink) takes paho's own path;
- :meth:`FastClient.ack_many` queues the PUBACKs of a committed batch as one
  write, in order (the broker sees the same byte stream as N ``ack()`` calls).

Both rely on paho 2.x internals (``_in_packet``, ``_packet_queue``); they are
checked at construction (:data:`SUPPORTED`) and the plain paho path is used when
they are missing.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion

logger = logging.getLogger(__name__)

__all__ = ["SUPPORTED", "FastClient", "Sink"]

#: ``(topic bytes, payload bytes, mid, qos)``; must be cheap and never raise.
Sink = Callable[[bytes, bytes, int, int], None]

_PUBACK = 0x40
_PUBACK_PACKET = struct.Struct("!BBH")

#: The paho internals the shortcuts use are present.
SUPPORTED = all(
    hasattr(mqtt.Client, name)
    for name in ("_handle_publish", "_packet_queue", "_send_puback")
)


class FastClient(mqtt.Client):
    """``paho.mqtt.client.Client`` plus :attr:`sink` and :meth:`ack_many`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Receives PUBLISH packets without properties; ``None``: paho's path.
        self.sink: Sink | None = None

    def _handle_publish(self) -> MQTTErrorCode:
        sink = self.sink
        pkt = self._in_packet
        header = pkt["command"]
        qos = (header & 0x06) >> 1
        if (
            sink is None
            or not SUPPORTED
            or qos == 2
            or self._protocol != MQTTProtocolVersion.MQTTv5
            or self._logger is not None
            or self.on_log is not None
        ):
            return super()._handle_publish()
        packet = pkt["packet"]
        n = len(packet)
        if n < 2:
            return super()._handle_publish()  # malformed: paho raises as usual
        pos = 2 + ((packet[0] << 8) | packet[1])
        mid = 0
        if qos:
            if n < pos + 2:
                return super()._handle_publish()
            mid = (packet[pos] << 8) | packet[pos + 1]
            pos += 2
        # Properties length is a variable byte integer; 0 is the single byte 0.
        if n < pos + 1 or packet[pos] != 0:
            return super()._handle_publish()
        sink(
            bytes(packet[2 : 2 + ((packet[0] << 8) | packet[1])]),
            bytes(packet[pos + 1 :]),
            mid,
            qos,
        )
        if qos == 1 and not self._manual_ack:
            return self._send_puback(mid)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def ack_many(self, mids: Sequence[int]) -> None:
        """Acknowledge QoS 1 messages ``mids`` (in this order) in one write."""
        if not mids:
            return
        if not SUPPORTED:
            for mid in mids:
                self.ack(mid, 1)
            return
        pack = _PUBACK_PACKET.pack
        packet = b"".join([pack(_PUBACK, 2, mid) for mid in mids])
        self._packet_queue(_PUBACK, packet, 0, 1)
