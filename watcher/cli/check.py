"""``watcher check`` and ``watcher extract``: a pass over the sources, and one article read
without storing it.

Modules only some commands need (the extractor, the templates) are imported by those
commands, so that a check with nothing new starts quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from watcher.alerts.outbox import DispatchReport, Outbox
from watcher.alerts.render import TemplateError, load_templates
from watcher.cli.main import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, CommandError
from watcher.cli.parser import ExitOn
from watcher.cli.report import (
    format_check,
    format_dispatch,
    format_explanation,
    format_observations,
)
from watcher.cli.shared import config_stories, config_topic, open_state, print_json, read_topic
from watcher.config import Config, Source
from watcher.resources import resource_path
from watcher.service.upkeep import prune_if_due, queue_due_digests
from watcher.store import Store, utcnow
from watcher.terminal import ProgressLine, safe

if TYPE_CHECKING:
    from watcher.alerts.notify import Dispatcher
    from watcher.ingest.fetch import FetchResult
    from watcher.models import Article
    from watcher.service.report import SourceReport


def cmd_check(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from watcher.service.check import Checker

    sources = _chosen_sources(config, args.source)
    if not sources:
        raise CommandError(f"{config.path}: sources: no enabled source to check")
    stories = config_stories(config)
    store = open_state(config)
    _start_workers_early(config, store, sources)
    progress = ProgressLine("fetching articles") if sys.stderr.isatty() and not args.json else None
    sender = None if args.no_send else _CheckSender(config, store)
    try:
        # Article text is printed only with --json; otherwise it leaves memory once stored.
        checker = Checker(config, store, stories=stories, keep_text=args.json)
        checker.progress = progress
        if sender is not None:
            checker.on_written = sender.after_source
        report = asyncio.run(checker.run(sources))
        if progress:
            progress.close()
            progress = None
        # What the daemon does on its schedule, so a check on a timer does it too.
        now = utcnow()
        digests = queue_due_digests(config, store, stories, now)
        pruned = prune_if_due(config, store, now)
        if sender is not None:
            # Digests due, alerts due a retry, and any a source's own round left behind.
            sender.send_due()
    finally:
        if progress:
            progress.close()
        if sender is not None:
            sender.close()
        store.close()
    dispatch = sender.report if sender is not None else None
    if args.json:
        print_json(
            {
                **report.to_json(),
                "alerts": dispatch.to_json() if dispatch else None,
                "digests": digests,
                "pruned": pruned,
            },
            out,
        )
    else:
        format_check(report, out)
        if digests:
            out.write(f"digest due, queued for: {', '.join(digests)}\n")
        if dispatch:
            format_dispatch(dispatch, out)
    if sender is not None and sender.error:
        # Everything is stored and the alerts wait in the outbox; nothing was sent.
        raise CommandError(sender.error)
    if report.sources and len(report.failed_sources) == len(report.sources):
        return EXIT_ERROR
    found = report.fact_changes if args.exit_on == ExitOn.CHANGES else report.found_something
    return EXIT_CHANGES if found else EXIT_OK


def _start_workers_early(config: Config, store: Store, sources: list[Source]) -> None:
    """Start the workers' fork server now if this pass is a first one over several sources
    (it will have many articles to read): its imports then overlap the pass's start."""
    from watcher.service.articles import worker_count
    from watcher.service.prestart import NEW_SOURCES, start_fork_server

    if worker_count(config) < 2 or len(sources) < NEW_SOURCES:
        return
    states = store.source_states({s.name: s.url for s in sources})
    new = sum(1 for s in sources if s.name not in states or states[s.name].last_success is None)
    if new >= NEW_SOURCES:
        start_fork_server()


def _chosen_sources(config: Config, names: list[str] | None) -> list[Source]:
    """The sources ``--source`` names (enabled or not), else every enabled one."""
    if not names:
        return config.enabled_sources()
    by_name = {source.name: source for source in config.sources}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        known = ", ".join(by_name) or "none"
        raise CommandError(
            f"{config.path}: sources: no source named {unknown[0]!r} (sources: {known})"
        )
    return [by_name[name] for name in dict.fromkeys(names)]


