"""The commands of ``watcher``, one function each; :mod:`watcher.cli.main` parses the
arguments and calls one.

Modules only some commands need (the extractor, the templates, the web view) are
imported by those commands, so that a check with nothing new starts quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from watcher.alerts.outbox import DispatchReport, Outbox, OutboxError, outbox_json
from watcher.alerts.render import Renderer, TemplateError, load_templates
from watcher.cli.main import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, CommandError, ExitOn
from watcher.cli.report import (
    format_check,
    format_corrections,
    format_dispatch,
    format_explanation,
    format_known,
    format_observations,
    format_status,
)
from watcher.config import DEFAULT_LISTEN, Config, Routing, Source, parse_listen
from watcher.facts import knowledge
from watcher.facts.corrections import CorrectionError, value_text, who
from watcher.facts.shapes import StoryFacts, fact_json, facts_document
from watcher.facts.stories import Story, StoryError, load_stories
from watcher.facts.topic import Topic, TopicError, load_topic
from watcher.logs import setup_logging
from watcher.resources import resource_path
from watcher.service.upkeep import prune_if_due, queue_due_digests
from watcher.status import collect_status
from watcher.store import Store, StoreError, display_url, open_store, sqlite_path, utcnow
from watcher.terminal import ProgressLine, safe

if TYPE_CHECKING:
    from watcher.alerts.notify import Dispatcher
    from watcher.ingest.fetch import FetchResult
    from watcher.models import Article
    from watcher.service.report import SourceReport


def _print_json(data: Any, out: TextIO) -> None:
    json.dump(data, out, indent=2, ensure_ascii=False, default=str)
    out.write("\n")


# -- check -------------------------------------------------------------------


def cmd_check(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from watcher.service.check import Checker

    sources = _chosen_sources(config, args.source)
    if not sources:
        raise CommandError(f"{config.path}: sources: no enabled source to check")
    stories = _stories(config)
    store = _store(config)
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
        _print_json(
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


# -- extract -----------------------------------------------------------------


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
    topic = _load_topic(_topic_path(args.topic)) if args.topic else _topic(config)
    observations = extract_facts(article, topic)
    if args.explain:
        explanation = explain(article, topic)
        if args.json:
            _print_json(
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
        _print_json(
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


# -- facts -------------------------------------------------------------------


def cmd_baseline(args: argparse.Namespace, config: Config | None, out: TextIO) -> int:
    config = config or Config()
    stories = _stories(config, args.story)
    if args.json:
        _print_json(
            {
                "topic": stories[0].topic.name if len(stories) == 1 else None,
                "stories": [_story_json(s) for s in stories],
                "facts": [
                    fact_json(s.baseline.facts[k], s.name)
                    for s in stories
                    for k in s.topic.keys
                    if k in s.baseline.facts
                ],
            },
            out,
        )
        return EXIT_OK
    for number, story in enumerate(stories):
        facts = [story.baseline.facts[k] for k in story.topic.keys if k in story.baseline.facts]
        if len(stories) > 1 or args.story:
            out.write(("\n" if number else "") + f"== {safe(story.name)}: {safe(story.title)}\n")
        format_known(facts, story.topic, out, history=False)
    return EXIT_OK


def _story_json(story: Story) -> dict[str, Any]:
    return {"name": story.name, "topic": story.topic.name, "title": story.title}


FACTS_ACTIONS = ("reject", "set", "undo")


def cmd_facts(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    words: list[str] = args.words
    if words and words[0] in FACTS_ACTIONS:
        return _correct(args, config, out, words[0], words[1:])
    if len(words) > 1:
        raise CommandError(f"facts: one fact key at most, got {' '.join(words)}")
    for option in ("why", "as_of", "qualifier"):
        if getattr(args, option) is not None:
            flag = "--" + option.replace("_", "-")
            raise CommandError(f"facts: {flag} goes with `facts set` or `facts reject`")
    key = words[0] if words else None
    every = _stories(config)
    stories = _stories(config, args.story) if args.story else every
    if key is not None:
        tracking = [s for s in stories if key in s.topic.keys]
        if not tracking:
            where = f"story {args.story!r}" if args.story else _any_story(stories)
            raise CommandError(f"{key}: not a fact of {where}")
        stories = tracking
    store, installed = _reading_store(config, every)
    try:
        shown = []
        for story in stories:
            if installed:
                known = knowledge.load(store, story.name)
            else:
                known = knowledge.current(store, story, first=story is every[0])
            keys = [k for k in story.topic.keys if k in known.facts and key in (None, k)]
            changes = knowledge.stored_changes(store, story)
            corrections = store.corrections(story=story.name)
            shown.append(
                StoryFacts(
                    story,
                    [known.facts[k] for k in keys],
                    [c for c in changes if key in (None, c.key)],
                    [c for c in corrections if key in (None, c.key)],
                )
            )
    finally:
        store.close()
    if args.json:
        _print_json(facts_document(shown), out)
        return EXIT_OK
    for number, entry in enumerate(shown):
        if len(shown) > 1 or args.story:
            title = f"{safe(entry.story.name)}: {safe(entry.story.title)}"
            out.write(("\n" if number else "") + f"== {title}\n")
        format_known(
            entry.facts, entry.story.topic, out, history=True, asked=(key,) if key else None
        )
        format_corrections(entry.changes, entry.corrections, out)
    return EXIT_OK


def _reading_store(config: Config, stories: list[Story]) -> tuple[Store, bool]:
    """The database for `watcher facts`, and whether the stories' baselines and pins are
    installed in it. Installing writes only when they changed; a user who may only read
    the database (or before it exists) gets what a pass would leave, writing nothing."""
    path = sqlite_path(config.database_url())
    if path is None or path.exists():
        try:
            store = _store(config)
        except StoreError:
            pass
        else:
            try:
                knowledge.install_stories(
                    store, stories, at=utcnow(), policy=knowledge.policy_of(config)
                )
                return store, True
            except StoreError:
                store.close()
    return _store(config, read_only=True), False


def _any_story(stories: list[Story]) -> str:
    return f"topic {stories[0].topic.name!r}" if len(stories) == 1 else "any story of the config"


def _correct(
    args: argparse.Namespace, config: Config, out: TextIO, action: str, rest: list[str]
) -> int:
    """`facts reject CHANGE_ID`, `facts set KEY VALUE`, `facts undo CORRECTION_ID`."""
    from watcher.alerts.corrections import reject_change, set_fact, undo_correction

    wanted = {"reject": ["CHANGE_ID"], "set": ["KEY", "VALUE"], "undo": ["CORRECTION_ID"]}[action]
    if len(rest) != len(wanted):
        raise CommandError(f"facts {action}: give {' '.join(wanted)}")
    if action != "set" and (args.as_of or args.qualifier):
        raise CommandError(f"facts {action}: --as-of and --qualifier go with `facts set`")
    if action == "undo" and args.why:
        raise CommandError("facts undo: --why goes with `facts set` and `facts reject`")
    stories = _stories(config)
    store = _store(config)
    person = who()
    try:
        knowledge.install_stories(store, stories, at=utcnow(), policy=knowledge.policy_of(config))
        if action == "reject":
            rejected, noticed = reject_change(
                config, store, stories, _number(rest[0], "CHANGE_ID"), why=args.why, by=person
            )
            result: dict[str, Any] = {
                "correction_id": rejected.correction_id,
                "story": rejected.story.name,
                "key": rejected.key,
                "change_id": rejected.change_id,
                "fact": fact_json(rejected.fact, rejected.story.name) if rejected.fact else None,
                "notices": noticed,
            }
            line = (
                f"change {rejected.change_id} rejected (correction {rejected.correction_id}); "
                f"{rejected.key} is now {value_text(rejected.fact)}"
                + (f"; correction notice queued for {', '.join(noticed)}" if noticed else "")
            )
        elif action == "set":
            story = _story_for_key(stories, rest[0], args.story, config)
            corrected = set_fact(
                config,
                store,
                story,
                rest[0],
                rest[1],
                qualifier=args.qualifier,
                as_of=args.as_of,
                why=args.why,
                by=person,
            )
            result = {
                "correction_id": corrected.correction_id,
                "story": story.name,
                "key": corrected.key,
                "fact": fact_json(corrected.fact, story.name) if corrected.fact else None,
            }
            line = (
                f"{corrected.key} set to {value_text(corrected.fact)} "
                f"(correction {corrected.correction_id}; `watcher facts undo "
                f"{corrected.correction_id}` takes it back)"
            )
        else:
            corrected = undo_correction(
                config, store, stories, _number(rest[0], "CORRECTION_ID"), by=person
            )
            result = {
                "correction_id": corrected.correction_id,
                "story": corrected.story.name,
                "key": corrected.key,
                "fact": fact_json(corrected.fact, corrected.story.name) if corrected.fact else None,
            }
            line = (
                f"correction {corrected.correction_id} undone; "
                f"{corrected.key} is now {value_text(corrected.fact)}"
            )
        if action == "reject" and not args.no_send:
            from watcher.alerts.notify import Dispatcher

            with Dispatcher(config, store, _renderer(config)) as dispatcher:
                dispatch = dispatcher.send_due()
            result["alerts"] = dispatch.to_json()
    except CorrectionError as exc:
        raise CommandError(str(exc)) from None
    finally:
        store.close()
    if args.json:
        _print_json(result, out)
    else:
        out.write(safe(line) + "\n")
    return EXIT_OK


def _number(text: str, what: str) -> int:
    if not text.isdigit():
        raise CommandError(f"{what}: not a number: {text!r}")
    return int(text)


def _story_for_key(stories: list[Story], key: str, name: str | None, config: Config) -> Story:
    """The story a fact belongs to: the one named, else the only one that tracks it."""
    if name is not None:
        chosen = [s for s in stories if s.name == name]
        if not chosen:
            raise CommandError(f"--story {name}: no such story in {config.path}")
        if key not in chosen[0].topic.keys:
            raise CommandError(f"{key}: not a fact of story {name!r}")
        return chosen[0]
    tracking = [s for s in stories if key in s.topic.keys]
    if not tracking:
        raise CommandError(f"{key}: not a fact of {_any_story(stories)}")
    if len(tracking) > 1:
        names = ", ".join(s.name for s in tracking)
        raise CommandError(f"{key}: a fact of several stories ({names}); say which with --story")
    return tracking[0]


def cmd_eval(args: argparse.Namespace, config: Config | None, out: TextIO) -> int:
    from watcher.facts.corpus import Split
    from watcher.facts.evaluate import EvalError, evaluate, format_report

    folder = Path(args.folder)
    topic = None if (folder / "labels").is_dir() else _topic(config)
    try:
        report = evaluate(folder, topic, Split(args.split) if args.split else None)
    except EvalError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        _print_json(report.to_json(), out)
    else:
        out.write(format_report(report, mistakes=args.mistakes))
    return EXIT_OK


# -- alerts ------------------------------------------------------------------


def cmd_outbox(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from watcher.alerts.notify import Dispatcher

    store = _store(config)
    try:
        with Dispatcher(config, store, _renderer(config)) as dispatcher:
            outbox = dispatcher.outbox
            if args.action == "retry":
                try:
                    count = outbox.retry(args.ids or None)
                except OutboxError as exc:
                    raise CommandError(str(exc)) from None
                dispatch = dispatcher.send_due()
                if args.json:
                    _print_json({"requeued": count, "alerts": dispatch.to_json()}, out)
                else:
                    out.write(f"{count} alert(s) to send now\n")
                    format_dispatch(dispatch, out)
                return EXIT_OK
            alerts = outbox.listing()
    finally:
        store.close()
    if args.json:
        _print_json(outbox_json(alerts), out)
        return EXIT_OK
    if not alerts:
        out.write("outbox: nothing pending or failed\n")
    for alert in alerts:
        line = f"{alert.id:>5}  {alert.state:<9} {alert.channel:<10} {alert.kind:<7} "
        out.write(line + f"{safe(alert.subject_key)} (attempts {alert.attempts})\n")
        if alert.state == "pending":
            out.write(f"       next attempt {alert.next_attempt.isoformat()}\n")
        if alert.last_error:
            out.write(f"       {safe(alert.last_error)}\n")
    return EXIT_OK


def cmd_notify(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from watcher.alerts.notify import Dispatcher

    if not config.notify.channels():
        raise CommandError(f"{config.path}: notify: no channel configured (email, slack, apprise)")
    store = _store(config)
    try:
        with Dispatcher(config, store, _renderer(config)) as dispatcher:
            results = dispatcher.send_test()
    finally:
        store.close()
    if args.json:
        _print_json(
            {name: {"ok": error is None, "error": error} for name, error in results.items()}, out
        )
    else:
        for name, error in results.items():
            out.write(f"{name}: {'ok' if error is None else 'FAILED: ' + safe(error)}\n")
    return EXIT_OK if all(error is None for error in results.values()) else EXIT_ERROR


def cmd_digest(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from watcher.alerts.digest import digest_for, queue_digest
    from watcher.alerts.notify import Dispatcher

    channels = config.notify.channels()
    if args.channel and args.channel not in channels:
        raise CommandError(f"{config.path}: notify: no channel named {args.channel!r}")
    stories = _stories(config, args.story)
    renderer = _renderer(config)
    store = _store(config)
    now = utcnow()
    try:
        knowledge.install_stories(store, stories, at=now, policy=knowledge.policy_of(config))
        if not args.send:
            routing = (
                channels[args.channel] if args.channel else next(iter(channels.values()), None)
            )
            shown = [s for s in stories if args.channel is None or s.hears(args.channel)]
            digests = [
                digest_for(config, store, story, routing or Routing(), end=now) for story in shown
            ]
            if args.json:
                if len(digests) == 1 and not args.story:
                    _print_json(digests[0].to_json(), out)
                else:
                    _print_json({"digests": [d.to_json() for d in digests]}, out)
            else:
                for number, digest in enumerate(digests):
                    rendered = renderer.digest(digest)
                    rule = "\n" + "-" * 72 + "\n\n" if number else ""
                    out.write(f"{rule}Subject: {rendered.subject}\n\n{rendered.text}")
            return EXIT_OK
        if not channels:
            raise CommandError(f"{config.path}: notify: no channel configured to send to")
        names = [args.channel] if args.channel else list(channels)
        for name in names:
            queue_digest(config, store, stories, name, end=now, force=True)
        with Dispatcher(config, store, renderer) as dispatcher:
            dispatch = dispatcher.send_due()
    finally:
        store.close()
    if args.json:
        _print_json(dispatch.to_json(), out)
    else:
        format_dispatch(dispatch, out)
    return EXIT_OK if not dispatch.failed and not dispatch.retrying else EXIT_ERROR


def cmd_gc(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    before = utcnow() - timedelta(seconds=config.state.retention)
    store = _store(config)
    try:
        removed = store.prune(before)
        if args.vacuum:
            store.vacuum()
    finally:
        store.close()
    if args.json:
        _print_json({"before": before.isoformat(), "removed": removed}, out)
    else:
        counts = ", ".join(f"{count} {table}" for table, count in removed.items())
        out.write(f"removed what was older than {before:%Y-%m-%d %H:%M} UTC: {counts}\n")
    return EXIT_OK


def cmd_db(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    """`db upgrade`: bring the schema (any backend) to this watcher's; says from which to which."""
    url = config.database_url()
    store = open_store(url, upgrade=True)
    try:
        before, after = store.upgraded
    finally:
        store.close()
    report: dict[str, Any] = {"database": display_url(url), "from": before, "to": after}
    if args.json:
        _print_json(report, out)
    elif before == after:
        out.write(f"{report['database']}: schema {after}, nothing to do\n")
    elif before == 0:
        out.write(f"{report['database']}: created at schema {after}\n")
    else:
        out.write(f"{report['database']}: upgraded from schema {before} to {after}\n")
    return EXIT_OK


