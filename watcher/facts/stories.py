"""The stories a config follows, each with its topic, seeds, pins, baseline and channels.

A config either lists ``[[stories]]`` or names one ``topic`` (with
``[facts] seeds`` and ``pins``): that one story is named after its topic,
so a config from before stories keeps working as it was.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watcher.config import Config, ConfigError, StorySettings
from watcher.facts.baseline import BaselineError, derive_baseline
from watcher.facts.compare import Policy
from watcher.facts.known import Knowledge
from watcher.facts.topic import Topic, TopicError, load_topic
from watcher.ingest.fetch import Fetcher, FetchError

log = logging.getLogger(__name__)

# Where a seed URL's page is kept once fetched, inside the seeds folder.
FETCHED_DIR = ".fetched"


class StoryError(ValueError):
    """A story that cannot be followed; the message is one line naming it."""


@dataclass(frozen=True, eq=False)
class Story:
    """One story: what it tracks (its topic), what was known at the start (its
    baseline), and who hears about it."""

    name: str
    topic: Topic
    topic_path: Path
    seeds_path: Path
    pins: dict[str, Any]
    # The channels that hear its changes and digests; None: every channel.
    channels: tuple[str, ...] | None
    baseline: Knowledge
    # The one story of a config's `topic`, from before configs followed several.
    implicit: bool = False

    @property
    def title(self) -> str:
        return self.topic.title

    def hears(self, channel: str) -> bool:
        return self.channels is None or channel in self.channels

    def subject_key(self, key: str) -> str:
        """What alerts about one fact share (a mail thread): the fact key, with the story
        in front when the config names its stories."""
        return key if self.implicit else f"{self.name}/{key}"


def policy_of(config: Config) -> Policy:
    return Policy(
        count_tolerance=config.facts.count_tolerance, confirm_sites=config.facts.confirm_sources
    )


def load_stories(config: Config, only: str | None = None) -> list[Story]:
    """Every story of the config (or the one named ``only``), topics read and baselines
    derived; any problem is one :class:`StoryError` line naming the story and file."""
    settings = config.story_settings()
    if only is not None:
        names = [_name_of(config, s) for s in settings]
        if only not in names:
            raise StoryError(
                f"{config.path}: no story named {only!r} (stories: {', '.join(names)})"
            )
        settings = [settings[names.index(only)]]
    return [load_story(config, s) for s in settings]


def story_names(config: Config) -> list[str]:
    return [_name_of(config, s) for s in config.story_settings()]


def _name_of(config: Config, settings: StorySettings) -> str:
    return settings.name or _topic(config, settings).name


def _topic(config: Config, settings: StorySettings) -> Topic:
    try:
        return load_topic(config.story_topic_path(settings))
    except TopicError as exc:
        where = f"story {settings.name!r}: " if settings.name else ""
        raise StoryError(f"{where}{exc}") from None


def load_story(config: Config, settings: StorySettings) -> Story:
    topic = _topic(config, settings)
    try:
        seeds = config.seeds_path() if not settings.name else config.story_seeds_path(settings)
    except ConfigError as exc:
        raise StoryError(str(exc)) from None
    if seeds is None:
        raise StoryError(
            f'{config.path}: story {settings.name!r}: no seeds folder given (seeds = "FOLDER")'
        )
    name = settings.name or topic.name
    try:
        baseline = derive_baseline(
            seeds, topic, settings.pins, policy_of(config), fetch=SeedPages(config, seeds)
        )
    except BaselineError as exc:
        raise StoryError(_baseline_problem(config, settings, name, str(exc))) from None
    return Story(
        name=name,
        topic=topic,
        topic_path=config.story_topic_path(settings),
        seeds_path=seeds,
        pins=dict(settings.pins),
        channels=tuple(settings.channels) if settings.channels is not None else None,
        baseline=baseline,
        implicit=not settings.name,
    )


def _baseline_problem(config: Config, settings: StorySettings, name: str, problem: str) -> str:
    if problem.startswith("pins:"):
        where = f"stories ({name!r})." if settings.name else "facts."
        return f"{config.path}: {where}{problem}"
    return f"story {name!r}: {problem}" if settings.name else problem


class SeedPages:
    """A seed URL's page: fetched once (with the config's [http] rules) and kept in the
    seeds folder, so the baseline never depends on the page still being there."""

    def __init__(self, config: Config, seeds: Path) -> None:
        self.config = config
        self.folder = seeds / FETCHED_DIR

    def path_of(self, url: str) -> Path:
        return self.folder / (hashlib.sha256(url.encode()).hexdigest()[:24] + ".html")

    def __call__(self, url: str) -> bytes:
        kept = self.path_of(url)
        if kept.is_file():
            return kept.read_bytes()
        content = self._fetch(url)
        try:
            self.folder.mkdir(exist_ok=True)
            kept.write_bytes(content)
        except OSError as exc:
            log.warning(
                "%s: cannot keep the page fetched from %s (%s); it is fetched again next time",
                self.folder,
                url,
                exc.strerror or exc,
            )
        return content

    def _fetch(self, url: str) -> bytes:
        async def fetch() -> bytes:
            async with Fetcher(self.config.http) as fetcher:
                return (await fetcher.get(url)).content

        try:
            return asyncio.run(fetch())
        except FetchError as exc:
            raise BaselineError(f"cannot fetch the seed: {exc}") from None


def stories_by_name(stories: Sequence[Story]) -> dict[str, Story]:
    return {story.name: story for story in stories}
