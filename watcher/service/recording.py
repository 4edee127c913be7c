"""A pass's writes: what each source gave, in one transaction, and what it leads to.

One transaction per source (or one for a batch of sources that gave nothing new)
holds its items, its articles and their observations for each story, the knowledge
and changes they lead to, the alerts those cause, the source's poll and health,
and the metrics. A crash mid-pass therefore loses nothing (what was not written
is fetched again next time) and cannot leave a change without its alerts, or an
alert without its change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from watcher.alerts.atom import build_feed, write_feed
from watcher.alerts.health import HealthEvent, health_events
from watcher.alerts.outbox import enqueue_change, enqueue_health
from watcher.config import Config, Routing, Source
from watcher.counters import Counter, FailureReason, Tally
from watcher.facts import knowledge
from watcher.facts.compare import Policy
from watcher.facts.known import ChangeEvent
from watcher.facts.stories import Story
from watcher.models import Observation
from watcher.service.articles import Problem, Read
from watcher.service.polling import Fetched
from watcher.service.report import ArticleFailure, PollStatus, ReportedChange, SourceReport
from watcher.service.revisits import next_revisit
from watcher.store import SourcePoll, Store, StoreError, text_hash, utcnow

# The pass's log, whichever of its modules writes to it.
log = logging.getLogger("watcher.service.check")

# Called first in each transaction that records polls (a worker checks its lease
# there: its Checker polls the one source it claimed); raising drops what they found.
Settle = Callable[[Connection], None]


class Recorder:
    """Writes what a pass's sources gave (the methods run on the store's writer)."""

    def __init__(
        self,
        config: Config,
        store: Store,
        stories: list[Story],
        *,
        policy: Policy,
        channels: dict[str, Routing],
        keep_text: bool = True,
        settle: Settle | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.stories = stories
        self.policy = policy
        self.channels = channels
        self.keep_text = keep_text
        self.settle = settle

    def record(self, fetched: Fetched) -> None:
        """Store what a source gave, then judge its health (one trip to the writer)."""
        try:
            self._write(fetched)
        except StoreError:
            raise
        except Exception as exc:
            fetched.internal_error(exc)
            self._write_failure(fetched)
        fetched.report.health = self._check_health(fetched.source)

    def record_quiet(self, batch: list[Fetched]) -> None:
        """Polls that found nothing new, and the health they leave, in one transaction
        (a worker's lease is checked first there too, as for any poll it records)."""
        now, notify, tally = utcnow(), self.config.notify, Tally()
        with self.store.transaction() as conn:
            if self.settle is not None:
                self.settle(conn)
            self.store.record_successes(
                conn,
                [
                    SourcePoll(
                        f.source.name,
                        f.source.url,
                        f.etag,
                        f.last_modified,
                        f.body_hash,
                        f.feed_url,
                    )
                    for f in batch
                ],
                at=now,
            )
            for fetched in batch:
                _count(tally, fetched.report, facts_read=0)
            tally.write(conn)
            states = self.store.source_states_in(conn, {f.source.name: f.source.url for f in batch})
            events = health_events(
                list(states.values()),
                failures=notify.health_failures,
                silence=notify.health_silence,
                now=now,
            )
            reports = {f.source.name: f.report for f in batch}
            for event in events:
                self._raise_health(conn, event, now)
                reports[event.source].health = event

    def _raise_health(self, conn: Any, event: HealthEvent, now: datetime) -> None:
        self.store.set_health(conn, event.source, event.health, since=now)
        enqueue_health(conn, event, self.channels, at=now)

    def _write_revisits(
        self, conn: Any, fetched: Fetched, *, at: datetime
    ) -> dict[str, list[Observation]]:
        """Record each revisit and schedule the next; a changed text is stored as the
        article's next revision, and its readings for each story, marked with it, are
        returned to be compared like any other."""
        observations: dict[str, list[Observation]] = {}
        for revisit, outcome in fetched.revisited:
            next_at = next_revisit(revisit.first_fetched, self.config.articles, after=at)
            if isinstance(outcome, Problem):
                log.info("revisit of %s failed: %s", revisit.url, outcome.reason)
                self.store.record_revisit(
                    conn,
                    revisit,
                    at=at,
                    next_at=next_at,
                    etag=revisit.etag,
                    last_modified=revisit.last_modified,
                )
                continue
            fetched.report.revisited += 1
            revised = None
            if isinstance(outcome, Read) and text_hash(outcome.article.text) != revisit.text_hash:
                revised = outcome.article
                revision = revisit.revision + 1
                for story, facts in outcome.observations.items():
                    found = [
                        replace(o, evidence=replace(o.evidence, revision=revision)) for o in facts
                    ]
                    rows = [o.to_json() for o in found]
                    self.store.add_observations(conn, revisit.article_id, story, rows, at=at)
                    observations.setdefault(story, []).extend(found)
                fetched.report.revised.append(revised)
            self.store.record_revisit(
                conn,
                revisit,
                at=at,
                next_at=next_at,
                etag=outcome.etag,
                last_modified=outcome.last_modified,
                revised=revised,
            )
        return observations

    def _write(self, fetched: Fetched) -> None:
        """Everything one source gave, in one transaction."""
        if fetched.report.status == PollStatus.FAILED:
            self._write_failure(fetched)
            return
        source, report, now = fetched.source, fetched.report, utcnow()
        max_attempts = self.config.articles.max_attempts
        tally = Tally()
        with self.store.transaction() as conn:
            if self.settle is not None:
                self.settle(conn)
            self._drop_taken(conn, fetched)
            self.store.add_items(conn, fetched.new_items, at=now, unrelated=fetched.unrelated)
            observations: dict[str, list[Observation]] = {}
            revisit_at = next_revisit(now, self.config.articles, after=now)
            for item, read in fetched.done:
                article_id = self.store.save_article(
                    conn,
                    item,
                    read.article,
                    at=now,
                    etag=read.etag,
                    last_modified=read.last_modified,
                    revisit_at=revisit_at,
                )
                for story_name, facts in read.observations.items():
                    rows = [o.to_json() for o in facts]
                    self.store.add_observations(conn, article_id, story_name, rows, at=now)
                    observations.setdefault(story_name, []).extend(facts)
                report.articles.append(
                    read.article if self.keep_text else replace(read.article, text="")
                )
            for story_name, facts in self._write_revisits(conn, fetched, at=now).items():
                observations.setdefault(story_name, []).extend(facts)
            for story in self.stories:
                if observations.get(story.name):
                    report.changes += self._compare(conn, story, observations[story.name], at=now)
            for item, problem in fetched.failed:
                self.store.record_item_failure(
                    conn, item, problem.reason, max_attempts=max_attempts
                )
                report.failures.append(
                    ArticleFailure(
                        item.link, problem.reason, item.attempts + 1 >= max_attempts, problem.kind
                    )
                )
            self.store.record_source(
                conn,
                source.name,
                source.url,
                at=now,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                body_hash=fetched.body_hash,
                new_items=bool(fetched.new_items),
                feed_url=fetched.feed_url,
            )
            if report.status == PollStatus.NOTHING_NEW and (report.articles or report.revised):
                report.status = PollStatus.NEW
            _count(tally, report, facts_read=sum(len(o) for o in observations.values()))
            tally.write(conn)

    def _drop_taken(self, conn: Any, fetched: Fetched) -> None:
        """Forget new items another process stored while this one fetched them.

        Two passes at once (the daemon and a manual check) may fetch the same
        new items; whichever writes second finds them taken, under the write
        lock, and leaves them to the first, so nothing is stored or alerted twice.
        """
        new_ids = {i.item_id for i in fetched.new_items}
        taken = self.store.known_item_ids(fetched.source.name, new_ids, conn=conn)
        if not taken:
            return
        fetched.new_items = [i for i in fetched.new_items if i.item_id not in taken]
        fetched.done = [d for d in fetched.done if d[0].attempts or d[0].item_id not in taken]
        fetched.failed = [f for f in fetched.failed if f[0].attempts or f[0].item_id not in taken]

    def _compare(
        self, conn: Any, story: Story, observations: list[Observation], *, at: datetime
    ) -> list[ReportedChange]:
        """Fold a story's observations into its knowledge, read in this same transaction;
        queue the alerts on the channels that hear the story."""
        recorded_changes = knowledge.fold(conn, story, observations, policy=self.policy, at=at)
        channels = {n: r for n, r in self.channels.items() if story.hears(n)}
        reported = []
        for recorded in recorded_changes:
            change = knowledge.present(
                recorded.change, recorded.change_id, recorded.first_seen, story.topic, story.name
            )
            queued = enqueue_change(
                conn,
                change,
                recorded.event,
                channels,
                at=at,
                subject_key=story.subject_key(change.key),
            )
            reported.append(ReportedChange(change, ChangeEvent(recorded.event), tuple(queued)))
        return reported

    def _check_health(self, source: Source) -> HealthEvent | None:
        """Raise a source's health alert once when it turns bad, and once when it recovers.

        Most polls change nothing: they are judged on a plain read, and only a
        change takes the write lock (and is judged again under it).
        """
        notify, now = self.config.notify, utcnow()

        def events(conn: Any = None) -> list[HealthEvent]:
            state = self.store.source_state(source.name, source.url, conn=conn)
            return health_events(
                [state], failures=notify.health_failures, silence=notify.health_silence, now=now
            )

        if not events():
            return None
        with self.store.transaction() as conn:
            found = events(conn)
            for event in found:
                self._raise_health(conn, event, now)
        return found[0] if found else None

    def write_atom(self) -> None:
        path = self.config.atom_path()
        if path is None:
            return
        changes = [c for s in self.stories for c in knowledge.stored_changes(self.store, s)]
        first = self.stories[0]
        several = len(self.stories) > 1
        feed = build_feed(
            changes,
            title="watcher: " + ", ".join(s.title for s in self.stories),
            feed_id="urn:watcher:" + ("stories" if several else first.topic.name),
            updated=utcnow(),
            self_url=self.config.notify.atom_url or path.resolve().as_uri(),
            with_story=several,
        )
        try:
            write_feed(path, feed)
        except OSError as exc:
            log.error("%s: cannot write the Atom feed: %s", path, exc.strerror or exc)

    def _write_failure(self, fetched: Fetched) -> None:
        tally = Tally()
        _count(tally, fetched.report, facts_read=0)
        with self.store.transaction() as conn:
            if self.settle is not None:
                self.settle(conn)
            self.store.record_source(
                conn,
                fetched.source.name,
                fetched.source.url,
                at=utcnow(),
                error=fetched.report.error,
            )
            tally.write(conn)

    def tally_pass(self, seconds: float) -> None:
        tally = Tally()
        tally.observe_pass(seconds)
        with self.store.transaction() as conn:
            tally.write(conn)


def _count(tally: Tally, report: SourceReport, *, facts_read: int) -> None:
    """What one source's poll adds to the metrics."""
    source = report.name
    tally.add(Counter.POLLS, source=source, outcome=report.status)
    if report.status == PollStatus.FAILED:
        reason = report.failure_reason or FailureReason.INTERNAL
        tally.add(Counter.POLL_FAILURES, source=source, reason=reason)
    tally.add(Counter.ARTICLES, len(report.articles), source=source)
    for failure in report.failures:
        tally.add(Counter.ARTICLE_FAILURES, source=source, reason=failure.kind)
    tally.add(Counter.FACTS_READ, facts_read, source=source)
    for reported in report.changes:
        tally.add(Counter.CHANGES, key=reported.change.key, event=reported.event)
