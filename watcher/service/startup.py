"""What a config needs built before the daemon runs it, at the start and on each reload.

Its stories (compiled topics and baselines), templates, dispatcher and readers are
built at once, so that a mistake in any of the config's files stops a start (or
refuses a reload) in one line, a :class:`StartupError`, before anything runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from watcher.alerts.notify import Dispatcher
from watcher.alerts.render import TemplateError, load_templates
from watcher.config import Config, Source
from watcher.facts.stories import Story, StoryError, load_stories
from watcher.service.articles import readers_for
from watcher.service.workers import Readers
from watcher.store import Store


class StartupError(Exception):
    """Something in the config's files (topic, seeds, pins, templates) that stops a start."""


def source_changes(before: Source | None, after: Source) -> str:
    """What a reload changed in a source, for the log."""
    if before is None:
        return f"polling {after.name} every {after.interval:g}s"
    changed = []
    if before.interval != after.interval:
        changed.append(f"every {after.interval:g}s now (was {before.interval:g}s)")
    if before.url != after.url:
        changed.append(f"from {after.url} now (was {before.url})")
    return f"polling {after.name} " + ("; ".join(changed) or "with its new settings")


@dataclass(frozen=True)
class Prepared:
    """What a config needs built before it runs: its stories (compiled topics and
    baselines), templates."""

    config: Config
    stories: list[Story]
    dispatcher: Dispatcher
    readers: Readers
    # The stories' topic files as read (see topics_digest).
    topic_digest: str = ""

    def close(self) -> None:
        self.dispatcher.close()
        self.readers.close()


def prepare(config: Config, store: Store) -> Prepared:
    """Build everything a config refers to; any problem is one :class:`StartupError` line."""
    try:
        stories = load_stories(config)
        digest = topics_digest(stories)
        renderer = load_templates(config.templates_path(), with_story=config.several_stories)
    except StoryError as exc:
        raise StartupError(str(exc)) from None
    except TemplateError as exc:
        raise StartupError(f"templates: {exc}") from None
    except OSError as exc:
        raise StartupError(f"{exc.filename}: cannot read: {exc.strerror}") from None
    dispatcher = Dispatcher(config, store, renderer)
    return Prepared(config, stories, dispatcher, readers_for(config, stories), digest)


def no_sources(config: Config) -> str | None:
    """Why a config gives the daemon nothing to do, as ``watcher check`` would refuse it."""
    if config.enabled_sources():
        return None
    return f"{config.path}: sources: no enabled source to poll"


def topics_digest(stories: list[Story]) -> str:
    """Each story's name and its topic file's bytes as read, to tell an edited topic (or
    another set of stories) from the same ones."""
    digest = hashlib.sha256()
    for story in stories:
        digest.update(story.name.encode() + b"\0" + story.topic_path.read_bytes() + b"\0")
    return digest.hexdigest()
