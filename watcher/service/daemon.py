"""``watcher run``: the daemon.

An APScheduler 3 scheduler runs one polling job per source, each at its own
interval with jitter, never two runs of a source at once; a job that sends
what the outbox holds (after each poll, and on its own for retries); and a
digest job per channel, on the wall clock of the configured time zone. The
main thread only waits for signals, talks to systemd and publishes the
daemon's status into the state database, where ``watcher status`` reads it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import signal
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from watcher.alerts.digest import last_due, queue_digest
from watcher.alerts.notify import Dispatcher
from watcher.alerts.render import TemplateError, load_templates
from watcher.config import Config, ConfigError, Routing, Source, load_config
from watcher.facts.stories import Story, StoryError, load_stories
from watcher.service.check import Checker, CheckReport, readers_for
from watcher.service.network import NetworkLoop
from watcher.service.sdnotify import Notifier, watchdog_interval
from watcher.service.upkeep import DIGEST_GRACE, prune_if_due, queue_due_digests
from watcher.service.workers import Readers
from watcher.store import Store, StoreError, StoreGone, open_store, utcnow
from watcher.web.pages import Site
from watcher.web.server import WebError, WebServer, prepare_web, web_token

log = logging.getLogger(__name__)

HANDLED_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
# How long a stop waits for running jobs before leaving them.
STOP_TIMEOUT = 20.0
# Jitter is this share of a source's interval, at most MAX_JITTER seconds.
JITTER_SHARE = 0.1
MAX_JITTER = 60.0
# How often the outbox is looked at for alerts due a retry.
DISPATCH_INTERVAL = 30.0
# How often the daemon looks whether the daily prune is due.
PRUNE_CHECK = 3600


class StartupError(Exception):
    """Something in the config's files (topic, seeds, pins, templates) that stops a start."""


def poll_job_id(source: Source) -> str:
    return f"poll:{source.name}"


def jitter_for(interval: float) -> float:
    return min(interval * JITTER_SHARE, MAX_JITTER)


def source_changes(before: Source | None, after: Source) -> str:
    """What a reload changed in a source, for the log."""
    if before is None:
        return f"polling {after.name} every {after.interval:g}s"
    changed = []
    if before.interval != after.interval:
        changed.append(f"every {after.interval:g}s now (was {before.interval:g}s)")
    if before.url != after.url:
        changed.append(f"from {after.url} now (was {before.url})")
    return f"polling {after.name} " + ("; ".join(changed) or "with its new settings")


def digest_trigger(routing: Routing, timezone: str) -> CronTrigger:
    """A cron trigger at the digest time on the zone's wall clock (daylight saving included)."""
    at = routing.digest_at
    day = routing.digest_day if routing.digest == "weekly" else "*"
    return CronTrigger(
        day_of_week=day, hour=at.hour, minute=at.minute, second=at.second, timezone=timezone
    )


@dataclass(frozen=True)
class Prepared:
    """What a config needs built before it runs: its stories (compiled topics and
    baselines), templates."""

    config: Config
    stories: list[Story]
    dispatcher: Dispatcher
    readers: Readers
    # The stories' topic files as read (see topics_digest).
    topic_digest: str = ""

    def close(self) -> None:
        self.dispatcher.close()
        self.readers.close()


def prepare(config: Config, store: Store) -> Prepared:
    """Build everything a config refers to; any problem is one :class:`StartupError` line."""
    try:
        stories = load_stories(config)
        digest = topics_digest(stories)
        renderer = load_templates(config.templates_path(), with_story=config.several_stories)
    except StoryError as exc:
        raise StartupError(str(exc)) from None
    except TemplateError as exc:
        raise StartupError(f"templates: {exc}") from None
    except OSError as exc:
        raise StartupError(f"{exc.filename}: cannot read: {exc.strerror}") from None
    dispatcher = Dispatcher(config, store, renderer)
    return Prepared(config, stories, dispatcher, readers_for(config, stories), digest)


@dataclass
class DaemonStatus:
    """What the daemon publishes about itself for ``watcher status``."""

    pid: int
    started: datetime
    last_pass: datetime | None = None
    passes: int = 0
    errors: int = 0
    next_runs: dict[str, str | None] = field(default_factory=dict)
    web: str | None = None  # the web view's URL, when [web] listen is set
    # When this was last published: a status long unpublished is a daemon gone.
    updated: datetime | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "pid": self.pid,
            "started": self.started.isoformat(),
            "updated": self.updated.isoformat() if self.updated else None,
            "last_pass": self.last_pass.isoformat() if self.last_pass else None,
            "passes": self.passes,
            "errors": self.errors,
            "next_runs": self.next_runs,
            "web": self.web,
        }


