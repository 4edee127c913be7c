"""Running totals of what passes did, behind the web view's ``/metrics``.

A pass adds to them in the transaction that stores what it counts, so the
totals survive restarts, every process that writes (the daemon, or ``watcher
check`` on a timer) adds to the same ones, and whatever serves ``/metrics``
reads them from the database instead of from its own memory. A crash that
loses a pass's results loses its counts with them.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection

from watcher.store import Store


class Counter(StrEnum):
    """A running total; the value is its Prometheus name without ``_total``."""

    POLLS = "watcher_polls"
    POLL_FAILURES = "watcher_poll_failures"
    ARTICLES = "watcher_articles"
    ARTICLE_FAILURES = "watcher_article_failures"
    FACTS_READ = "watcher_facts_read"
    CHANGES = "watcher_changes"


HELP = {
    Counter.POLLS: "Source polls, by source and outcome (new, nothing_new, not_modified, "
    "unchanged, failed).",
    Counter.POLL_FAILURES: "Failed source polls, by source and reason.",
    Counter.ARTICLES: "Articles fetched, read and stored, by source.",
    Counter.ARTICLE_FAILURES: "Article fetches or extractions that failed, by source and reason.",
    Counter.FACTS_READ: "Fact observations read from articles, by source.",
    Counter.CHANGES: "Fact changes found, by fact key and event (new, confirmed, corroborated).",
}


class FailureReason(StrEnum):
    """Why a poll or an article failed, beyond the fetch's own kinds (timeout, http_status...)."""

    NOT_A_FEED = "not_a_feed"
    NO_ARTICLE_LINKS = "no_article_links"  # a page source linking to no article
    NOT_A_SITEMAP = "not_a_sitemap"
    EXTRACT = "extract"
    OUT_OF_TIME = "out_of_time"  # check.source_budget or check.pass_budget ran out
    INTERNAL = "internal"


_COUNTER_NAMES = frozenset(c.value for c in Counter)

# A pass is one `watcher check`, or one source's poll in the daemon.
PASS_DURATION = "watcher_pass_duration_seconds"
PASS_DURATION_HELP = "Time a pass took, from its start to its last source written."
PASS_DURATION_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
_BUCKET = PASS_DURATION + "_bucket"
_SUM = PASS_DURATION + "_sum"
_COUNT = PASS_DURATION + "_count"


def _labels(labels: dict[str, str]) -> str:
    return json.dumps(labels, sort_keys=True, ensure_ascii=False)


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


class Tally:
    """Amounts to add, gathered while a pass works and written in its transaction."""

    def __init__(self) -> None:
        self.amounts: dict[tuple[str, str], float] = defaultdict(float)

    def add(self, counter: Counter, amount: float = 1, **labels: str) -> None:
        if amount:
            self.amounts[(counter.value, _labels(labels))] += amount

    def observe_pass(self, seconds: float) -> None:
        for bound in (*PASS_DURATION_BUCKETS, math.inf):
            if seconds <= bound:
                self.amounts[(_BUCKET, _labels({"le": _le(bound)}))] += 1
        self.amounts[(_SUM, "{}")] += seconds
        self.amounts[(_COUNT, "{}")] += 1

    def write(self, conn: Connection) -> None:
        Store.add_to_counters(conn, dict(self.amounts))
        self.amounts.clear()


@dataclass(frozen=True)
class Total:
    name: str
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class PassDurations:
    """The pass-duration histogram: cumulative bucket counts by upper bound, sum and count."""

    buckets: list[tuple[str, float]]
    total_seconds: float
    count: float


def read_totals(store: Store) -> tuple[list[Total], PassDurations]:
    """The counters, and the pass-duration histogram (every bucket, zero when empty)."""
    totals: list[Total] = []
    buckets: dict[str, float] = {}
    total_seconds = count = 0.0
    for name, labels, value in store.read_counters():
        if name == _BUCKET:
            buckets[json.loads(labels)["le"]] = value
        elif name == _SUM:
            total_seconds = value
        elif name == _COUNT:
            count = value
        elif name in _COUNTER_NAMES:
            totals.append(Total(name, json.loads(labels), value))
    bounds = [_le(b) for b in (*PASS_DURATION_BUCKETS, math.inf)]
    return totals, PassDurations([(b, buckets.get(b, 0.0)) for b in bounds], total_seconds, count)
