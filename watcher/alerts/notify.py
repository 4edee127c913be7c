"""Sending what the outbox holds: each alert rendered and handed to its channel.

A channel that fails with a temporary error is not tried again in the same
round: its other alerts keep their place and wait, so a down mail server
costs one timeout per round, not one per alert.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from watcher.alerts.channels import ChannelError
from watcher.alerts.health import HealthEvent
from watcher.alerts.mailer import (
    MailSettings,
    build_alert_message,
    build_digest_message,
    make_message_id,
    send_mail,
)
from watcher.alerts.outbox import DispatchReport, Outbox, OutgoingAlert
from watcher.alerts.render import Renderer, sample_change
from watcher.alerts.slack import build_alert_payload, build_digest_payloads, post_webhook
from watcher.config import AppriseChannel, Config, EmailChannel, Routing, SlackChannel
from watcher.logs import redact, register_secret
from watcher.models import AlertKind, AlertState, Digest, FactChange
from watcher.store import Store, StoreError, utcnow

log = logging.getLogger(__name__)

# A claim older than this belongs to a sender that died: no send takes so long.
STALE_CLAIM = 600.0


def health_change(event: HealthEvent) -> FactChange:
    """A source's health shown like a fact change: ``Source x: ok → failing``."""
    return FactChange(
        change_id=0,
        key=event.subject_key,
        label=f"Source {event.source}",
        change_type=AlertKind.HEALTH,  # a source's health, not a ChangeType
        old=event.previous,
        new=event.kind,
        status=event.detail,
        first_seen=event.at,
        evidence=(),
    )


def what_it_says(alert: OutgoingAlert) -> str:
    """An alert in one line for the log: what changed, from what to what."""
    payload = alert.payload
    try:
        if alert.kind == AlertKind.CHANGE:
            change = FactChange.from_json(payload)
            return f"{change.label}: {change.old or 'unknown'} -> {change.new} ({change.status})"
        if alert.kind == AlertKind.HEALTH:
            event = HealthEvent.from_json(payload)
            return f"source {event.source}: {event.previous} -> {event.kind}"
        if alert.kind == AlertKind.DIGEST:
            digest = Digest.from_json(payload)
            return f"{digest.title} ({len(digest.changes)} change(s))"
    except (KeyError, TypeError, ValueError):
        pass
    return alert.subject_key


class Channel(Protocol):
    name: str

    def send_change(self, change: FactChange, alert: OutgoingAlert) -> str | None:
        """Send one alert; return the Message-ID when the channel has one."""

    def send_digest(self, digest: Digest, alert: OutgoingAlert) -> str | None: ...


def _secret(variable: str, what: str, environ: Mapping[str, str]) -> str:
    value = environ.get(variable, "")
    if not value:
        raise ChannelError(f"{what}: environment variable {variable} is not set", permanent=True)
    register_secret(value)
    return value


class EmailSender:
    def __init__(
        self,
        name: str,
        routing: EmailChannel,
        renderer: Renderer,
        outbox: Outbox,
        environ: Mapping[str, str],
        ca_file: Path | None = None,
    ) -> None:
        self.name = name
        self.routing = routing
        self.renderer = renderer
        self.outbox = outbox
        self.environ = environ
        self.ca_file = ca_file

    def _settings(self) -> MailSettings:
        routing = self.routing
        password = None
        if routing.password_env:
            password = _secret(routing.password_env, "SMTP password", self.environ)
        context = None
        if self.ca_file is not None:
            context = ssl.create_default_context(cafile=str(self.ca_file))
        return MailSettings(
            host=routing.host,
            port=routing.port,
            security=routing.security,
            username=routing.username,
            password=password,
            sender=routing.sender,
            recipients=tuple(routing.to),
            timeout=routing.timeout,
            ssl_context=context,
        )

    def send_change(self, change: FactChange, alert: OutgoingAlert) -> str:
        settings = self._settings()
        message_id = make_message_id(alert.idempotency_key, settings.domain)
        root = (
            self.outbox.thread_root(self.name, alert.subject_key)
            if alert.kind in (AlertKind.CHANGE, AlertKind.CORRECTION)
            else None
        )
        message = build_alert_message(
            self.renderer.alert(change),
            change,
            settings,
            message_id,
            root,
            story=self.renderer.story_of(change),
        )
        send_mail(settings, message)
        return message_id

    def send_digest(self, digest: Digest, alert: OutgoingAlert) -> str:
        settings = self._settings()
        message_id = make_message_id(alert.idempotency_key, settings.domain)
        send_mail(
            settings, build_digest_message(self.renderer.digest(digest), settings, message_id)
        )
        return message_id


