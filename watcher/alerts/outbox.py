"""The outbox: alerts written with their cause, then sent at most once per channel.

An alert row is written in the same transaction as the change that causes
it, before anything is sent. Sending claims the row first (state
``sending``), then records the outcome. A process that dies between the two
leaves the row ``sending``; the next start marks it ``uncertain`` instead of
sending it again, and ``watcher outbox retry`` re-sends it on request. A
channel that is down only delays an alert: it is retried with exponential
backoff, and kept as ``failed`` (visible, re-sendable) after the last try.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, true, update

from watcher.alerts.health import HealthEvent
from watcher.config import Routing
from watcher.facts.known import ChangeEvent
from watcher.models import AlertKind, AlertState, Digest, FactChange
from watcher.store import Store, alerts, aware, decode_data, encode_data, utcnow


class OutboxError(Exception):
    """A request about the outbox that cannot be met; ``str()`` is one line."""


@dataclass(frozen=True)
class OutgoingAlert:
    id: int
    kind: AlertKind
    change_id: int | None
    subject_key: str
    channel: str
    idempotency_key: str
    payload: dict[str, Any]
    state: AlertState
    attempts: int
    next_attempt: datetime
    last_error: str | None
    message_id: str | None
    created_at: datetime
    sent_at: datetime | None
    parts_delivered: int = 0  # of a message sent in parts, while it is being sent

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "change_id": self.change_id,
            "subject_key": self.subject_key,
            "channel": self.channel,
            "state": self.state,
            "attempts": self.attempts,
            "next_attempt": self.next_attempt.isoformat(),
            "last_error": self.last_error,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
        }


def outbox_json(listed: list[OutgoingAlert]) -> dict[str, Any]:
    """``{"alerts": [...]}``: what ``watcher outbox --json`` prints and ``/api/outbox`` serves."""
    return {"alerts": [alert.to_json() for alert in listed]}


def _row(row: Any) -> OutgoingAlert | None:
    payload = decode_data("alerts", row["id"], row["payload"])
    if payload is None:
        return None
    return OutgoingAlert(
        id=row["id"],
        kind=AlertKind(row["kind"]),
        change_id=row["change_id"],
        subject_key=row["subject_key"],
        channel=row["channel"],
        idempotency_key=row["idempotency_key"],
        payload=payload,
        state=AlertState(row["state"]),
        attempts=row["attempts"],
        next_attempt=aware(row["next_attempt"]),
        last_error=row["last_error"],
        message_id=row["message_id"],
        created_at=aware(row["created_at"]),
        sent_at=aware(row["sent_at"]),
        parts_delivered=row["parts_delivered"],
    )


def enqueue(
    conn: Connection,
    *,
    kind: AlertKind,
    channel: str,
    idempotency_key: str,
    subject_key: str,
    payload: dict[str, Any],
    change_id: int | None = None,
    at: datetime,
) -> bool:
    """Add an alert unless one with the same idempotency key exists; True if added."""
    exists = conn.execute(
        select(alerts.c.id).where(alerts.c.idempotency_key == idempotency_key)
    ).first()
    if exists:
        return False
    conn.execute(
        insert(alerts).values(
            kind=kind,
            change_id=change_id,
            subject_key=subject_key,
            channel=channel,
            idempotency_key=idempotency_key,
            payload=encode_data(payload, sort_keys=True),
            state=AlertState.PENDING,
            attempts=0,
            next_attempt=at,
            created_at=at,
        )
    )
    return True


def enqueue_change(
    conn: Connection,
    change: FactChange,
    event: str,
    channels: dict[str, Routing],
    *,
    at: datetime,
    subject_key: str | None = None,
) -> list[str]:
    """Queue the alerts a change causes now; returns the channels it goes to.

    ``subject_key`` is what alerts about the same fact share (a mail thread):
    the fact key, or with several stories the story and the key.

    A channel sending every change gets one alert when it is first reported
    and a follow-up when it is confirmed; a channel sending confirmed changes
    gets one, when it is confirmed. More evidence for the same status is for
    the digest, and so is a change that only corrects where another started.
    """
    if event in (ChangeEvent.CORROBORATED, ChangeEvent.CORRECTED):
        return []
    queued = []
    for name, routing in channels.items():
        if not routing.sends_at_once(change.key, change.status):
            continue
        if enqueue(
            conn,
            kind=AlertKind.CHANGE,
            channel=name,
            idempotency_key=f"change:{change.change_id}:{change.status}:{name}",
            subject_key=subject_key or change.key,
            payload=change.to_json(),
            change_id=change.change_id,
            at=at,
        ):
            queued.append(name)
    return queued


def enqueue_health(
    conn: Connection, event: HealthEvent, channels: dict[str, Routing], *, at: datetime
) -> list[str]:
    """Queue a source's health alert (failing, silent, recovered) on channels that want them."""
    queued = []
    for name, routing in channels.items():
        if routing.health and enqueue(
            conn,
            kind=AlertKind.HEALTH,
            channel=name,
            idempotency_key=f"health:{event.source}:{event.kind}:{event.at.isoformat()}:{name}",
            subject_key=event.subject_key,
            payload=event.to_json(),
            at=at,
        ):
            queued.append(name)
    return queued


