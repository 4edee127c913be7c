"""A worker's polls: a thread claims the sources that are due and runs their polls.

Polls follow the schedule shared through the state database (see
:mod:`watcher.service.leases`): the poller thread claims the sources that are
due, as many as this worker has room for (``daemon.polls_at_once``), and runs
their polls on the network loop; each poll is recorded with the source's next
turn, only if this worker's claim on it still holds. While the state database
cannot be reached, the thread claims nothing and tries the database again every
few seconds.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from watcher.config import Source
from watcher.service.check import Checker
from watcher.service.leases import Claim, LeaseLost
from watcher.service.report import CheckReport, PollStatus
from watcher.store import StoreError, StoreUnavailable, utcnow

if TYPE_CHECKING:
    from watcher.service.daemon import Service

# The daemon's log, whichever of its modules writes to it.
log = logging.getLogger("watcher.service.daemon")

# How often the poller looks for due sources (sooner when a poll ends).
CLAIM_EVERY = 0.5
# How often a worker whose database is away tries it again.
PROBE_EVERY = 2.0


@dataclass
class _Running:
    """A poll under way: the claim it holds, the future of its result."""

    source: Source
    claim: Claim
    future: Future[tuple[CheckReport, list[int]]]


class Polls:
    """The polls of one worker (a :class:`~watcher.service.daemon.Service`), and the
    thread that claims and collects them."""

    def __init__(self, service: Service) -> None:
        self.service = service
        # Guards ``running``, which the poller thread and the main thread both read.
        self._lock = threading.Lock()
        self.running: dict[str, _Running] = {}
        self._finished: queue.SimpleQueue[_Running] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._poller = threading.Thread(target=self._poll_loop, name="watcher-poller")

    def start(self) -> None:
        self._poller.start()

    def wake(self) -> None:
        """Look for due sources now (or, stopping, end the thread now)."""
        self._wake.set()

    def join(self, timeout: float) -> None:
        if self._poller.is_alive():
            self._poller.join(timeout)

    def busy(self) -> list[str]:
        """The sources being polled now."""
        with self._lock:
            return list(self.running)

    def futures(self) -> list[Future[tuple[CheckReport, list[int]]]]:
        with self._lock:
            return [running.future for running in self.running.values()]

    def schedule_sources(self, first_run_within: float = 5.0) -> None:
        """Give each enabled source its place in the shared schedule (new ones due within
        ``first_run_within`` seconds); turns already planned are kept."""
        planned = self.service.schedule.plan(
            self.service.config.enabled_sources(), first_within=first_run_within
        )
        for entry in planned:
            if entry.was is None and not self.service.status.passes:
                log.info("polling %s every %gs", entry.source.name, entry.source.interval)
        self._wake.set()

    def _poll_loop(self) -> None:
        """Claim due sources while there is room, start their polls, collect them."""
        ticked = True
        while not self.service.stopping.is_set():
            self._collect()
            if self.service.away_since is not None:
                self._probe()
            else:
                self._claim(ticked=ticked)
            ticked = not self._wake.wait(PROBE_EVERY if self.service.away_since else CLAIM_EVERY)
            self._wake.clear()
        self._collect()

    def _claim(self, *, ticked: bool) -> None:
        sources = {s.name: s for s in self.service.config.enabled_sources()}
        with self._lock:
            busy = set(self.running)
        most = self.service.config.daemon.polls_at_once
        room = most - len(busy)
        if not ticked and room < max(1, most // 4):
            return  # woken by a poll ending: claim a few at once, not one at a time
        try:
            claims = self.service.schedule.claim([n for n in sources if n not in busy], room)
        except StoreUnavailable as exc:
            self.service.database_lost(exc)
            return
        except StoreError as exc:
            log.error("could not claim due sources: %s", exc)
            return
        for claim in claims:
            self._start(sources[claim.source], claim)

    def _start(self, source: Source, claim: Claim) -> None:
        future = self.service.network.submit(self._poll_claimed(source, claim))
        running = _Running(source, claim, future)
        with self._lock:
            self.running[source.name] = running

        def done(_: object) -> None:
            self._finished.put(running)
            self._wake.set()

        future.add_done_callback(done)

    async def _poll_claimed(self, source: Source, claim: Claim) -> tuple[CheckReport, list[int]]:
        """Poll a claimed source; its results are recorded only if the claim still holds,
        with its next turn. Also returns how many turns it outlasted."""
        skipped: list[int] = []

        def settle(conn: Connection) -> None:
            skipped.append(self.service.schedule.finish(conn, claim, source.interval))

        checker = self._checker(settle)
        report = await checker.run([source], fetcher=self.service.network.fetcher)
        return report, skipped

    def _checker(self, settle: Callable[[Connection], None] | None = None) -> Checker:
        prepared = self.service.prepared
        return Checker(
            prepared.config,
            self.service.store,
            stories=prepared.stories,
            readers=prepared.readers,
            # The log says what a poll found; no article's text need outlive its storing.
            keep_text=False,
            settle=settle,
        )

    def _collect(self) -> None:
        """Take in the polls that ended: log what they found, send their alerts."""
        while True:
            try:
                running = self._finished.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                self.running.pop(running.source.name, None)
            name = running.source.name
            try:
                report, skipped = running.future.result()
            except LeaseLost as exc:
                log.warning("%s", exc)
            except StoreUnavailable as exc:
                self.service.database_lost(exc)
            except Exception as exc:
                self.service.failed(f"poll {name}", exc)
            else:
                self._reported(report)
                if skipped and skipped[-1]:
                    turns = "one turn" if skipped[-1] == 1 else f"{skipped[-1]} turns"
                    log.info("poll %s: still running at its next turn; skipped %s", name, turns)

    def poll(self, source: Source) -> CheckReport:
        """Poll one source now, outside the schedule (its results are not fenced by a
        lease, as those of `watcher check` are not)."""
        fetcher = self.service.network.fetcher
        report = self.service.network.run(self._checker().run([source], fetcher=fetcher))
        self._reported(report)
        return report

    def _reported(self, report: CheckReport) -> None:
        """Log what a poll found; send its alerts."""
        if report.changes:
            self.service.send_soon()
        for result in report.sources:
            if result.status == PollStatus.FAILED:
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
        with self.service.lock:
            self.service.status.passes += 1
            self.service.status.last_pass = report.finished

    def _probe(self) -> None:
        """Try the state database again; once it answers, go on where the polls left off."""
        try:
            self.service.store.ping()
        except StoreError:
            return
        with self.service.lock:
            since, self.service.away_since = self.service.away_since, None
        busy = set(self.busy())
        away = (utcnow() - since).total_seconds() if since else 0.0
        log.warning("state database reachable again after %.0fs; going on", away)
        try:
            # Polls whose results were lost with the connection are due again for anyone.
            self.service.schedule.release(keep=busy)
        except StoreError as exc:
            log.warning("could not let go of the leases of lost polls: %s", exc)
        self.service.send_soon()