class SlackSender:
    """Slack through an incoming webhook.

    A long digest goes out as several messages. Each one Slack takes is
    recorded on the alert (see :meth:`Outbox.progress`), so when a later part
    fails, the retry starts after the last part delivered instead of posting
    the first ones again.
    """

    def __init__(
        self,
        name: str,
        routing: SlackChannel,
        renderer: Renderer,
        environ: Mapping[str, str],
        client: httpx.Client,
        outbox: Outbox | None = None,
    ) -> None:
        self.name = name
        self.routing = routing
        self.renderer = renderer
        self.environ = environ
        self.client = client
        self.outbox = outbox

    def _post(self, payloads: list[dict[str, Any]], alert: OutgoingAlert) -> None:
        url = _secret(self.routing.webhook_env, "Slack webhook", self.environ)
        done = alert.parts_delivered
        for number, payload in enumerate(payloads[done:], start=done + 1):
            post_webhook(url, payload, timeout=self.routing.timeout, client=self.client)
            if len(payloads) > 1 and number < len(payloads) and self.outbox is not None:
                self.outbox.progress(alert, number)

    def send_change(self, change: FactChange, alert: OutgoingAlert) -> None:
        self._post([build_alert_payload(change, self.renderer)], alert)

    def send_digest(self, digest: Digest, alert: OutgoingAlert) -> None:
        self._post(build_digest_payloads(digest, self.renderer), alert)


class AppriseSender:
    """Any service Apprise knows (Teams, Discord, Telegram, ntfy, Matrix, ...), in plain text."""

    def __init__(
        self, name: str, routing: AppriseChannel, renderer: Renderer, environ: Mapping[str, str]
    ) -> None:
        self.name = name
        self.routing = routing
        self.renderer = renderer
        self.environ = environ

    def _notify(self, title: str, body: str) -> None:
        try:
            import apprise
        except ImportError:
            raise ChannelError(
                f"{self.name}: Apprise is not installed (pip install 'watcher[apprise]')",
                permanent=True,
            ) from None
        url = _secret(self.routing.url_env, f"{self.name} URL", self.environ)
        service = apprise.Apprise()
        if not service.add(url):
            raise ChannelError(
                f"{self.name}: Apprise does not understand the URL in {self.routing.url_env}",
                permanent=True,
            )
        if not service.notify(body=body, title=title):
            raise ChannelError(
                f"{self.name}: the service did not take the message", permanent=False
            )

    def send_change(self, change: FactChange, alert: OutgoingAlert) -> None:
        rendered = self.renderer.alert(change)
        self._notify(rendered.subject, rendered.text)

    def send_digest(self, digest: Digest, alert: OutgoingAlert) -> None:
        rendered = self.renderer.digest(digest)
        self._notify(rendered.subject, rendered.text)