class _CheckSender:
    """Sends what a check queues: each source's alerts as soon as it is written, one
    round at a time, off the event loop (SMTP and webhooks block), while the other
    sources go on; then whatever else is due.

    The templates and channels are loaded on first need, so a pass with nothing to
    send never imports jinja2 nor opens a channel. A broken template then stops the
    sending (the alerts wait in the outbox) and the check exits 2 naming it.
    """

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.report = DispatchReport()
        self.error: str | None = None
        self._dispatcher: Dispatcher | None = None
        self._one_at_a_time: asyncio.Lock | None = None

    def _send_due(self) -> None:
        if self.error is not None:
            return
        if self._dispatcher is None:
            from watcher.alerts.notify import Dispatcher

            try:
                renderer = load_templates(
                    self.config.templates_path(), with_story=self.config.several_stories
                )
            except TemplateError as exc:
                self.error = f"templates: {exc}"
                return
            self._dispatcher = Dispatcher(self.config, self.store, renderer)
        self.report.extend(self._dispatcher.send_due())

    async def after_source(self, source: SourceReport) -> None:
        if not (source.health or any(change.alerts for change in source.changes)):
            return
        if self._one_at_a_time is None:
            self._one_at_a_time = asyncio.Lock()
        async with self._one_at_a_time:
            await asyncio.to_thread(self._send_due)

    def send_due(self) -> None:
        if self._dispatcher is not None or _outbox(self.config, self.store).has_work():
            self._send_due()

    def close(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.close()


def _outbox(config: Config, store: Store) -> Outbox:
    notify = config.notify
    return Outbox(
        store,
        max_attempts=notify.max_attempts,
        backoff=notify.retry_backoff,
        backoff_max=notify.retry_max,
    )


def _extract_url(url: str, config: Config) -> Article:
    from watcher.ingest.extract import extract_html
    from watcher.ingest.fetch import Fetcher, FetchError

    async def fetch() -> FetchResult:
        async with Fetcher(config.http) as fetcher:
            return await fetcher.get(url)

    try:
        result = asyncio.run(fetch())
    except FetchError as exc:
        raise CommandError(str(exc)) from None
    return extract_html(result.content, result.url)


def cmd_extract(args: argparse.Namespace, config: Config | None, out: TextIO) -> int:
    from watcher.facts.reading import explain, extract_facts
    from watcher.ingest.extract import ExtractError, as_datetime, extract_file

    target: str = args.target
    published = args.published
    try:
        if target.startswith(("http://", "https://")):
            config = config or Config()
            if args.allow_private_addresses:
                http = config.http.model_copy(update={"allow_private_addresses": True})
                config = config.model_copy(update={"http": http})
            article = _extract_url(target, config)
            if published:
                article = replace(article, published=as_datetime(published))
        else:
            article = extract_file(Path(target), published=published)
    except ExtractError as exc:
        raise CommandError(f"{target}: {exc}") from None
    topic = read_topic(_topic_path(args.topic)) if args.topic else config_topic(config)
    observations = extract_facts(article, topic)
    if args.explain:
        explanation = explain(article, topic)
        if args.json:
            print_json(
                {
                    "article": article.to_json(),
                    **explanation.to_json(),
                    "facts": [o.to_json() for o in observations],
                },
                out,
            )
        else:
            format_explanation(explanation, topic, out, every_sentence=args.all)
        return EXIT_OK
    if args.json:
        print_json(
            {"article": article.to_json(), "facts": [o.to_json() for o in observations]}, out
        )
        return EXIT_OK
    out.write(f"title:     {safe(article.title or '(none)')}\n")
    out.write(f"published: {article.published.isoformat() if article.published else '(unknown)'}\n")
    out.write(f"url:       {safe(article.url)}\n")
    if article.canonical_url:
        out.write(f"canonical: {safe(article.canonical_url)}\n")
    format_observations(observations, out)
    out.write("\n" + safe(article.text, keep_newlines=True) + "\n")
    return EXIT_OK


def _topic_path(given: str) -> Path:
    """A topic file, or the name of a shipped topic."""
    path = Path(given)
    if path.exists() or "/" in given or given.endswith(".toml"):
        return path
    shipped = resource_path("config") / "topics" / f"{given}.toml"
    if shipped.exists():
        return shipped
    names = ", ".join(sorted(p.stem for p in (resource_path("config") / "topics").glob("*.toml")))
    raise CommandError(
        f"--topic {given}: no such file, and no shipped topic of that name ({names})"
    )