def enqueue_digest(
    conn: Connection, digest: Digest, channel: str, *, at: datetime, story: str | None = None
) -> bool:
    """Queue a digest; the same channel and period end (and ``story``, of a config that
    names its stories) is queued once."""
    part = f"{story}:" if story else ""
    return enqueue(
        conn,
        kind=AlertKind.DIGEST,
        channel=channel,
        idempotency_key=f"digest:{part}{channel}:{digest.period_end.isoformat()}",
        subject_key=f"digest:{part}{channel}",
        payload=digest.to_json(),
        at=at,
    )


def digest_covered(store: Store, channel: str, end: datetime) -> bool:
    """Whether a digest for ``channel`` covering a period that ends after ``end`` (UTC)
    is queued: one sent on request supersedes the scheduled one before it."""
    with store.engine.connect() as conn:
        found = conn.execute(
            select(alerts.c.id)
            .where(
                alerts.c.kind == AlertKind.DIGEST,
                alerts.c.channel == channel,
                alerts.c.created_at > end,
            )
            .limit(1)
        ).first()
    return found is not None


@dataclass
class DispatchReport:
    """What one or more rounds of sending did."""

    sent: list[OutgoingAlert] = field(default_factory=list)
    # Alerts that failed this round and will be tried again, with the reason.
    retrying: list[tuple[OutgoingAlert, str]] = field(default_factory=list)
    # Alerts that failed for good (visible in `watcher outbox`), with the reason.
    failed: list[tuple[OutgoingAlert, str]] = field(default_factory=list)
    # Channels skipped for the rest of the round after a temporary failure.
    down: dict[str, str] = field(default_factory=dict)

    def extend(self, other: DispatchReport) -> None:
        """Add a later round's outcome to this one."""
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.down.update(other.down)

    def to_json(self) -> dict[str, Any]:
        return {
            "sent": [{"id": a.id, "kind": a.kind, "channel": a.channel} for a in self.sent],
            "retrying": [{"id": a.id, "channel": a.channel, "reason": r} for a, r in self.retrying],
            "failed": [{"id": a.id, "channel": a.channel, "reason": r} for a, r in self.failed],
        }