class Dispatcher:
    """Sends due alerts from the outbox over the configured channels."""

    def __init__(
        self,
        config: Config,
        store: Store,
        renderer: Renderer,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.renderer = renderer
        self.environ = os.environ if environ is None else environ
        notify = config.notify
        self.outbox = Outbox(
            store,
            max_attempts=notify.max_attempts,
            backoff=notify.retry_backoff,
            backoff_max=notify.retry_max,
        )
        self._client = httpx.Client(follow_redirects=False)
        # Alerts sent whose sending could not be recorded (the database was away): they
        # are recorded first thing when it is back, never sent again.
        self._unrecorded: list[tuple[OutgoingAlert, str | None]] = []
        self._unrecorded_lock = threading.Lock()
        self.channels: dict[str, Channel] = {
            name: self._channel(name, routing) for name, routing in notify.channels().items()
        }

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _channel(self, name: str, routing: Routing) -> Channel:
        if isinstance(routing, EmailChannel):
            ca_file = self.config.resolve(routing.ca_file) if routing.ca_file else None
            return EmailSender(name, routing, self.renderer, self.outbox, self.environ, ca_file)
        if isinstance(routing, SlackChannel):
            return SlackSender(
                name, routing, self.renderer, self.environ, self._client, self.outbox
            )
        assert isinstance(routing, AppriseChannel)
        return AppriseSender(name, routing, self.renderer, self.environ)

    def send_due(self, now: datetime | None = None) -> DispatchReport:
        """Send every alert that is due; each is claimed first, so two senders never both send."""
        report = DispatchReport()
        self._record_unrecorded()
        if uncertain := self.outbox.recover(older_than=STALE_CLAIM):
            log.warning(
                "%d alert(s) were left mid-send by a process that stopped; they may have "
                "arrived and are not sent again (`watcher outbox retry` sends them)",
                uncertain,
            )
        for alert in self.outbox.due(now or utcnow()):
            if alert.channel in report.down:
                continue
            channel = self.channels.get(alert.channel)
            if not self.outbox.claim(alert):
                continue
            if channel is None:
                reason = f"channel {alert.channel} is no longer configured"
                self.outbox.failed(alert, reason, permanent=True)
                report.failed.append((alert, reason))
                continue
            try:
                message_id = self._send(channel, alert)
            except ChannelError as exc:
                self._failed(alert, exc, report)
            except Exception as exc:  # a bug in one alert must not stop the others
                log.exception("alert %s on %s: unexpected error", alert.id, alert.channel)
                error = ChannelError(f"internal error: {type(exc).__name__}", permanent=False)
                self._failed(alert, error, report)
            else:
                try:
                    self.outbox.sent(alert, message_id=message_id)
                except StoreError:
                    with self._unrecorded_lock:
                        self._unrecorded.append((alert, message_id))
                    raise
                report.sent.append(alert)
                log.info("alert %s sent on %s: %s", alert.id, alert.channel, what_it_says(alert))
        return report

    def _record_unrecorded(self) -> None:
        """Record the alerts sent while the database was away (StoreError if it still is)."""
        with self._unrecorded_lock:
            while self._unrecorded:
                alert, message_id = self._unrecorded[0]
                self.outbox.sent(alert, message_id=message_id)
                self._unrecorded.pop(0)
                log.info("alert %s sent on %s: recorded now", alert.id, alert.channel)

    def _failed(self, alert: OutgoingAlert, exc: ChannelError, report: DispatchReport) -> None:
        # A server may echo the secret it was reached by (a webhook path, whole or in
        # part, URL-encoded): the reason is kept, shown in --json and logged.
        exc = ChannelError(redact(exc.reason), permanent=exc.permanent, retry_after=exc.retry_after)
        state = self.outbox.failed(
            alert, exc.reason, permanent=exc.permanent, retry_after=exc.retry_after
        )
        if state == AlertState.FAILED:
            log.error("alert %s on %s failed for good: %s", alert.id, alert.channel, exc.reason)
            report.failed.append((alert, exc.reason))
        else:
            log.warning("alert %s on %s will be retried: %s", alert.id, alert.channel, exc.reason)
            report.retrying.append((alert, exc.reason))
            report.down[alert.channel] = exc.reason

    @staticmethod
    def _send(channel: Channel, alert: OutgoingAlert) -> str | None:
        if alert.kind in (AlertKind.CHANGE, AlertKind.CORRECTION):
            return channel.send_change(FactChange.from_json(alert.payload), alert)
        if alert.kind == AlertKind.HEALTH:
            return channel.send_change(health_change(HealthEvent.from_json(alert.payload)), alert)
        if alert.kind == AlertKind.DIGEST:
            return channel.send_digest(Digest.from_json(alert.payload), alert)
        raise ChannelError(f"unknown alert kind {alert.kind!r}", permanent=True)

    def send_test(self) -> dict[str, str | None]:
        """A sample alert to every channel, straight away; channel to error (None: it worked)."""
        change = sample_change(utcnow())
        results: dict[str, str | None] = {}
        for name, channel in self.channels.items():
            alert = OutgoingAlert(
                id=0,
                kind=AlertKind.TEST,
                change_id=None,
                subject_key="test",
                channel=name,
                idempotency_key=f"test:{name}:{change.first_seen.isoformat()}",
                payload={},
                state=AlertState.SENDING,
                attempts=0,
                next_attempt=change.first_seen,
                last_error=None,
                message_id=None,
                created_at=change.first_seen,
                sent_at=None,
            )
            try:
                channel.send_change(change, alert)
            except ChannelError as exc:
                results[name] = redact(exc.reason)
            else:
                results[name] = None
        return results
