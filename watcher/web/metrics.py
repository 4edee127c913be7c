"""``/metrics`` in the Prometheus text format, read from the state database at each scrape.

The running totals (polls, failures by reason, articles, facts read,
changes, pass durations) are kept by the passes themselves (see
:mod:`watcher.counters`); the rest is the state as it is: alerts by channel
and state, the outbox's depth, articles waiting, each source's health and
last success. prometheus-client formats it; a collector of our own reads it.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from watcher.config import Config
from watcher.counters import HELP, PASS_DURATION, PASS_DURATION_HELP, Counter
from watcher.models import AlertState, SourceHealth
from watcher.store import Store
from watcher.web import queries

# Counters and the labels each has, in the order they are exposed.
_LABELS = {
    Counter.POLLS: ("source", "outcome"),
    Counter.POLL_FAILURES: ("source", "reason"),
    Counter.ARTICLES: ("source",),
    Counter.ARTICLE_FAILURES: ("source", "reason"),
    Counter.FACTS_READ: ("source",),
    Counter.CHANGES: ("key", "event"),
}
HEALTH_STATES = tuple(SourceHealth)


class StateCollector(Collector):
    """Everything under ``watcher_``, read fresh from the database at each scrape."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store

    def collect(self) -> Iterator[Metric]:
        yield from self._totals()
        yield from self._alerts()
        yield from self._sources()

    def _totals(self) -> Iterator[Metric]:
        totals, durations = queries.totals(self.store)
        for counter, labels in _LABELS.items():
            family = CounterMetricFamily(counter.value, HELP[counter], labels=labels)
            for total in totals:
                if total.name == counter:
                    family.add_metric([total.labels.get(name, "") for name in labels], total.value)
            yield family
        yield HistogramMetricFamily(
            PASS_DURATION,
            PASS_DURATION_HELP,
            buckets=durations.buckets,
            sum_value=durations.total_seconds,
        )

    def _alerts(self) -> Iterator[Metric]:
        by_state = queries.alert_totals(self.store)
        family = GaugeMetricFamily(
            "watcher_alerts",
            "Alerts in the outbox by channel and state (sent ones until they are pruned).",
            labels=("channel", "state"),
        )
        for (channel, state), count in sorted(by_state.items()):
            family.add_metric([channel, state], count)
        yield family
        depth = sum(n for (_, state), n in by_state.items() if state == AlertState.PENDING)
        yield GaugeMetricFamily(
            "watcher_outbox_depth",
            "Alerts waiting to be sent (pending, due or backing off).",
            depth,
        )

    def _sources(self) -> Iterator[Metric]:
        counts = queries.item_counts(self.store)
        states = queries.source_states(self.store)
        waiting = GaugeMetricFamily(
            "watcher_articles_waiting",
            "Articles of feed items not fetched yet, or failed and to be tried again.",
            labels=("source",),
        )
        health = GaugeMetricFamily(
            "watcher_source_health",
            "1 for the source's health as its last health alert said (ok, failing, silent).",
            labels=("source", "state"),
        )
        failures = GaugeMetricFamily(
            "watcher_source_consecutive_failures",
            "Polls of the source that failed in a row.",
            labels=("source",),
        )
        success = GaugeMetricFamily(
            "watcher_source_last_success_timestamp_seconds",
            "When the source was last polled without error (Unix time).",
            labels=("source",),
        )
        names = {s.name for s in self.config.sources} | set(states) | set(counts)
        for name in sorted(names):
            count = counts.get(name, queries.ItemCounts())
            waiting.add_metric([name], count.waiting + count.retrying)
            state = states.get(name)
            for option in HEALTH_STATES:
                health.add_metric(
                    [name, option], float(option == (state.health if state else SourceHealth.OK))
                )
            failures.add_metric([name], state.consecutive_failures if state else 0)
            if state and state.last_success:
                success.add_metric([name], state.last_success.timestamp())
        yield from (waiting, health, failures, success)


def metrics_registry(config: Config, store: Store) -> CollectorRegistry:
    """A registry of our own (not the process-wide default), so that each app has its metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StateCollector(config, store))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
