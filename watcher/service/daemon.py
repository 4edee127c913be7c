"""``watcher run``: the daemon, alone or as one of several workers on one database.

Polls follow the schedule shared through the state database: a poller thread
claims the sources that are due and runs them (:mod:`watcher.service.polls`).
An APScheduler 3 scheduler runs the rest:
a job that sends what the outbox holds (after polls that found changes, and
on its own for retries), a digest job per channel on the wall clock of the
configured time zone, and the daily prune. The main thread only waits for
signals, talks to systemd, and beats the worker's heartbeat into the
database (renewing its leases), where ``watcher status`` reads it.

When the database cannot be reached, the worker says so once, stops
claiming and sending, and tries again every few seconds; once it is back it
says so and goes on. Nothing is lost: a poll whose results could not be
written is polled again, by whichever worker claims it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor as Pool
from concurrent.futures import wait as wait_for_futures
from dataclasses import replace
from datetime import datetime
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
from watcher.config import Config, ConfigError, Routing, Source, load_config
from watcher.models import AlertState
from watcher.service.leases import (
    DaemonStatus,
    Schedule,
    WorkerRecord,
    heartbeat,
    register,
    shared_turns,
)
from watcher.service.network import NetworkLoop
from watcher.service.polls import Polls
from watcher.service.report import CheckReport
from watcher.service.sdnotify import Notifier, watchdog_interval
from watcher.service.startup import Prepared, StartupError, no_sources, prepare, source_changes
from watcher.service.upkeep import DIGEST_GRACE, prune_if_due, queue_due_digests
from watcher.store import Store, StoreError, StoreGone, StoreUnavailable, open_store, utcnow
from watcher.web.pages import Site
from watcher.web.server import WebError, WebServer, prepare_web, web_token

log = logging.getLogger(__name__)

HANDLED_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
# How long a stop waits for running jobs before leaving them.
STOP_TIMEOUT = 20.0
# How often the outbox is looked at for alerts due a retry.
DISPATCH_INTERVAL = 30.0
# How often the daemon looks whether the daily prune is due.
PRUNE_CHECK = 3600


def digest_trigger(routing: Routing, timezone: str) -> CronTrigger:
    """A cron trigger at the digest time on the zone's wall clock (daylight saving included)."""
    at = routing.digest_at
    day = routing.digest_day if routing.digest == "weekly" else "*"
    return CronTrigger(
        day_of_week=day, hour=at.hour, minute=at.minute, second=at.second, timezone=timezone
    )