# -- stories -------------------------------------------------------------------


def cmd_story(args: argparse.Namespace, config: Config | None, out: TextIO) -> int:
    from watcher.cli.story import (
        StoryCommandError,
        check_stories,
        gather,
        stories_block,
        terminal_ask,
        write_story,
    )

    try:
        if args.action == "check":
            if config is None:
                raise CommandError("story check: needs a config (give --config PATH)")
            return check_stories(config, args.name, out)
        if args.name is None:
            raise CommandError("story new: give the story's NAME")
        story = gather(
            args.name,
            title=args.title,
            subject=args.subject,
            subject_names=args.subject_names,
            place=args.place,
            place_names=args.place_names,
            host=args.host,
            bases=list(args.base or []),
            deadline=args.deadline,
            since=args.since.isoformat() if args.since else None,
            ask=terminal_ask(),
        )
        base = config.base_dir if config is not None else Path.cwd()
        folder = Path(args.dir) if args.dir else base / "stories"
        topic, seeds = write_story(story, folder)
    except StoryCommandError as exc:
        raise CommandError(str(exc)) from None
    relative = _relative(topic, base), _relative(seeds, base)
    out.write(
        f"wrote {topic} and {seeds / 'manifest.toml'}\n\n"
        "Next: put the seed articles in the seeds folder and list them in its manifest.toml,\n"
        "add the story to the config, then `watcher story check`:\n\n"
        + stories_block(story.name, *relative)
    )
    return EXIT_OK


