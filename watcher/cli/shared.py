"""What several commands share: printing JSON, opening the state database, and loading
the config's topic, stories and templates with their errors as one-line CommandErrors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from watcher.alerts.render import Renderer, TemplateError, load_templates
from watcher.cli.main import CommandError
from watcher.config import Config
from watcher.facts.stories import Story, StoryError, load_stories
from watcher.facts.topic import Topic, TopicError, load_topic
from watcher.store import Store, open_store


def print_json(data: Any, out: TextIO) -> None:
    json.dump(data, out, indent=2, ensure_ascii=False, default=str)
    out.write("\n")


def open_state(config: Config, *, read_only: bool = False) -> Store:
    return open_store(config.database_url(), read_only=read_only)


def config_topic(config: Config | None) -> Topic:
    """The config's topic; without a config file, the shipped one."""
    return read_topic((config or Config()).topic_path())


def read_topic(path: Path) -> Topic:
    try:
        return load_topic(path)
    except TopicError as exc:
        raise CommandError(str(exc)) from None


def config_stories(config: Config, only: str | None = None) -> list[Story]:
    try:
        return load_stories(config, only)
    except StoryError as exc:
        raise CommandError(str(exc)) from None


def config_renderer(config: Config) -> Renderer:
    try:
        return load_templates(config.templates_path(), with_story=config.several_stories)
    except TemplateError as exc:
        raise CommandError(f"templates: {exc}") from None
