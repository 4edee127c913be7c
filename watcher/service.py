"""``watcher run``: the daemon.

An APScheduler 3 scheduler runs one polling job per source, each at its own
interval with jitter, never two runs of a source at once. The main thread
only waits for signals, talks to systemd and publishes the daemon's status
into the state database, where ``watcher status`` reads it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from watcher.check import Checker, CheckReport
from watcher.config import Config, ConfigError, Source, load_config
from watcher.sdnotify import Notifier, watchdog_interval
from watcher.store import Store, open_store, utcnow

log = logging.getLogger(__name__)

HANDLED_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
# How long a stop waits for running jobs before leaving them.
STOP_TIMEOUT = 20.0
# Jitter is this share of a source's interval, at most MAX_JITTER seconds.
JITTER_SHARE = 0.1
MAX_JITTER = 60.0


def poll_job_id(source: Source) -> str:
    return f"poll:{source.name}"


def jitter_for(interval: float) -> float:
    return min(interval * JITTER_SHARE, MAX_JITTER)


@dataclass
class DaemonStatus:
    """What the daemon publishes about itself for ``watcher status``."""

    pid: int
    started: datetime
    last_pass: datetime | None = None
    passes: int = 0
    errors: int = 0
    next_runs: dict[str, str | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "pid": self.pid,
            "started": self.started.isoformat(),
            "last_pass": self.last_pass.isoformat() if self.last_pass else None,
            "passes": self.passes,
            "errors": self.errors,
            "next_runs": self.next_runs,
        }


class Service:
    def __init__(self, config_path: str | None, config: Config, notifier: Notifier | None = None):
        self.config_path = config_path
        self.config = config
        self.notifier = notifier or Notifier()
        self.store: Store = open_store(config.database_url())
        self.status = DaemonStatus(pid=os.getpid(), started=utcnow())
        self._lock = threading.Lock()
        self.left_jobs_running = False
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        self.scheduler.add_listener(self._job_failed, EVENT_JOB_ERROR)

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
                if existing.kwargs.get("source") != source:
                    existing.modify(kwargs={"source": source})
                    existing.reschedule(trigger)
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

    def poll(self, source: Source) -> CheckReport:
        """One source's pass. Errors stay in the report; the job never raises them on."""
        report = asyncio.run(Checker(self.config, self.store).run([source]))
        for result in report.sources:
            if result.status == "failed":
                log.warning("%s: %s", result.name, result.error)
            elif result.articles:
                log.info("%s: %d new article(s)", result.name, len(result.articles))
            for failure in result.failures:
                log.warning("%s: %s", result.name, failure.reason)
        with self._lock:
            self.status.passes += 1
            self.status.last_pass = report.finished
        return report

    def _job_failed(self, event: JobExecutionEvent) -> None:
        with self._lock:
            self.status.errors += 1
        log.error("job %s failed: %s", event.job_id, event.exception, exc_info=event.exception)

    # -- lifecycle -------------------------------------------------------------

    def reload(self) -> bool:
        """Apply a changed config; an invalid one is refused and the old one kept."""
        try:
            new = load_config(self.config_path)
        except ConfigError as exc:
            log.error("reload refused, keeping the running config: %s", exc)
            return False
        if new.database_url() != self.config.database_url():
            log.error("reload refused: the state database cannot change while running")
            return False
        self.config = new
        self._schedule_sources(first_run_within=1.0)
        log.info("config reloaded: %d source(s)", len(new.enabled_sources()))
        return True

    def status_line(self) -> str:
        sources = len(self.config.enabled_sources())
        last = self.status.last_pass.strftime("%H:%M") if self.status.last_pass else "none yet"
        return f"{sources} sources, last pass {last}, {self.status.passes} passes"

    def publish_status(self) -> None:
        with self._lock:
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

        Signals are blocked and taken synchronously with sigtimedwait rather
        than by handlers, which could interrupt the main thread anywhere.
        """
        signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)  # inherited by every thread
        self._schedule_sources()
        self.scheduler.start()
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
        return 0

    def shutdown(self) -> bool:
        """Stop taking work, let running jobs finish (bounded); True if they all did."""
        self.notifier.notify(stopping=1, status="stopping")
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
        self.store.set_meta("daemon", json.dumps(stopped))
        self.store.close()
        log.info("stopped")
        return finished


def run_service(config_path: str | None) -> int:
    config = load_config(config_path)
    service = Service(config_path, config)
    service.run()
    if service.left_jobs_running:
        # Worker threads are joined at exit; a job left running must not hold the process.
        logging.shutdown()
        os._exit(0)
    return 0