def _relative(path: Path, base: Path) -> Path:
    try:
        return path.resolve().relative_to(base.resolve())
    except ValueError:
        return path.resolve()


# -- run and status ------------------------------------------------------------


def cmd_run(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from watcher.service.daemon import run_service

    if not hasattr(signal, "sigtimedwait"):
        raise CommandError(
            "run: the daemon needs Linux (it takes signals with sigtimedwait); "
            "on this system run `watcher check` on a schedule instead"
        )
    setup_logging(verbose=args.verbose, style=args.log_format, default=logging.INFO)
    return run_service(args.config, name=args.name)


def cmd_status(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    store = _store(config, read_only=True)
    try:
        status = collect_status(config, store)
    finally:
        store.close()
    if args.json:
        _print_json(status, out)
    else:
        format_status(status, out)
    return EXIT_OK


# -- serve -------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from watcher.web.server import WebError, start_web, stop_signals_blocked, wait_for_stop

    listen = args.listen or config.web.listen or DEFAULT_LISTEN
    try:
        parse_listen(listen)
    except ValueError as exc:
        raise CommandError(f"--listen: {exc}") from None
    stories = _stories(config)
    store = _store(config)
    try:
        # The server's thread must not take SIGINT or SIGTERM: this one waits for them.
        with stop_signals_blocked():
            try:
                server = start_web(config, store, stories, listen=listen)
            except WebError as exc:
                raise CommandError(str(exc)) from None
            out.write(f"watcher: serving {server.url} (read-only; Ctrl-C to stop)\n")
            out.flush()
            wait_for_stop(server)
    finally:
        store.close()
    return EXIT_OK


# -- demo --------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace, config: Config | None, out: TextIO) -> int:
    from watcher.cli.demo import DemoError, run_demo

    serve = args.listen if args.serve else None
    if serve is not None:
        try:
            parse_listen(serve)
        except ValueError as exc:
            raise CommandError(f"--listen: {exc}") from None
    try:
        return run_demo(out, as_json=args.json, output=Path(args.output), serve=serve)
    except DemoError as exc:
        raise CommandError(str(exc)) from None


# -- plumbing ----------------------------------------------------------------


def _store(config: Config, *, read_only: bool = False) -> Store:
    return open_store(config.database_url(), read_only=read_only)


def _topic(config: Config | None) -> Topic:
    """The config's topic; without a config file, the shipped one."""
    return _load_topic((config or Config()).topic_path())


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


def _load_topic(path: Path) -> Topic:
    try:
        return load_topic(path)
    except TopicError as exc:
        raise CommandError(str(exc)) from None


def _stories(config: Config, only: str | None = None) -> list[Story]:
    try:
        return load_stories(config, only)
    except StoryError as exc:
        raise CommandError(str(exc)) from None


def _renderer(config: Config) -> Renderer:
    try:
        return load_templates(config.templates_path(), with_story=config.several_stories)
    except TemplateError as exc:
        raise CommandError(f"templates: {exc}") from None