class Service:
    def __init__(
        self,
        config_path: str | None,
        config: Config,
        notifier: Notifier | None = None,
        *,
        name: str | None = None,
    ):
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
        self.network = NetworkLoop(config.http, turns=shared_turns(self.store))
        self.status = DaemonStatus(pid=os.getpid(), started=utcnow())
        self.worker = WorkerRecord.new(name)
        self.schedule = Schedule(self.store, self.worker.id, config.daemon.lease)
        # Guards what the threads share: the status, away_since, a send queued.
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.polls = Polls(self)
        # Sends alerts found by polls, off the poller's thread; one send at a time.
        self._sender = Pool(1, thread_name_prefix="watcher-sender")
        self._send_queued = False
        # Since when the state database cannot be reached (None: it can).
        self.away_since: datetime | None = None
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

    def _schedule_sources(self, first_run_within: float = 5.0) -> None:
        """Give each enabled source its place in the shared schedule, and look for due
        ones now."""
        self.polls.schedule_sources(first_run_within)

    def poll(self, source: Source) -> CheckReport:
        """Poll one source now, outside the schedule (its results are not fenced by a
        lease, as those of `watcher check` are not)."""
        return self.polls.poll(source)

    def send_soon(self) -> None:
        """Send what the outbox holds, on the sender's thread (once, however many ask)."""
        with self.lock:
            if self._send_queued or self.stopping.is_set():
                return
            self._send_queued = True

        def send() -> None:
            with self.lock:
                self._send_queued = False
            try:
                self.dispatch()
            except StoreUnavailable as exc:
                self.database_lost(exc)
            except Exception as exc:
                self.failed("send alerts", exc)

        self._sender.submit(send)

    # -- the database going away and coming back -------------------------------

    def database_lost(self, exc: StoreUnavailable) -> None:
        """Say once that the database cannot be reached; polls and sends wait for it."""
        with self.lock:
            if self.away_since is not None:
                return
            self.away_since = utcnow()
        log.error("%s; waiting for it (polls and alerts resume when it is back)", exc)
        self.notifier.notify(status="waiting for the state database")
        self.polls.wake()

    # -- scheduled jobs ------------------------------------------------------

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
        if self.away_since is not None:
            return
        removed = prune_if_due(self.config, self.store, utcnow())
        if removed is not None:
            retention = self.config.state.retention
            log.info("pruned what was older than %gd: %s", retention / 86400, removed)

    def catch_up_digests(self) -> None:
        """Send a digest whose time passed while the daemon was down (within the grace)."""
        if queue_due_digests(self.config, self.store, self.prepared.stories, utcnow()):
            self.dispatch()

    def dispatch(self) -> None:
        if self.away_since is not None:
            return
        report = self.prepared.dispatcher.send_due()
        for alert, reason in report.failed:
            log.error("alert %s to %s failed for good: %s", alert.id, alert.channel, reason)

    def send_digest(self, channel: str) -> None:
        """Queue the digest for the period that just ended, then send it.

        The period ends at the scheduled time, not the moment the job runs, so
        a digest run late, twice, or by every worker at once is the same digest,
        queued and sent once.
        """
        prepared = self.prepared
        routing = prepared.config.notify.channels().get(channel)
        if routing is None or self.away_since is not None:
            return
        zone = ZoneInfo(prepared.config.notify.timezone)
        end = last_due(routing, utcnow(), zone)
        digests = queue_digest(prepared.config, self.store, prepared.stories, channel, end=end)
        if not digests:
            log.info("digest to %s: nothing new to send for this period", channel)
        self.dispatch()

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
        self.failed(f"job {event.job_id}", event.exception)

    def failed(self, what: str, exc: BaseException) -> None:
        with self.lock:
            self.status.errors += 1
        if isinstance(exc, StoreGone):
            # Nothing more can be recorded; a restart (systemd's Restart=on-failure)
            # opens whatever file is at the path now.
            log.error("stopping: %s", exc)
            self.exit_status = 2
            os.kill(os.getpid(), signal.SIGTERM)
        elif isinstance(exc, StoreUnavailable):
            self.database_lost(exc)
        elif isinstance(exc, StoreError):
            log.error("%s failed: %s", what, exc)
        else:
            log.error("%s failed: %s", what, exc, exc_info=exc)

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
        before = {s.name: s for s in old.config.enabled_sources()}
        after = {s.name: s for s in new.enabled_sources()}
        for name in sorted(set(before) - set(after)):
            log.info("stopped polling %s", name)
        for name, source in after.items():
            if before.get(name) != source:
                log.info("%s", source_changes(before.get(name), source))
        self._schedule_sources(first_run_within=1.0)
        self._schedule_notifications()
        log.info("config reloaded: %d source(s)", len(new.enabled_sources()))
        return True

    def status_line(self) -> str:
        if self.away_since is not None:
            return "waiting for the state database"
        sources = len(self.config.enabled_sources())
        last = self.status.last_pass.strftime("%H:%M") if self.status.last_pass else "none yet"
        pending: int | str
        try:
            pending = self.store.alert_counts().get(AlertState.PENDING, 0)
        except Exception:  # the status line must not fail because the database is busy
            pending = "?"
        return f"{sources} sources, last pass {last}, {pending} pending alerts"

    def _info(self) -> dict[str, object]:
        with self.lock:
            self.status.updated = utcnow()
            self.status.next_runs = {
                job.id: job.next_run_time.isoformat() if job.next_run_time else None
                for job in self.scheduler.get_jobs()
            }
            return self.status.to_json()

    def publish_status(self) -> None:
        """The worker's heartbeat: alive, what it does, and the leases of its polls."""
        info = self._info()
        if self.away_since is None:
            busy = self.polls.busy()
            try:
                heartbeat(self.store, self.worker, info)
                self.schedule.renew(busy)
            except StoreUnavailable as exc:
                self.database_lost(exc)
            except Exception as exc:  # status is informative; never let it stop the daemon
                log.warning("could not publish status: %s", exc)
        self.notifier.notify(status=self.status_line())

    def run(self, *, heartbeat_every: float = 5.0) -> int:
        """Run until SIGTERM or SIGINT; SIGHUP reloads the config. Returns the exit status.

        Signals are taken synchronously with sigtimedwait rather than by handlers,
        which could interrupt the main thread anywhere; :func:`run_service` blocks
        them before any thread starts.
        """
        register(self.store, self.worker, self.config.daemon.lease, self._info())
        self._schedule_sources()
        self._schedule_notifications()
        # Queued digests are keyed by period, so one already sent is not sent again.
        self.scheduler.add_job(self.catch_up_digests, id="digest-catch-up")
        self.scheduler.start()
        self.polls.start()
        if self.web is not None:
            self.web.start()
            self.status.web = self.web.url
            log.info("web view on %s", self.web.url)
        self.notifier.notify(ready=1, status=self.status_line())
        log.info(
            "watcher running with %d source(s) as worker %s",
            len(self.config.enabled_sources()),
            self.worker.name,
        )
        # The heartbeat renews the leases: several beats within one lease.
        tick = min(heartbeat_every, self.config.daemon.lease / 3)
        watchdog = watchdog_interval()
        if watchdog:
            tick = min(tick, watchdog)
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
        """Stop taking work, let running polls and jobs finish (bounded); True if they all
        did. The leases of polls left running are let go, so that other workers take
        their sources at once (and the polls' late results are refused)."""
        self.notifier.notify(stopping=1, status="stopping")
        if self.web is not None:
            self.web.stop()
        log.info("stopping: waiting up to %gs for running jobs", STOP_TIMEOUT)
        self.stopping.set()
        self.polls.wake()
        self.polls.join(STOP_TIMEOUT)
        self.scheduler.pause()
        stopper = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True})
        stopper.start()
        _, unfinished = wait_for_futures(self.polls.futures(), timeout=STOP_TIMEOUT)
        stopper.join(STOP_TIMEOUT)
        self._sender.shutdown(wait=True)
        finished = not stopper.is_alive() and not unfinished
        if not finished:
            # Each source's results are one transaction: leaving a job mid-way loses nothing.
            log.warning("jobs still running after %gs; leaving them", STOP_TIMEOUT)
        info = {**self._info(), "stopped": utcnow().isoformat()}
        try:
            self.schedule.release()
            heartbeat(self.store, self.worker, info, stopped=True)
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


def run_service(config_path: str | None, *, name: str | None = None) -> int:
    config = load_config(config_path)
    if problem := no_sources(config):
        raise ConfigError(problem)
    # Before the first thread starts (the network loop starts with the Service), so that
    # every thread inherits the mask: a thread that did not block SIGTERM would be
    # killed by it whenever the main thread is not in sigtimedwait.
    signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
    try:
        service = Service(config_path, config, name=name)
    except StartupError as exc:
        raise ConfigError(str(exc)) from None
    status = service.run()
    if service.left_jobs_running:
        # Worker threads are joined at exit; a job left running must not hold the process.
        logging.shutdown()
        os._exit(status)
    return status
