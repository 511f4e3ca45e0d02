"""``occupancy devices discover``: listen, group what is heard by family and
device, and propose building-file entries.

The core (:class:`Collector`, :func:`proposals`, :func:`guess_space`,
:func:`yaml_fragment`) is pure; :func:`listen` is the MQTT edge: its own
client id, a clean session, QoS 0, never publishes, writes nothing to the
database. Badge/BLE payloads are never kept: only their kinds (raw MACs and
beacon ids are personal data).
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from ingest.context import DecodeContext
from ingest.registry import decode_message
from occupancy.building import Site
from occupancy.events import Kind
from occupancy.settings import MqttUrl

logger = logging.getLogger(__name__)

__all__ = ["Collector", "Proposal", "guess_space", "listen", "yaml_fragment"]

#: What a withheld badge/BLE payload shows instead of the payload.
WITHHELD = "(BLE sighting: payload withheld, badge ids are personal data)"
#: Below this similarity [0-1] no space is proposed.
MIN_SCORE = 0.55
MAX_PAYLOAD_CHARS = 300


@dataclass
class Seen:
    """What was heard from one device."""

    device_id: str
    family: str
    kinds: set[str] = field(default_factory=set)
    messages: int = 0
    last_topic: str = ""
    last_payload: str = ""
    refused: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Proposal:
    """A proposed building-file device entry."""

    device_id: str
    family: str
    kinds: tuple[str, ...]
    messages: int
    last_topic: str
    last_payload: str
    space: str | None
    space_kind: str | None  # desk | room | zone
    score: float
    known: bool  # already in the building file
    refused: dict[str, int]

    @property
    def device_kind(self) -> str:
        if "badge" in self.kinds:
            return "ble_scanner"
        if self.space_kind == "zone":
            return "zone_counter"
        if self.space_kind == "room" or "count" in self.kinds:
            return "room_counter"
        return "desk_sensor"


class Collector:
    """Feeds messages through the decoders (no building: every device is
    accepted) and keeps, per device, family, kinds and the last payload."""

    def __init__(self, tz: str = "UTC") -> None:
        from zoneinfo import ZoneInfo

        # an ephemeral key so sightings decode; nothing is stored or shown
        self.ctx = DecodeContext(
            tz=ZoneInfo(tz), pseudonym_key=secrets.token_hex(16), max_clock_skew_s=0
        )
        self.devices: dict[str, Seen] = {}
        self.messages = 0
        self.unknown_topics: dict[str, int] = {}

    def feed(self, topic: str, payload: bytes, received_at: dt.datetime) -> None:
        self.messages += 1
        r = decode_message(topic, payload, received_at, self.ctx)
        if r.rejection is not None and r.rejection.reason == "unknown_topic":
            root = topic.split("/", 1)[0]
            self.unknown_topics[root] = self.unknown_topics.get(root, 0) + 1
            return
        ids: dict[str, tuple[str, set[str]]] = {}
        for e in r.events:
            ids.setdefault(e.device_id, (e.family, set()))[1].add(str(e.kind))
        for d in r.discovered:
            ids.setdefault(d.device_id, (d.family, set()))[1].update(d.kinds)
        if not ids and r.device_id and r.rejection is not None:
            ids[r.device_id] = ("?", set())
        for device, (family, kinds) in ids.items():
            seen = self.devices.setdefault(device, Seen(device, family))
            if family != "?":
                seen.family = family
            seen.kinds |= kinds
            seen.messages += 1
            seen.last_topic = topic
            seen.last_payload = _shown(payload, kinds)
            if r.rejection is not None:
                reason = r.rejection.reason
                seen.refused[reason] = seen.refused.get(reason, 0) + 1


def _shown(payload: bytes, kinds: set[str]) -> str:
    if str(Kind.BADGE) in kinds:
        return WITHHELD
    text = payload.decode("utf-8", "replace")
    return text if len(text) <= MAX_PAYLOAD_CHARS else text[:MAX_PAYLOAD_CHARS] + "…"


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _candidates(site: Site) -> list[tuple[str, str, str]]:
    """``(space id, kind, name)`` for every desk, room and zone."""
    out = [(s.id, "desk", s.name) for s in site.desks()]
    out += [(r.id, "room", r.name) for r in site.rooms()]
    out += [(z.id, "zone", z.name) for z in site.zones()]
    return out


def guess_space(
    device_id: str, site: Site | None
) -> tuple[str | None, str | None, float]:
    """The desk, room or zone whose id or name is most like ``device_id``
    (0-1 score: the share of the space's words found in the device name,
    weighted 0.7, plus 0.3 x the character similarity), or ``(None, None,
    score)`` below :data:`MIN_SCORE`."""
    if site is None:
        return None, None, 0.0
    name = _norm(device_id)
    words = set(name.split())
    best: tuple[str | None, str | None, float] = (None, None, 0.0)
    for sid, kind, label in _candidates(site):
        for part in (_norm(sid), _norm(label)):
            if not part:
                continue
            tokens = part.split()
            contained = sum(t in words for t in tokens) / len(tokens)
            ratio = difflib.SequenceMatcher(None, name, part).ratio()
            score = 0.7 * contained + 0.3 * ratio
            if score > best[2]:
                best = (sid, kind, score)
    return best if best[2] >= MIN_SCORE else (None, None, best[2])


def proposals(collector: Collector, site: Site | None) -> list[Proposal]:
    known = {d.id for d in site.devices} if site is not None else set()
    out = []
    for seen in sorted(
        collector.devices.values(), key=lambda s: (s.family, s.device_id)
    ):
        space, kind, score = guess_space(seen.device_id, site)
        out.append(
            Proposal(
                seen.device_id,
                seen.family,
                tuple(sorted(seen.kinds)),
                seen.messages,
                seen.last_topic,
                seen.last_payload,
                space,
                kind,
                round(score, 2),
                seen.device_id in known,
                dict(seen.refused),
            )
        )
    return out


def yaml_fragment(props: Iterable[Proposal], header: str) -> str:
    """The ``devices:`` entries to merge into the building file (devices the
    building file does not list yet); guesses are marked for checking."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines.append("devices:")
    for p in props:
        if p.known:
            continue
        entry: dict[str, object] = {"id": p.device_id, "kind": p.device_kind}
        entry["family"] = p.family
        key = "zone" if p.space_kind == "zone" else "space"
        if p.space is not None:
            entry[key] = p.space
        dumped = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False)
        lines.append(f"# {p.family}: reports {', '.join(p.kinds) or 'nothing yet'}")
        if p.space is None:
            lines.append("# no space guessed: add space: (desk/room) or zone:")
        else:
            lines.append(
                f"# {key} guessed from the name (similarity {p.score}): check it"
            )
        lines.extend(dumped.rstrip("\n").splitlines())
    return "\n".join(lines) + "\n"