class Service:
    def __init__(self, config_path: str | None, config: Config, notifier: Notifier | None = None):
        self.config_path = config_path
        self.notifier = notifier or Notifier()
        self.store: Store = open_store(config.database_url())
        self.prepared = prepare(config, self.store)
        # Bound now, so that a port in use stops the start in one line; served from run().
        self.web: WebServer | None = None
        if config.web.listen:
            try:
                self.web = prepare_web(
                    self._site(self.prepared), listen=config.web.listen, token=self._token(config)
                )
            except WebError as exc:
                self.prepared.close()
                self.store.close()
                raise StartupError(str(exc)) from None
        self.network = NetworkLoop(config.http)
        self.status = DaemonStatus(pid=os.getpid(), started=utcnow())
        self._lock = threading.Lock()
        self.left_jobs_running = False
        self.exit_status = 0
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        self.scheduler.add_listener(self._job_failed, EVENT_JOB_ERROR)
        # _job_failed reports each failure (the traceback only when unexpected);
        # APScheduler's own report would add a traceback to every one.
        logging.getLogger("apscheduler.executors").setLevel(logging.CRITICAL)
        self.scheduler.add_listener(self._job_skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)

    @property
    def config(self) -> Config:
        return self.prepared.config

    def _site(self, prepared: Prepared) -> Site:
        return Site(prepared.config, self.store, prepared.stories)

    def _token(self, config: Config) -> str | None:
        """The web view's token under ``config``, for the address it was started on."""
        listen = self.web.listen if self.web else config.web.listen
        return web_token(config, listen) if listen else None

    # -- jobs ----------------------------------------------------------------

    def _schedule_sources(self, first_run_within: float = 5.0) -> None:
        wanted = {poll_job_id(s): s for s in self.config.enabled_sources()}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("poll:") and job.id not in wanted:
                job.remove()
                log.info("stopped polling %s", job.id.removeprefix("poll:"))
        for job_id, source in wanted.items():
            trigger = IntervalTrigger(seconds=source.interval, jitter=jitter_for(source.interval))
            existing = self.scheduler.get_job(job_id)
            if existing is not None:
                before: Source | None = existing.kwargs.get("source")
                if before != source:
                    existing.modify(kwargs={"source": source})
                    existing.reschedule(trigger)
                    log.info("%s", source_changes(before, source))
                continue
            # Spread first polls a little so sources do not all fire at start.
            first = utcnow() + timedelta(seconds=random.uniform(0, first_run_within))
            self.scheduler.add_job(
                self.poll,
                trigger,
                id=job_id,
                name=f"poll {source.name}",
                kwargs={"source": source},
                next_run_time=first,
                misfire_grace_time=int(max(1, source.interval)),
            )
            log.info("polling %s every %gs", source.name, source.interval)

    def _schedule_notifications(self) -> None:
        for job in self.scheduler.get_jobs():
            if job.id.startswith("digest:"):
                job.remove()
        if self.scheduler.get_job("dispatch") is None:
            self.scheduler.add_job(
                self.dispatch,
                IntervalTrigger(seconds=DISPATCH_INTERVAL),
                id="dispatch",
                name="send due alerts",
                next_run_time=utcnow(),
            )
        if self.scheduler.get_job("prune") is None:
            self.scheduler.add_job(
                self.prune,
                IntervalTrigger(seconds=PRUNE_CHECK),
                id="prune",
                name="prune old articles",
                next_run_time=utcnow(),
            )
        zone = self.config.notify.timezone
        for name, routing in self.config.notify.channels().items():
            if routing.digest == "none":
                continue
            self.scheduler.add_job(
                self.send_digest,
                digest_trigger(routing, zone),
                id=f"digest:{name}",
                name=f"{routing.digest} digest to {name}",
                kwargs={"channel": name},
                misfire_grace_time=DIGEST_GRACE,
            )

    def prune(self) -> None:
        """Prune once a day, counted from the last prune by anyone (a check on a timer too)."""
        removed = prune_if_due(self.config, self.store, utcnow())
        if removed is not None:
            retention = self.config.state.retention
            log.info("pruned what was older than %gd: %s", retention / 86400, removed)

    def catch_up_digests(self) -> None:
        """Send a digest whose time passed while the daemon was down (within the grace)."""
        if queue_due_digests(self.config, self.store, self.prepared.stories, utcnow()):
            self.dispatch()

    def dispatch(self) -> None:
        report = self.prepared.dispatcher.send_due()
        for alert, reason in report.failed:
            log.error("alert %s to %s failed for good: %s", alert.id, alert.channel, reason)

    def send_digest(self, channel: str) -> None:
        """Queue the digest for the period that just ended, then send it.

        The period ends at the scheduled time, not the moment the job runs, so
        a digest run late (or twice) is the same digest and is sent once.
        """
        prepared = self.prepared
        routing = prepared.config.notify.channels().get(channel)
        if routing is None:
            return
        zone = ZoneInfo(prepared.config.notify.timezone)
        end = last_due(routing, utcnow(), zone)
        digests = queue_digest(prepared.config, self.store, prepared.stories, channel, end=end)
        if not digests:
            log.info("digest to %s: nothing new to send for this period", channel)
        self.dispatch()

    def poll(self, source: Source) -> CheckReport:
        """One source's pass. Errors stay in the report; the job never raises them on."""
        prepared, fetcher = self.prepared, self.network.fetcher
        checker = Checker(
            prepared.config,
            self.store,
            stories=prepared.stories,
            readers=prepared.readers,
            # The log says what a poll found; no article's text need outlive its storing.
            keep_text=False,
        )
        report = self.network.run(checker.run([source], fetcher=fetcher))
        if report.changes:
            self.dispatch()
        for result in report.sources:
            if result.status == "failed":
                log.warning("%s: %s", result.name, result.error)
            elif result.articles:
                log.info("%s: %d new article(s)", result.name, len(result.articles))
            for failure in result.failures:
                log.warning("%s: %s", result.name, failure.reason)
            for reported in result.changes:
                if reported.is_news:
                    change = reported.change
                    log.info(
                        "%s: %s: %s -> %s (%s, %s)",
                        result.name,
                        change.label,
                        change.old or "unknown",
                        change.new,
                        change.status,
                        reported.event,
                    )
        with self._lock:
            self.status.passes += 1
            self.status.last_pass = report.finished
        return report

    def _job_skipped(self, event: JobEvent) -> None:
        """A turn skipped because the last run is still going, or the daemon was too busy.

        APScheduler says so as a warning about "running instances"; neither loses
        anything, as the next turn does the work.
        """
        job = self.scheduler.get_job(event.job_id)
        name = job.name if job else event.job_id
        if event.code == EVENT_JOB_MAX_INSTANCES:
            log.info("%s: the previous run is still going; skipped this turn", name)
        else:
            log.info("%s: missed its time (the daemon was busy); runs at the next", name)

    def _job_failed(self, event: JobExecutionEvent) -> None:
        with self._lock:
            self.status.errors += 1
        if isinstance(event.exception, StoreGone):
            # Nothing more can be recorded; a restart (systemd's Restart=on-failure)
            # opens whatever file is at the path now.
            log.error("stopping: %s", event.exception)
            self.exit_status = 2
            os.kill(os.getpid(), signal.SIGTERM)
        elif isinstance(event.exception, StoreError):
            log.error("job %s failed: %s", event.job_id, event.exception)
        else:
            log.error("job %s failed: %s", event.job_id, event.exception, exc_info=event.exception)

    # -- lifecycle -------------------------------------------------------------

    def reload(self) -> bool:
        """Apply a changed config; an invalid one is refused and the old one kept."""
        try:
            new = load_config(self.config_path)
        except ConfigError as exc:
            log.error("reload refused, keeping the running config: %s", exc)
            return False
        if problem := no_sources(new):
            log.error("reload refused, keeping the running config: %s", problem)
            return False
        if new.database_url() != self.config.database_url():
            log.error("reload refused: the state database cannot change while running")
            return False
        try:
            prepared = prepare(new, self.store)
        except StartupError as exc:
            log.error("reload refused, keeping the running config: %s", exc)
            return False
        if self.web is not None:
            try:
                token = self._token(new)
            except WebError as exc:
                prepared.close()
                log.error("reload refused, keeping the running config: %s", exc)
                return False
            if new.web.listen != self.web.listen:
                log.warning(
                    "web.listen changed to %s; the web view stays on %s until a restart",
                    new.web.listen,
                    self.web.listen,
                )
            self.web.app.use(self._site(prepared), token=token)
        old = self.prepared
        # Readers emit the facts of the topics they were built with: keep them only if
        # the stories and their topics are the same, not merely their paths (a file may
        # have been edited).
        same_readers = (prepared.topic_digest, new.articles.workers) == (
            old.topic_digest,
            old.config.articles.workers,
        )
        if same_readers:
            prepared.readers.close()
            prepared = replace(prepared, readers=old.readers)
        else:
            # A poll may be reading with them right now: it finishes with the old topic
            # (its comparison uses the old one too), then they are gone.
            old.readers.retire()
        self.prepared = prepared
        self.network.use(new.http)
        self._schedule_sources(first_run_within=1.0)
        self._schedule_notifications()
        log.info("config reloaded: %d source(s)", len(new.enabled_sources()))
        return True

    def status_line(self) -> str:
        sources = len(self.config.enabled_sources())
        last = self.status.last_pass.strftime("%H:%M") if self.status.last_pass else "none yet"
        pending: int | str
        try:
            pending = self.store.alert_counts().get("pending", 0)
        except Exception:  # the status line must not fail because the database is busy
            pending = "?"
        return f"{sources} sources, last pass {last}, {pending} pending alerts"

    def publish_status(self) -> None:
        with self._lock:
            self.status.updated = utcnow()
            self.status.next_runs = {
                job.id: job.next_run_time.isoformat() if job.next_run_time else None
                for job in self.scheduler.get_jobs()
            }
            payload = json.dumps(self.status.to_json())
        try:
            self.store.set_meta("daemon", payload)
        except Exception as exc:  # status is informative; never let it stop the daemon
            log.warning("could not publish status: %s", exc)
        self.notifier.notify(status=self.status_line())

    def run(self, *, heartbeat: float = 5.0) -> int:
        """Run until SIGTERM or SIGINT; SIGHUP reloads the config. Returns the exit status.

        Signals are taken synchronously with sigtimedwait rather than by handlers,
        which could interrupt the main thread anywhere; :func:`run_service` blocks
        them before any thread starts.
        """
        self._schedule_sources()
        self._schedule_notifications()
        # Queued digests are keyed by period, so one already sent is not sent again.
        self.scheduler.add_job(self.catch_up_digests, id="digest-catch-up")
        self.scheduler.start()
        if self.web is not None:
            self.web.start()
            self.status.web = self.web.url
            log.info("web view on %s", self.web.url)
        self.notifier.notify(ready=1, status=self.status_line())
        log.info("watcher running with %d source(s)", len(self.config.enabled_sources()))
        watchdog = watchdog_interval()
        tick = min(heartbeat, watchdog) if watchdog else heartbeat
        while True:
            received = signal.sigtimedwait(HANDLED_SIGNALS, tick)
            if received is not None and received.si_signo != signal.SIGHUP:
                log.info("received %s", signal.Signals(received.si_signo).name)
                break
            if received is not None:
                self.notifier.notify(reloading=1)
                self.reload()
                self.notifier.notify(ready=1)
            self.publish_status()
            if watchdog:
                self.notifier.notify(watchdog=1)
        self.left_jobs_running = not self.shutdown()
        return self.exit_status

    def shutdown(self) -> bool:
        """Stop taking work, let running jobs finish (bounded); True if they all did."""
        self.notifier.notify(stopping=1, status="stopping")
        if self.web is not None:
            self.web.stop()
        log.info("stopping: waiting up to %gs for running jobs", STOP_TIMEOUT)
        self.scheduler.pause()
        stopper = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True})
        stopper.start()
        stopper.join(STOP_TIMEOUT)
        finished = not stopper.is_alive()
        if not finished:
            # Each source's results are one transaction: leaving a job mid-way loses nothing.
            log.warning("jobs still running after %gs; leaving them", STOP_TIMEOUT)
        stopped = {**self.status.to_json(), "stopped": utcnow().isoformat()}
        try:
            self.store.set_meta("daemon", json.dumps(stopped))
        except StoreError as exc:
            log.warning("could not record the stop: %s", exc)
        if finished:
            self.close()
        log.info("stopped")
        return finished

    def close(self) -> None:
        """Let go of workers, connections and the database (once no job runs)."""
        self.prepared.close()
        self.network.close()
        self.store.close()


def no_sources(config: Config) -> str | None:
    """Why a config gives the daemon nothing to do, as ``watcher check`` would refuse it."""
    if config.enabled_sources():
        return None
    return f"{config.path}: sources: no enabled source to poll"


def topics_digest(stories: list[Story]) -> str:
    """Each story's name and its topic file's bytes as read, to tell an edited topic (or
    another set of stories) from the same ones."""
    digest = hashlib.sha256()
    for story in stories:
        digest.update(story.name.encode() + b"\0" + story.topic_path.read_bytes() + b"\0")
    return digest.hexdigest()


def run_service(config_path: str | None) -> int:
    config = load_config(config_path)
    if problem := no_sources(config):
        raise ConfigError(problem)
    # Before the first thread starts (the network loop starts with the Service), so that
    # every thread inherits the mask: a thread that did not block SIGTERM would be
    # killed by it whenever the main thread is not in sigtimedwait.
    signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
    try:
        service = Service(config_path, config)
    except StartupError as exc:
        raise ConfigError(str(exc)) from None
    status = service.run()
    if service.left_jobs_running:
        # Worker threads are joined at exit; a job left running must not hold the process.
        logging.shutdown()
        os._exit(status)
    return status
