"""``watcher story new`` and ``watcher story check``: starting a story, and checking one.

``story new`` writes a topic file and a seeds folder from a few flags (or,
at a terminal, a few questions); ``story check`` lists every problem of a
story's topic and seeds at once, one line each, before watcher stops at the
first of them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from watcher.cli.main import EXIT_OK, CommandError
from watcher.config import Config, StorySettings
from watcher.facts.baseline import normalise_pin, seed_problems
from watcher.facts.stories import StoryError, load_story, story_names
from watcher.facts.topic import TopicError, load_topic, topic_file_problems

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
MANIFEST_HELP = """\
# The seed articles of this story: what was known when you started to follow it.
# Their facts are the baseline every later article is compared with.
#
# One [[seed]] per article:
#   file      a .txt or .html file in this folder (or, instead, url: a page fetched once)
#   published the day it was published (YYYY-MM-DD, no quotes); required for a .txt
#             file, and for a page that does not carry its own date
#   title     optional
#   url       optional with a file: where it was published, shown as its source
#
# [[seed]]
# file = "first-article.txt"
# published = 2024-04-25
# title = "What the article was called"
# url = "https://news.example/first-article"
"""


class StoryCommandError(Exception):
    """A story that cannot be written; one line."""


@dataclass
class NewStory:
    """What ``story new`` writes: the topic's names, in a reader's words."""

    name: str
    title: str
    subject: str
    subject_names: list[str]
    place: str
    place_names: list[str]
    host: list[str] = field(default_factory=list)
    bases: list[tuple[str, list[str]]] = field(default_factory=list)
    deadline: bool = True
    since: str | None = None

    @property
    def subject_id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "_", self.subject.lower()).strip("_") or "subject"
        return (slug if slug[0].isalpha() else f"s_{slug}") + "_forces"


def _ident(label: str, taken: set[str]) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "base"
    slug = slug if slug[0].isalpha() else f"b_{slug}"
    ident, number = slug, 2
    while ident in taken:
        ident, number = f"{slug}_{number}", number + 1
    taken.add(ident)
    return ident


def _toml(value: object) -> str:
    # A JSON string, or list of strings, is a valid TOML basic string or array.
    return json.dumps(value, ensure_ascii=False)


def topic_text(story: NewStory) -> str:
    """The topic file: names only; how news tells a withdrawal is the engine's."""
    lines = [
        f"# {story.title}: written by `watcher story new`. See the README, 'Topic files'.",
        "",
        f"name = {_toml(story.name)}",
        f"title = {_toml(story.title)}",
    ]
    if story.since:
        lines.append(
            f"since = {story.since}                 # older articles are about something else"
        )
    lines += [
        "",
        "[subject]                          # who leaves",
        f"id = {_toml(story.subject_id)}",
        f"label = {_toml(story.subject)}",
        f"names = {_toml(story.subject_names)}",
        "",
        "[place]                            # where from",
        f"label = {_toml(story.place)}",
        f"names = {_toml(story.place_names)}",
    ]
    if story.host:
        lines.append(f"host = {_toml(story.host)}")
    taken: set[str] = set()
    for label, names in story.bases:
        lines += [
            "",
            "[[bases]]                          # each a fact: bases.<id>.status",
            f"id = {_toml(_ident(label, taken))}",
            f"label = {_toml(label)}",
            f"names = {_toml(names)}",
        ]
    if not story.deadline:
        lines += ["", "[track]", "deadline = false                   # no deadline to follow"]
    return "\n".join(lines) + "\n"


def stories_block(name: str, topic: Path, seeds: Path) -> str:
    return (
        "[[stories]]\n"
        f"name = {_toml(name)}\n"
        f"topic = {_toml(str(topic))}\n"
        f"seeds = {_toml(str(seeds))}\n"
    )


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_base(spec: str) -> tuple[str, list[str]]:
    """``"Adji Kossei air base=Adji Kossei,Kossei base"``: a label, then its names; a
    label alone is its own name."""
    label, _, names = spec.partition("=")
    label = label.strip()
    if not label:
        raise StoryCommandError(f"--base {spec!r}: give LABEL or LABEL=NAME,NAME...")
    return label, _split(names) or [label]


Ask = Callable[[str], str]