def listen(
    url: MqttUrl,
    topics: list[str],
    seconds: float,
    collector: Collector,
    *,
    on_ready: Callable[[], None] | None = None,
    client_id: str | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Subscribe read-only (QoS 0, clean session, own client id) and feed
    ``collector`` for ``seconds`` [s] after the subscription is granted (or
    until ``stop`` is set)."""
    cid = client_id or f"occupancy-discover-{uuid.uuid4().hex[:8]}"
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cid, clean_session=True)
    if url.username:
        client.username_pw_set(url.username, url.password)
    if url.tls:
        client.tls_set()
    subscribed = threading.Event()
    lock = threading.Lock()

    def on_connect(c: mqtt.Client, *_: object) -> None:
        c.subscribe([(t, 0) for t in topics])

    def on_subscribe(*_: object) -> None:
        subscribed.set()

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        try:
            with lock:
                collector.feed(msg.topic, bytes(msg.payload), dt.datetime.now(dt.UTC))
        except Exception:  # paho callbacks must never raise
            logger.exception("discover: message on %s", msg.topic)

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    try:
        client.connect(url.host, url.port, keepalive=30)
    except OSError as exc:
        raise ConnectionError(f"cannot reach the broker {url.url()}: {exc}") from exc
    client.loop_start()
    try:
        if not subscribed.wait(10):
            raise ConnectionError(f"no subscription granted by {url.host}:{url.port}")
        if on_ready is not None:
            on_ready()
        (stop or threading.Event()).wait(seconds)  # the listening window
    finally:
        client.disconnect()
        client.loop_stop()
