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
  write, in order (the broker sees the same byte stream as N ``ack()`` calls);
- reads are buffered: paho asks the socket for 1 byte (packet type), 1 byte per
  length byte, then the rest, and reads one packet per ``select()`` when no
  QoS 2 flow is open. :class:`FastClient` receives up to :data:`RECV_CHUNK`
  bytes per system call and hands paho those bytes from its buffer, and
  :meth:`FastClient.loop_read` reads every packet available (until the socket
  would block) before paho selects again. The broker can send at most Receive
  Maximum unacknowledged PUBLISH packets, and acknowledgements go out only
  after reading, so the loop is bounded.

All rely on paho 2.x internals (``_in_packet``, ``_packet_queue``); they are
used only with the paho releases they were tested with (:data:`TESTED_PAHO`)
and when those internals exist (:data:`SUPPORTED`); otherwise paho's plain path
runs. The fast path is opt-in (setting ``mqtt_fast_path``): the default is
:class:`StockClient`, paho through its public API, behind the same small
interface (:class:`IngestClient`: ``sink`` and ``ack_many``).
``tests/ingest/test_ingest_fastclient.py`` checks both against the same inputs.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal, Protocol, TypedDict, Unpack

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion

logger = logging.getLogger(__name__)

__all__ = [
    "SUPPORTED",
    "TESTED_PAHO",
    "ClientOptions",
    "FastClient",
    "IngestClient",
    "Sink",
    "StockClient",
    "make_client",
]

#: ``(topic bytes, payload bytes, mid, qos, dup)``; must be cheap and never
#: raise. ``dup``: the broker's DUP flag (a redelivery of a message it sent us).
Sink = Callable[[bytes, bytes, int, int, bool], None]


class ClientOptions(TypedDict, total=False):
    """The keywords of ``paho.mqtt.client.Client`` (paho 2.2), passed through."""

    callback_api_version: CallbackAPIVersion
    client_id: str | None
    clean_session: bool | None
    userdata: object
    protocol: MQTTProtocolVersion
    transport: Literal["tcp", "websockets", "unix"]
    reconnect_on_failure: bool
    manual_ack: bool


_PUBACK = 0x40
#: Bytes asked of the socket per receive call.
RECV_CHUNK = 1 << 16
#: Packets read per :meth:`FastClient.loop_read` call at most (a safety bound).
MAX_READ_PACKETS = 1 << 17
_PUBACK_PACKET = struct.Struct("!BBH")

#: paho-mqtt releases the fast path was tested with (major, minor); the same
#: range is pinned in pyproject.toml.
TESTED_PAHO = ((2, 2),)


def _paho_version() -> tuple[int, int]:
    try:
        major, minor = version("paho-mqtt").split(".")[:2]
        return int(major), int(minor)
    except (PackageNotFoundError, ValueError):
        return (0, 0)


#: The paho internals the shortcuts use are present, in a tested release.
SUPPORTED = _paho_version() in TESTED_PAHO and all(
    hasattr(mqtt.Client, name)
    for name in (
        "_handle_publish",
        "_packet_queue",
        "_send_puback",
        "_sock_recv",
        "_packet_read",
        "_loop_rc_handle",
    )
)


class IngestClient(Protocol):
    """What the ingester needs of its MQTT client beyond paho's public API."""

    sink: Sink | None

    def ack_many(self, mids: Sequence[int]) -> None: ...


class StockClient(mqtt.Client):
    """paho's client as it is: every message through ``on_message``, one
    ``ack()`` per message (``sink`` is never called)."""

    def __init__(self, **kwargs: Unpack[ClientOptions]) -> None:
        super().__init__(**kwargs)
        self.sink: Sink | None = None

    def ack_many(self, mids: Sequence[int]) -> None:
        for mid in mids:
            self.ack(mid, 1)


def make_client(
    fast: bool, **kwargs: Unpack[ClientOptions]
) -> StockClient | FastClient:
    """The fast-path client when asked for and supported, else stock paho."""
    if fast and not SUPPORTED:
        logger.warning(
            "mqtt_fast_path: paho-mqtt %s is not a tested release (%s); using "
            "stock paho",
            ".".join(map(str, _paho_version())),
            ", ".join(".".join(map(str, v)) for v in TESTED_PAHO),
        )
    return FastClient(**kwargs) if fast and SUPPORTED else StockClient(**kwargs)


class FastClient(mqtt.Client):
    """``paho.mqtt.client.Client`` plus :attr:`sink` and :meth:`ack_many`."""

    def __init__(self, **kwargs: Unpack[ClientOptions]) -> None:
        super().__init__(**kwargs)
        #: Receives PUBLISH packets without properties; ``None``: paho's path.
        self.sink: Sink | None = None
        self._rbuf = b""  # bytes received and not yet handed to paho
        self._rpos = 0
        self._rsock: Any = None  # the socket _rbuf came from

    def _sock_recv(self, bufsize: int) -> bytes:
        """Up to ``bufsize`` bytes, from the buffer or one ``recv(RECV_CHUNK)``.
        Raises what the socket raises (``BlockingIOError`` when nothing is there)."""
        if not SUPPORTED:
            return super()._sock_recv(bufsize)
        sock = self._sock
        if sock is not self._rsock:  # a new connection: nothing buffered is valid
            self._rbuf, self._rpos, self._rsock = b"", 0, sock
        pos = self._rpos
        buf = self._rbuf
        if pos >= len(buf):
            buf = super()._sock_recv(RECV_CHUNK)
            if not buf:
                return buf  # connection closed; paho handles it
            self._rbuf, pos = buf, 0
        end = pos + bufsize
        self._rpos = end
        return buf[pos:end]

    def _buffered(self) -> bool:
        return self._rpos < len(self._rbuf) and self._rsock is self._sock

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Read and handle every packet available: until the socket would block
        and the buffer is empty (paho's own reads one packet per ``select()``)."""
        if not SUPPORTED:
            return super().loop_read(max_packets)
        for _ in range(MAX_READ_PACKETS):
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN and not self._buffered():
                break
        return MQTTErrorCode.MQTT_ERR_SUCCESS

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
            bool(header & 0x08),
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
