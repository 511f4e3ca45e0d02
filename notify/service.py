"""The long-running notifier behind ``occupancy alerts run`` and
``occupancy webhooks run``: every ``notify_interval_s`` it reads the live
state (space.state webhooks), evaluates the alert rules (email + alert
webhooks) and delivers due webhook events. A failing round is logged and the
next one starts; nothing is lost (the outbox and the alerts table hold it)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notify.alerts import Alert, firing, read_inputs, sync_alerts
from notify.livewatch import watch_once
from notify.mail import MailError, send_mail
from notify.webhooks import DeliveryPolicy, deliver_pending, enqueue
from occupancy.db import Connection, DatabaseError, connect
from occupancy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["Notifier", "RoundStats"]


@dataclass
class RoundStats:
    rounds: int = 0
    state_changes: int = 0
    raised: int = 0
    resolved: int = 0
    delivered: int = 0
    emails: int = 0
    errors: list[str] = field(default_factory=list)


def _alert_payload(a: Alert, event: str) -> dict[str, Any]:
    return {
        "event": event,  # raised or resolved
        "alert_id": a.alert_id,
        "rule": a.rule,
        "subject": a.subject,
        "severity": a.severity,
        "message": a.message,
        "value": a.value,
        "raised_at": a.raised_at.isoformat(),
        "resolved_at": a.resolved_at.isoformat() if a.resolved_at else None,
    }


class Notifier:
    """``alerts``: evaluate alert rules; ``states``: space.state webhooks."""

    def __init__(
        self, settings: Settings, *, alerts: bool = True, states: bool = True
    ) -> None:
        self.settings = settings
        self.alerts, self.states = alerts, states
        self.policy = DeliveryPolicy.from_settings(settings)
        self.stats = RoundStats()
        self._conn: Connection | None = None

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.settings.effective_database_url,
                                 application_name="occupancy-notify")  # fmt: skip
        return self._conn

    def _mail(self, raised: list[Alert], resolved: list[Alert]) -> None:
        s = self.settings
        if not (s.smtp_url and s.alert_email_to) or not (raised or resolved):
            return
        lines = [
            f"RAISED   [{a.severity}] {a.rule} {a.subject}: {a.message}" for a in raised
        ]
        lines += [f"RESOLVED {a.rule} {a.subject}: {a.message}" for a in resolved]
        subject = f"[occupancy] {len(raised)} alert(s) raised, {len(resolved)} resolved"
        if len(raised) + len(resolved) == 1:
            a = (raised or resolved)[0]
            subject = f"[occupancy] {'RAISED' if raised else 'RESOLVED'}: {a.rule} {a.subject}"
        try:
            send_mail(s.smtp_url, s.smtp_from, tuple(s.alert_email_to), subject,
                      "\n".join(lines) + "\n")  # fmt: skip
            self.stats.emails += 1
        except MailError as exc:
            # Alerts stay in the table; the webhook path still carries them.
            logger.error("alert email failed: %s", exc)

    def run_alerts(self, conn: Connection, now: dt.datetime) -> None:
        now_firing = firing(read_inputs(conn, self.settings, now), self.settings, now)
        raised, resolved = sync_alerts(conn, now_firing)
        enqueue(conn, [("alert", f"{a.rule}:{a.subject}", _alert_payload(a, "raised")) for a in raised]
                + [("alert", f"{a.rule}:{a.subject}", _alert_payload(a, "resolved")) for a in resolved])  # fmt: skip
        conn.commit()
        for a in raised:
            logger.warning("alert raised: %s %s: %s", a.rule, a.subject, a.message)
        for a in resolved:
            logger.info("alert resolved: %s %s", a.rule, a.subject)
        self.stats.raised += len(raised)
        self.stats.resolved += len(resolved)
        self._mail(raised, resolved)

    def round(self, now: dt.datetime | None = None) -> None:
        """One round; exceptions propagate (see :meth:`run`)."""
        now = now or dt.datetime.now(dt.UTC)
        conn = self._connection()
        if self.states:
            self.stats.state_changes += watch_once(conn, self.settings, now)
        if self.alerts:
            self.run_alerts(conn, now)
        self.stats.delivered += deliver_pending(conn, self.policy)
        self.stats.rounds += 1
        if self.settings.notify_health_file:
            Path(self.settings.notify_health_file).touch()

    def run(self, stop: threading.Event) -> None:
        interval = self.settings.notify_interval_s
        while not stop.is_set():
            try:
                self.round()
            except Exception as exc:  # the service boundary: log, reconnect, go on
                logger.error(
                    "notifier round failed: %s",
                    exc,
                    exc_info=not isinstance(exc, DatabaseError),
                )
                self.stats.errors.append(str(exc))
                if self._conn is not None:
                    try:
                        self._conn.close()
                    except Exception:
                        logger.debug("close failed", exc_info=True)
                    self._conn = None
            stop.wait(interval)
        if self._conn is not None:
            self._conn.close()