class Outbox:
    def __init__(self, store: Store, *, max_attempts: int, backoff: float, backoff_max: float):
        self.store = store
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_max = backoff_max

    def recover(self, *, older_than: float = 0.0) -> int:
        """Mark alerts left ``sending`` by a dead process as ``uncertain``; never resend them.

        Only claims older than ``older_than`` seconds are taken as dead, so a
        process checking the outbox does not misjudge another one that is
        sending right now.
        """
        cutoff = utcnow() - timedelta(seconds=older_than)
        with self.store.transaction() as conn:
            result = conn.execute(
                update(alerts)
                .where(alerts.c.state == AlertState.SENDING, alerts.c.next_attempt <= cutoff)
                .values(
                    state=AlertState.UNCERTAIN,
                    last_error="the sender stopped between sending and recording; "
                    "it may have been delivered (watcher outbox retry to send again)",
                )
            )
        return result.rowcount or 0

    def has_work(self, now: datetime | None = None) -> bool:
        """Whether anything waits for a sender: an alert due, or one left mid-send (to
        recover). A cheap read, so that a pass with nothing to send loads no channel."""
        now = now or utcnow()
        query = (
            select(alerts.c.id)
            .where(
                ((alerts.c.state == "pending") & (alerts.c.next_attempt <= now))
                | (alerts.c.state == "sending")
            )
            .limit(1)
        )
        with self.store.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def due(
        self, now: datetime | None = None, channels: set[str] | None = None
    ) -> list[OutgoingAlert]:
        now = now or utcnow()
        query = (
            select(alerts)
            .where(alerts.c.state == AlertState.PENDING, alerts.c.next_attempt <= now)
            .order_by(alerts.c.created_at, alerts.c.id)
        )
        if channels is not None:
            query = query.where(alerts.c.channel.in_(channels))
        with self.store.engine.connect() as conn:
            return [a for r in conn.execute(query).mappings() if (a := _row(r))]

    def claim(self, alert: OutgoingAlert) -> bool:
        """Take a pending alert for sending; False if another process took it first."""
        with self.store.transaction() as conn:
            result = conn.execute(
                update(alerts)
                .where(alerts.c.id == alert.id, alerts.c.state == AlertState.PENDING)
                # next_attempt holds the claim time while sending (see recover).
                .values(
                    state=AlertState.SENDING, attempts=alerts.c.attempts + 1, next_attempt=utcnow()
                )
            )
        return result.rowcount == 1

    def progress(self, alert: OutgoingAlert, parts: int) -> None:
        """Note how many parts of a message sent in parts were delivered.

        A retry of the alert reads it back and starts after the parts delivered.
        """
        with self.store.transaction() as conn:
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert.id, alerts.c.state == AlertState.SENDING)
                .values(parts_delivered=parts)
            )

    def sent(self, alert: OutgoingAlert, *, message_id: str | None = None) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert.id)
                .values(
                    state=AlertState.SENT, sent_at=utcnow(), last_error=None, message_id=message_id
                )
            )

    def failed(
        self,
        alert: OutgoingAlert,
        reason: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
    ) -> str:
        """Record a failed attempt; returns the new state (pending or failed)."""
        attempts = alert.attempts + 1
        if permanent or attempts >= self.max_attempts:
            values: dict[str, Any] = {"state": AlertState.FAILED, "last_error": reason}
        else:
            wait = min(self.backoff * 2 ** (attempts - 1), self.backoff_max)
            if retry_after is not None:
                wait = max(wait, retry_after)
            values = {
                "state": AlertState.PENDING,
                "last_error": reason,
                "next_attempt": utcnow() + timedelta(seconds=wait),
            }
        with self.store.transaction() as conn:
            conn.execute(update(alerts).where(alerts.c.id == alert.id).values(**values))
        return values["state"]

    def retry(self, ids: list[int] | None = None) -> int:
        """Make alerts (all, or the given ones) due now; returns how many.

        Failed and uncertain alerts start again from their first attempt;
        pending ones waiting out a backoff are simply due now. An id that is
        not in the outbox, or whose alert was sent or is being sent, is an
        :class:`OutboxError` and nothing changes.
        """
        now = utcnow()
        with self.store.transaction() as conn:
            if ids:
                self._check_retryable(conn, ids)
            chosen = alerts.c.id.in_(ids) if ids else true()
            revived = conn.execute(
                update(alerts)
                .where(chosen, alerts.c.state.in_((AlertState.FAILED, AlertState.UNCERTAIN)))
                .values(state=AlertState.PENDING, attempts=0, next_attempt=now)
            ).rowcount
            hurried = conn.execute(
                update(alerts)
                .where(chosen, alerts.c.state == AlertState.PENDING, alerts.c.next_attempt > now)
                .values(next_attempt=now)
            ).rowcount
        return (revived or 0) + (hurried or 0)

    @staticmethod
    def _check_retryable(conn: Connection, ids: list[int]) -> None:
        states = dict(
            conn.execute(select(alerts.c.id, alerts.c.state).where(alerts.c.id.in_(ids))).all()
        )
        unknown = sorted(set(ids) - set(states))
        if unknown:
            listed = ", ".join(str(i) for i in unknown)
            raise OutboxError(f"no alert {listed} in the outbox (see `watcher outbox`)")
        for alert_id in sorted(set(ids)):
            if states[alert_id] == AlertState.SENT:
                raise OutboxError(f"alert {alert_id} was sent already; nothing to retry")
            if states[alert_id] == AlertState.SENDING:
                raise OutboxError(f"alert {alert_id} is being sent right now")

    def listing(
        self,
        states: tuple[str, ...] = (
            AlertState.PENDING,
            AlertState.SENDING,
            AlertState.FAILED,
            AlertState.UNCERTAIN,
        ),
    ) -> list[OutgoingAlert]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(alerts).where(alerts.c.state.in_(states)).order_by(alerts.c.id)
            ).mappings()
            return [a for r in rows if (a := _row(r))]

    def thread_root(self, channel: str, subject_key: str) -> str | None:
        """The Message-ID of the first alert sent on this channel about this subject."""
        with self.store.engine.connect() as conn:
            return conn.execute(
                select(alerts.c.message_id)
                .where(
                    alerts.c.channel == channel,
                    alerts.c.subject_key == subject_key,
                    alerts.c.kind == AlertKind.CHANGE,
                    alerts.c.message_id.is_not(None),
                    alerts.c.state == AlertState.SENT,
                )
                .order_by(alerts.c.sent_at, alerts.c.id)
                .limit(1)
            ).scalar()
