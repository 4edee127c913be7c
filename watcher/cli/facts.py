"""``watcher baseline``, ``watcher facts`` with its corrections (reject, set, undo), and
``watcher eval``: what is known, how it is corrected, and how well facts are read.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from watcher.cli.main import EXIT_OK, CommandError
from watcher.cli.report import format_corrections, format_known
from watcher.cli.shared import config_renderer, config_stories, config_topic, open_state, print_json
from watcher.config import Config
from watcher.facts import knowledge
from watcher.facts.corrections import CorrectionError, value_text, who
from watcher.facts.shapes import StoryFacts, fact_json, facts_document
from watcher.facts.stories import Story
from watcher.store import Store, StoreError, sqlite_path, utcnow
from watcher.terminal import safe


def cmd_baseline(args: argparse.Namespace, config: Config | None, out: TextIO) -> int:
    config = config or Config()
    stories = config_stories(config, args.story)
    if args.json:
        print_json(
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
    every = config_stories(config)
    stories = config_stories(config, args.story) if args.story else every
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
        print_json(facts_document(shown), out)
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
            store = open_state(config)
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
    return open_state(config, read_only=True), False


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
    stories = config_stories(config)
    store = open_state(config)
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

            with Dispatcher(config, store, config_renderer(config)) as dispatcher:
                dispatch = dispatcher.send_due()
            result["alerts"] = dispatch.to_json()
    except CorrectionError as exc:
        raise CommandError(str(exc)) from None
    finally:
        store.close()
    if args.json:
        print_json(result, out)
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
    topic = None if (folder / "labels").is_dir() else config_topic(config)
    try:
        report = evaluate(folder, topic, Split(args.split) if args.split else None)
    except EvalError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print_json(report.to_json(), out)
    else:
        out.write(format_report(report, mistakes=args.mistakes))
    return EXIT_OK