def gather(
    name: str,
    *,
    title: str | None,
    subject: str | None,
    subject_names: str | None,
    place: str | None,
    place_names: str | None,
    host: str | None,
    bases: list[str],
    deadline: bool,
    since: str | None,
    ask: Ask | None,
) -> NewStory:
    """The new story from the flags; what is missing is asked for at a terminal, and an
    error elsewhere naming every flag missing."""
    if not NAME.match(name):
        raise StoryCommandError(
            f"{name!r}: a story name is lower-case letters, digits, '.', '_' and '-'"
        )
    wanted = {
        "--subject": (subject, "Who leaves (e.g. US)? "),
        "--subject-names": (
            subject_names,
            "Names for them, comma-separated (e.g. US, American, Pentagon)? ",
        ),
        "--place": (place, "Where from (e.g. Chad)? "),
        "--place-names": (
            place_names,
            "Names for the place, comma-separated (e.g. Chad, N'Djamena)? ",
        ),
    }
    given: dict[str, str] = {}
    missing = []
    for flag, (value, question) in wanted.items():
        if value is None and ask is not None:
            value = ask(question).strip() or None
        if value is None:
            missing.append(flag)
        else:
            given[flag] = value
    if missing:
        raise StoryCommandError(
            f"story new {name}: give {', '.join(missing)} (or run it at a terminal to be asked)"
        )
    if ask is not None and not bases:
        while answer := ask(
            "A base or facility to track (LABEL or LABEL=NAME,NAME; empty: done)? "
        ).strip():
            bases.append(answer)
    subject_label = given["--subject"]
    place_label = given["--place"]
    return NewStory(
        name=name,
        title=title or f"{subject_label} forces leave {place_label}",
        subject=subject_label,
        subject_names=_split(given["--subject-names"]) or [subject_label],
        place=place_label,
        place_names=_split(given["--place-names"]) or [place_label],
        host=_split(host or ""),
        bases=[parse_base(spec) for spec in bases],
        deadline=deadline,
        since=since,
    )


def write_story(story: NewStory, folder: Path) -> tuple[Path, Path]:
    """Write ``folder/NAME/topic.toml`` and ``folder/NAME/seeds/manifest.toml``; never
    over a story already there."""
    root = folder / story.name
    topic, seeds = root / "topic.toml", root / "seeds"
    if topic.exists():
        raise StoryCommandError(f"{topic}: already there; a story is started once")
    seeds.mkdir(parents=True, exist_ok=True)
    topic.write_text(topic_text(story), encoding="utf-8")
    manifest = seeds / "manifest.toml"
    if not manifest.exists():
        manifest.write_text(MANIFEST_HELP, encoding="utf-8")
    try:
        load_topic(topic)
    except TopicError as exc:  # a name the flags gave twice, say
        raise StoryCommandError(str(exc)) from None
    return topic, seeds


def terminal_ask() -> Ask | None:
    if not sys.stdin.isatty():
        return None
    return input


# -- story check -------------------------------------------------------------------


def story_problems(config: Config, settings: StorySettings) -> list[str]:
    """Every problem of a story's topic, seeds and pins, one line each."""
    label = settings.name or "(the config's topic)"
    topic_path = config.story_topic_path(settings)
    problems = topic_file_problems(topic_path)
    seeds = config.story_seeds_path(settings)
    if seeds is None:
        problems.append('no seeds folder given: seeds = "FOLDER" (a folder with manifest.toml)')
    elif not seeds.is_dir():
        problems.append(f"{seeds}: seeds folder not found")
    else:
        problems += seed_problems(seeds)
    if not problems:
        topic = load_topic(topic_path)
        for key, pin in settings.pins.items():
            try:
                normalise_pin(key, pin, topic)
            except ValueError as exc:
                problems.append(str(exc))
    return [f"{label}: {problem}" for problem in problems]


def check_stories(config: Config, only: str | None, out: TextIO) -> int:
    """Print every problem of the config's stories (or the one named); 0 when there is
    none, 1 when there are."""
    settings = config.story_settings()
    if only is not None:
        names = [s.name for s in settings] if config.stories else []
        if only not in names:
            if not config.stories and only in story_names(config):
                names = [only]
            else:
                raise StoryCommandError(f"{config.path}: no story named {only!r}")
        settings = [s for s in settings if s.name == only] or settings
    found = 0
    for entry in settings:
        problems = story_problems(config, entry)
        if not problems:
            try:
                story = load_story(config, entry)
            except StoryError as exc:
                problems = [str(exc)]
            else:
                known = [k for k in story.topic.keys if k in story.baseline.facts]
                out.write(
                    f"{story.name}: ok: {len(known)} of {len(story.topic.keys)} facts known "
                    "from the seeds\n"
                )
                continue
        found += len(problems)
        for problem in problems:
            out.write(" ".join(problem.split()) + "\n")
    return 1 if found else 0


def cmd_story(args: argparse.Namespace, config: Config | None, out: TextIO) -> int:
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
