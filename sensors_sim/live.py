"""Real-time publishing: the simulated building goes on living at the site's
local time after a backfill (``occupancy demo``).

A :class:`LivePublisher` holds the simulated messages that are not due yet
(``send_at`` after now), publishes each one when the wall clock reaches its
``send_at`` (QoS 1), and simulates the next days when the queue runs short,
with the same seed, so the same staff (and badges) keep coming in.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
import pandas as pd
from paho.mqtt.enums import CallbackAPIVersion

from occupancy.building import Site
from occupancy.settings import MqttUrl, parse_mqtt_url

from .engine import simulate
from .scenario import Scenario

logger = logging.getLogger(__name__)

__all__ = ["LivePublisher", "LiveStats", "split_due"]

#: Simulate more days when less than this remains queued [s].
REFILL_AHEAD_S = 3600.0
#: Days simulated at a time when the queue runs short.
REFILL_DAYS = 7


def split_due(
    messages: pd.DataFrame, now: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(messages with ``send_at`` ≤ ``now``, the rest), both in send order."""
    due = messages["send_at"] <= now
    return messages[due], messages[~due]


@dataclass
class LiveStats:
    """What the live publisher did so far."""

    published: int = 0
    queued: int = 0
    last_send_at: pd.Timestamp | None = None
    simulated_until: dt.date | None = None


@dataclass(frozen=True)
class LiveOptions:
    """How :class:`LivePublisher` publishes: under ``topic_root``, as MQTT
    client ``client_id``, a step every ``tick_s`` [s] by ``clock`` (the
    current UTC time; None: the wall clock), and with ``refill=False`` only
    the ``pending`` messages (no further days simulated)."""

    topic_root: str = "occupancy"
    client_id: str = "occupancy-live-sim"
    clock: Callable[[], pd.Timestamp] | None = None
    tick_s: float = 0.5
    refill: bool = True


class LivePublisher:
    """Publishes ``pending`` (columns send_at, topic, payload, retain) in real
    time on its own thread; ``next_day`` is the first local day not simulated
    yet (``refill=False``: publish ``pending`` only). ``clock`` returns the
    current UTC time."""

    def __init__(
        self,
        site: Site,
        scenario: Scenario,
        mqtt_url: str | MqttUrl,
        *,
        pending: pd.DataFrame,
        next_day: dt.date,
        seed: int,
        options: LiveOptions = LiveOptions(),
    ) -> None:
        self._site, self._scenario, self._seed = site, scenario, seed
        self._topic_root = options.topic_root
        self._url = parse_mqtt_url(mqtt_url) if isinstance(mqtt_url, str) else mqtt_url
        self._queue = pending.sort_values("send_at", kind="stable")
        self._next_day = next_day
        self._clock = options.clock or (lambda: pd.Timestamp.now(tz="UTC"))
        self._tick_s = options.tick_s
        self._refill_on = options.refill
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=options.client_id,
            protocol=mqtt.MQTTv311,
        )
        self.stats = LiveStats(queued=len(self._queue), simulated_until=next_day)
        self.error: BaseException | None = None

    def start(self) -> None:
        """Connect to the broker and start publishing."""
        url = self._url
        if url.username:
            self._client.username_pw_set(url.username, url.password)
        if url.tls:
            self._client.tls_set()
        self._client.connect(url.host, url.port, keepalive=30)
        self._client.loop_start()
        self._thread = threading.Thread(
            target=self._run, name="live-publisher", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> LiveStats:
        """Stop publishing and disconnect; returns the figures."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
        self._client.disconnect()
        self._client.loop_stop()
        return self.stats

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.step()
                self._stop.wait(self._tick_s)
        except Exception as exc:  # a thread boundary: log, keep the error
            logger.error("live publisher stopped: %s", exc, exc_info=exc)
            self.error = exc

    def step(self) -> int:
        """Publish what is due now (and refill the queue); returns how many."""
        now = self._clock()
        if (
            len(self._queue) == 0
            or (self._queue["send_at"].iloc[-1] - now).total_seconds() < REFILL_AHEAD_S
        ):
            self._refill(now)
        due, self._queue = split_due(self._queue, now)
        infos: list[Any] = []
        for topic, payload, retain in zip(
            due["topic"].tolist(),
            due["payload"].tolist(),
            due["retain"].tolist(),
            strict=True,
        ):
            infos.append(self._client.publish(topic, payload, 1, bool(retain)))
        for info in infos:
            info.wait_for_publish(timeout=30)
        if len(due):
            self.stats.published += len(due)
            self.stats.last_send_at = due["send_at"].iloc[-1]
        self.stats.queued = len(self._queue)
        return len(due)

    def _refill(self, now: pd.Timestamp) -> None:
        t0 = time.perf_counter()
        result = simulate(
            self._site,
            self._scenario,
            self._next_day,
            REFILL_DAYS,
            self._seed,
            topic_root=self._topic_root,
        )
        last = self._queue["send_at"].iloc[-1] if len(self._queue) else now
        fresh = result.messages[result.messages["send_at"] > last]
        self._queue = pd.concat([self._queue, fresh], ignore_index=True)
        self._next_day += dt.timedelta(days=REFILL_DAYS)
        self.stats.simulated_until = self._next_day
        logger.info(
            "live: simulated %d more days (%d messages) in %.1f s",
            REFILL_DAYS,
            len(fresh),
            time.perf_counter() - t0,
        )
