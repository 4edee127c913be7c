"""The ``watcher`` command: a thin skin over the library.

Exit codes follow diff: 0 nothing changed, 1 changes found, 2 trouble.
Every command that reports takes ``--json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

from watcher import __version__
from watcher.alerts.notify import Dispatcher, DispatchReport
from watcher.alerts.outbox import OutboxError, outbox_json
from watcher.alerts.render import Renderer, TemplateError, load_templates
from watcher.cli.report import (
    format_check,
    format_corrections,
    format_dispatch,
    format_explanation,
    format_known,
    format_observations,
    format_status,
)
from watcher.cli.sources import SourcesError
from watcher.cli.sources import add_commands as add_source_commands
from watcher.config import (
    DEFAULT_LISTEN,
    Config,
    ConfigError,
    Routing,
    Source,
    load_config,
    parse_listen,
)
from watcher.facts import knowledge
from watcher.facts.baseline import BaselineError
from watcher.facts.corpus import Split
from watcher.facts.corrections import CorrectionError, value_text, who
from watcher.facts.evaluate import EvalError, evaluate, format_report
from watcher.facts.reading import explain, extract_facts
from watcher.facts.shapes import StoryFacts, fact_json, facts_document
from watcher.facts.stories import Story, StoryError, load_stories
from watcher.facts.topic import Topic, TopicError, load_topic
from watcher.ingest.extract import ExtractError, as_datetime, extract_file, extract_html
from watcher.ingest.fetch import Fetcher, FetchError, FetchResult
from watcher.logs import setup_logging
from watcher.models import Article
from watcher.resources import resource_path
from watcher.service.check import Checker, OnWritten, SourceReport
from watcher.service.upkeep import prune_if_due, queue_due_digests
from watcher.status import collect_status
from watcher.store import Store, StoreError, open_store, sqlite_path, utcnow
from watcher.terminal import ProgressLine, safe

EXIT_OK, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2
# The reader of our output went away (`watcher status | head -3`): the status a
# program killed by SIGPIPE has in a shell.
EXIT_BROKEN_PIPE = 128 + 13


class ExitOn(StrEnum):
    """What makes ``watcher check`` exit 1."""

    ANYTHING = "anything"  # new articles or fact changes, like diff
    CHANGES = "changes"  # fact changes only: first reported or confirmed in this pass


class CommandError(Exception):
    """A failure to report in one line and exit 2."""


def _print_json(data: Any, out: TextIO) -> None:
    json.dump(data, out, indent=2, ensure_ascii=False, default=str)
    out.write("\n")


# -- check -------------------------------------------------------------------


def cmd_check(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    sources = _chosen_sources(config, args.source)
    if not sources:
        raise CommandError(f"{config.path}: sources: no enabled source to check")
    stories = _stories(config)
    renderer = _renderer(config)
    store = _store(config)
    progress = ProgressLine("fetching articles") if sys.stderr.isatty() and not args.json else None
    dispatcher = None if args.no_send else Dispatcher(config, store, renderer)
    dispatch = None if dispatcher is None else DispatchReport()
    try:
        checker = Checker(config, store, stories=stories)
        checker.progress = progress
        if dispatcher is not None and dispatch is not None:
            checker.on_written = _sender(dispatcher, dispatch)
        report = asyncio.run(checker.run(sources))
        if progress:
            progress.close()
            progress = None
        # What the daemon does on its schedule, so a check on a timer does it too.
        now = utcnow()
        digests = queue_due_digests(config, store, stories, now)
        pruned = prune_if_due(config, store, now)
        if dispatcher is not None and dispatch is not None:
            # Digests due, alerts due a retry, and any a source's own round left behind.
            dispatch.extend(dispatcher.send_due())
    finally:
        if progress:
            progress.close()
        if dispatcher is not None:
            dispatcher.close()
        store.close()
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


def _sender(dispatcher: Dispatcher, dispatch: DispatchReport) -> OnWritten:
    """Send a source's alerts as soon as it is written, one round at a time, off the
    event loop (SMTP and webhooks block), while the other sources go on."""
    one_at_a_time = asyncio.Lock()

    async def send(source: SourceReport) -> None:
        if not (source.health or any(change.alerts for change in source.changes)):
            return
        async with one_at_a_time:
            dispatch.extend(await asyncio.to_thread(dispatcher.send_due))

    return send


# -- extract -----------------------------------------------------------------


def _extract_url(url: str, config: Config) -> Article:
    async def fetch() -> FetchResult:
        async with Fetcher(config.http) as fetcher:
            return await fetcher.get(url)

    try:
        result = asyncio.run(fetch())
    except FetchError as exc:
        raise CommandError(str(exc)) from None
    return extract_html(result.content, result.url)


def cmd_extract(args: argparse.Namespace, config: Config | None, out: TextIO) -> int:
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
    return run_service(args.config)


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


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    # --config and -v are global: accepted before the command (``watcher --config X
    # check``) and after it. After it, an option not given must not overwrite the
    # value given before, hence SUPPRESS as the default there.
    config_options = argparse.ArgumentParser(add_help=False)
    _add_config_option(config_options, default=argparse.SUPPRESS)
    verbose_option = argparse.ArgumentParser(add_help=False)
    _add_verbose_option(verbose_option, default=argparse.SUPPRESS)
    json_option = argparse.ArgumentParser(add_help=False)
    json_option.add_argument("--json", action="store_true", help="print JSON instead of text")
    # Commands that read a config and report; run reports nothing, demo has its own config.
    common = [config_options, verbose_option, json_option]

    parser = argparse.ArgumentParser(
        prog="watcher",
        description="Watch news feeds about a developing story and report when a fact "
        "changes, with the quote and the link that show it.",
        epilog="Try `watcher demo` for an offline run against bundled sample feeds.",
    )
    parser.add_argument("--version", action="version", version=f"watcher {__version__}")
    _add_config_option(parser, default=None)
    _add_verbose_option(parser, default=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check",
        parents=common,
        help="poll every enabled source once and report what is new",
        description="Poll every enabled source once: fetch new feed items, extract their "
        "articles, store them, and report. Then do what the daemon does on its schedule: "
        "queue each channel's digest once its time has come (up to 6 hours late) and "
        "prune old articles once a day. Exit status: 0 nothing new, 1 something new "
        "(see --exit-on), 2 error (bad config, or every source failed).",
    )
    check.add_argument(
        "--exit-on",
        choices=[e.value for e in ExitOn],
        default=ExitOn.ANYTHING.value,
        help="what exits 1: anything new (new articles or fact changes; the default) or "
        "changes (a fact change first reported or confirmed in this pass)",
    )
    check.add_argument(
        "--no-send",
        action="store_true",
        help="queue alerts in the outbox but send nothing now (the daemon or "
        "`watcher outbox retry` sends them later)",
    )
    check.add_argument(
        "--source",
        action="append",
        metavar="NAME",
        help="poll only this source (disabled ones too); may be given more than once",
    )
    check.set_defaults(handler=cmd_check, needs_config=True)

    baseline = commands.add_parser(
        "baseline",
        parents=common,
        help="show the baseline: the facts of the seed articles, and pinned values",
        description="Run fact extraction over the seed articles and show the baseline every "
        "later article is compared with: each fact's value, its sources with their quotes, "
        "and readings that disagree. Values pinned in config ([facts.pins]) override "
        "derived ones and are marked as pinned.",
    )
    baseline.add_argument("--story", metavar="NAME", help="only this story (default: every one)")
    baseline.set_defaults(handler=cmd_baseline, needs_config=False)

    facts = commands.add_parser(
        "facts",
        parents=common,
        usage="watcher facts [KEY] [--story NAME]\n"
        "       watcher facts reject CHANGE_ID [--why TEXT]\n"
        "       watcher facts set KEY VALUE [--as-of DATE] [--qualifier Q] [--why TEXT]\n"
        "       watcher facts undo CORRECTION_ID",
        help="show what is known now, fact by fact; reject a change, set a value, undo",
        description="Show current knowledge from the state database: each fact's value, "
        "where it comes from (seeds, pinned, set by a person, observed), its sources with "
        "quotes, open disagreements, the values it had before, and the corrections made. "
        "`facts reject CHANGE_ID` marks a change read wrongly: its readings stop counting, "
        "the fact is worked out again without them, its alerts not yet sent are cancelled "
        "and the channels that heard it get one correction notice. `facts set KEY VALUE` "
        "records a value a person knows; it holds from --as-of (default today) until a "
        "later article reports a further change. `facts undo CORRECTION_ID` takes either "
        "back. Each is kept with who made it, why and when.",
    )
    facts.add_argument(
        "words",
        nargs="*",
        metavar="KEY | reject CHANGE_ID | set KEY VALUE | undo CORRECTION_ID",
        help="a fact key (e.g. bases.air_base_201.status), or a correction",
    )
    facts.add_argument("--story", metavar="NAME", help="only this story (default: every one)")
    facts.add_argument("--why", metavar="TEXT", help="with set or reject: the reason, kept")
    facts.add_argument(
        "--as-of",
        type=_date,
        metavar="YYYY-MM-DD",
        help="with set: the day the value holds from (default: today)",
    )
    facts.add_argument(
        "--qualifier",
        metavar="Q",
        help="with set: exact, about, more_than or fewer_than for a count; exact, early, "
        "mid, late or month for a date",
    )
    facts.add_argument(
        "--no-send",
        action="store_true",
        help="with reject: queue the correction notices without sending them now",
    )
    facts.set_defaults(handler=cmd_facts, needs_config=True)

    evaluation = commands.add_parser(
        "eval",
        parents=common,
        help="score fact extraction against labelled articles",
        description="Read every labelled article in FOLDER, extract its facts and print "
        "precision and recall, and the facts wrongly found in off-topic articles. FOLDER "
        "is either a labelled set (FOLDER/labels.toml beside the texts, read with the "
        "config's topic; see tests/factset) or the real-article corpus (FOLDER/labels/ "
        "and FOLDER/topics/ per story; see corpus/README.md), scored per fact type and "
        "per story.",
    )
    evaluation.add_argument("folder", metavar="FOLDER")
    evaluation.add_argument(
        "--split",
        choices=[s.value for s in Split],
        help="corpus only: the dev half (rules may be tuned on it) or the test half",
    )
    evaluation.add_argument(
        "--mistakes",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="list every missed and wrong fact after the tables (default: yes)",
    )
    evaluation.set_defaults(handler=cmd_eval, needs_config=False)

    outbox = commands.add_parser(
        "outbox",
        parents=common,
        help="list alerts waiting or failed; `retry` sends them again",
        description="List alerts that are pending, failed for good, or uncertain (the "
        "sender stopped between sending and recording, so they may have arrived). "
        "`watcher outbox retry [ID ...]` sends them now: failed and uncertain alerts "
        "start again, pending ones stop waiting out their backoff. An ID that is not "
        "in the outbox is an error (exit 2).",
    )
    outbox.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    outbox.add_argument("ids", nargs="*", type=int, metavar="ID", help="alerts to retry")
    outbox.set_defaults(handler=cmd_outbox, needs_config=True)

    digest = commands.add_parser(
        "digest",
        parents=common,
        help="preview the digest, or send it now",
        description="Build the digest for the period ending now: the period's fact "
        "changes, every tracked fact as it stands with the source it comes from, and the deadline "
        "countdown. --preview (the default) prints it; --send sends it to every channel "
        "(or --channel) now.",
    )
    action = digest.add_mutually_exclusive_group()
    action.add_argument("--preview", action="store_true", help="print it (default)")
    action.add_argument("--send", action="store_true", help="send it now")
    digest.add_argument("--channel", help="email, slack or apprise:NAME (default: all)")
    digest.add_argument(
        "--story", metavar="NAME", help="only this story's digest (default: every story's)"
    )
    digest.set_defaults(handler=cmd_digest, needs_config=True)

    notify = commands.add_parser(
        "notify",
        parents=common,
        help="`notify test`: send a test message to every channel",
        description="Send a test message to every configured channel and say which worked. "
        "Exit status 2 when any failed.",
    )
    notify.add_argument("action", choices=["test"])
    notify.set_defaults(handler=cmd_notify, needs_config=True)

    extract = commands.add_parser(
        "extract",
        parents=common,
        help="show the text and metadata extracted from one file or URL",
        description="Extract one article, from a local file (HTML or plain text) or a URL, "
        "and show its text, metadata and facts. Nothing is stored. A URL is fetched with "
        "the [http] settings of the config, or the defaults when there is none.",
    )
    extract.add_argument("target", metavar="FILE|URL")
    extract.add_argument(
        "--published",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the article's publication date (dates in the text are read relative to it)",
    )
    extract.add_argument(
        "--explain",
        action="store_true",
        help="show, sentence by sentence, who it was judged to be about, which fact was read "
        "from which words, and why a sentence gave nothing (negation, doubt, a plan, another "
        "force or place)",
    )
    extract.add_argument(
        "--all",
        action="store_true",
        help="with --explain, show every sentence, also those that name nothing of the story",
    )
    extract.add_argument(
        "--topic",
        metavar="FILE|NAME",
        help="read the facts of this topic instead of the config's: a topic file, or the "
        "name of a shipped one (niger-us-withdrawal)",
    )
    extract.add_argument(
        "--allow-private-addresses",
        action="store_true",
        help="fetch the URL even from loopback or a private network, as "
        "http.allow_private_addresses = true does",
    )
    extract.set_defaults(handler=cmd_extract, needs_config=False)

    demo = commands.add_parser(
        "demo",
        parents=[verbose_option, json_option],
        help="run offline against bundled sample feeds served on 127.0.0.1",
        description="Serve the bundled sample feeds and articles on 127.0.0.1, run three "
        "checks against them with a throw-away state database, send each fact change to "
        "a Slack webhook served on 127.0.0.1, and write the alerts as email (text and "
        "HTML), the digest and the Atom feed to --output. With --serve, then serve the "
        "web view of that database (watcher serve) until Ctrl-C.",
    )
    demo.add_argument(
        "--output",
        metavar="DIR",
        default="demo-output",
        help="where to write the rendered alerts, digest and Atom feed (default: demo-output)",
    )
    demo.add_argument(
        "--serve",
        action="store_true",
        help="then serve the web view of the demo's database until Ctrl-C, and print its URL",
    )
    demo.add_argument(
        "--listen",
        metavar="HOST:PORT",
        default="127.0.0.1:0",
        help="where --serve listens (default: 127.0.0.1 on any free port)",
    )
    demo.set_defaults(handler=cmd_demo, needs_config=False)

    story = commands.add_parser(
        "story",
        parents=common,
        usage="watcher story new NAME [--subject LABEL --subject-names A,B --place LABEL "
        "--place-names A,B ...]\n       watcher story check [NAME]",
        help="start a story (`story new NAME`), or check the config's stories",
        description="`story new NAME` writes stories/NAME/topic.toml (next to the config) "
        "and stories/NAME/seeds/manifest.toml from the flags, asking at a terminal for what "
        "is missing, and prints the [[stories]] block to add to the config. `story check "
        "[NAME]` reads each story's topic, seeds and pins and prints every problem, one "
        "line each (exit 1), or what the seeds give (exit 0).",
    )
    story.add_argument("action", choices=["new", "check"])
    story.add_argument("name", nargs="?", metavar="NAME")
    story.add_argument("--title", help="new: the story's title (default: 'X forces leave Y')")
    story.add_argument("--subject", metavar="LABEL", help="new: who leaves, e.g. US")
    story.add_argument(
        "--subject-names", metavar="A,B", help="new: names for them, e.g. 'US,American,Pentagon'"
    )
    story.add_argument("--place", metavar="LABEL", help="new: where from, e.g. Chad")
    story.add_argument(
        "--place-names", metavar="A,B", help='new: names for the place, e.g. "Chad,N\'Djamena"'
    )
    story.add_argument(
        "--host", metavar="A,B", help="new: names for the host's forces and leaders, e.g. Chadian"
    )
    story.add_argument(
        "--base",
        action="append",
        metavar="LABEL[=NAME,NAME]",
        help="new: a base or facility to track (repeat for several)",
    )
    story.add_argument(
        "--no-deadline",
        dest="deadline",
        action="store_false",
        help="new: there is no deadline to follow",
    )
    story.add_argument(
        "--since", type=_date, metavar="YYYY-MM-DD", help="new: older articles are not about it"
    )
    story.add_argument(
        "--dir", metavar="DIR", help="new: where to write it (default: stories/ by the config)"
    )
    story.set_defaults(handler=cmd_story, needs_config=False)

    run = commands.add_parser(
        "run",
        parents=[config_options, verbose_option],
        help="run as a daemon: poll each source on its own schedule",
        description="Run in the foreground, polling each enabled source at its interval "
        "(with jitter, never two polls of one source at once). SIGTERM or SIGINT stops "
        "cleanly; SIGHUP reloads the config, keeping the old one if the new one is invalid. "
        "Under systemd (Type=notify) it reports readiness, status and watchdog pings.",
    )
    run.add_argument(
        "--log-format",
        choices=["auto", "text", "json"],
        default="auto",
        help="auto: journal-style under systemd, text with timestamps otherwise",
    )
    run.set_defaults(handler=cmd_run, needs_config=True)

    gc = commands.add_parser(
        "gc",
        parents=common,
        help="prune article text older than state.retention",
        description="Delete article text, and sent digest and health alerts, older than "
        "state.retention (default 90 days). Facts, the observations they are folded from, "
        "changes and their quotes are kept, and so are seen feed items, so nothing is "
        "fetched again. The daemon does this once a day.",
    )
    gc.add_argument(
        "--vacuum", action="store_true", help="then compact the SQLite file (rewrites it)"
    )
    gc.set_defaults(handler=cmd_gc, needs_config=True)

    status = commands.add_parser(
        "status",
        parents=common,
        help="show each source's last poll, errors, and the daemon's schedule",
        description="Read the state database (safe while the daemon runs) and show, per "
        "source, the last attempt, last success, last error and items seen, and the "
        "daemon's last pass and next scheduled polls.",
    )
    status.set_defaults(handler=cmd_status, needs_config=True)

    serve = commands.add_parser(
        "serve",
        parents=[config_options, verbose_option],
        help="serve the read-only web view: the story, timelines, changes, sources, outbox",
        description="Serve the read-only web view of the state database: the story's facts "
        "with their sources, each fact's timeline, the changes with their evidence and "
        "alerts, the sources' health and the outbox; a JSON API under /api/ (the --json "
        "shapes) and Prometheus metrics at /metrics. Listens on --listen, else [web] listen, "
        "else 127.0.0.1:8080; an address other than loopback needs [web] token_env. "
        "SIGINT or SIGTERM stops it.",
    )
    serve.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="where to listen (default: [web] listen, else 127.0.0.1:8080; port 0: any free one)",
    )
    serve.set_defaults(handler=cmd_serve, needs_config=True)

    add_source_commands(commands, common)
    return parser


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit does not fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a file (captured in tests)
        pass


def _add_config_option(parser: argparse.ArgumentParser, *, default: Any) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help="config file (default: $WATCHER_CONFIG, else config/watcher.toml, "
        "else the user's config directory)",
    )


def _add_verbose_option(parser: argparse.ArgumentParser, *, default: Any) -> None:
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="log more detail to stderr",
    )


def _load_optional(path: str | None, *, check_stories: bool = True) -> Config | None:
    try:
        return load_config(path, check_stories=check_stories)
    except ConfigError:
        if path:
            raise
        return None


def _error(message: str) -> int:
    print(f"watcher: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; every failure is one line on stderr and exit status 2.

    Exit 1 means "changes found", so nothing unplanned may end with it: an
    error nobody foresaw is reported as an internal error, with its
    traceback only under -v.
    """
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo" and args.config is not None:
        parser.error("demo: --config: the demo serves its own sample feeds with its own config")
    try:
        setup_logging(verbose=args.verbose)
        handler: Callable[[argparse.Namespace, Any, TextIO], int] = args.handler
        if args.command == "story":
            # story check reports every problem of the stories' files itself.
            config = _load_optional(args.config, check_stories=False)
        else:
            config = load_config(args.config) if args.needs_config else _load_optional(args.config)
        code = handler(args, config, out)
        out.flush()
        return code
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except ConfigError as exc:
        # One line for each mistake in the file: all of them, not just the first.
        for mistake in str(exc).splitlines()[:-1]:
            _error(mistake)
        return _error(str(exc).splitlines()[-1] if str(exc) else "")
    except (StoreError, CommandError, BaselineError, StoryError, SourcesError) as exc:
        return _error(str(exc))
    except KeyboardInterrupt:
        print("watcher: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if args.verbose:
            traceback.print_exc()
            return _error(f"internal error: {detail}")
        return _error(f"internal error: {detail} (run with -v for the traceback)")
