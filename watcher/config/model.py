"""The whole config: its sections, the stories it follows, and the paths it resolves."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from pydantic import Field, field_validator, model_validator

from watcher.config.paths import DEFAULT_TOPIC, default_state_dir, shipped_topic_path
from watcher.config.sections import (
    ArticleSettings,
    CheckSettings,
    DaemonSettings,
    FactSettings,
    HttpSettings,
    NotifySettings,
    Source,
    StateSettings,
    StorySettings,
    WebSettings,
)
from watcher.config.values import ConfigError, Strict
from watcher.resources import resource_path


class Config(Strict):
    state: StateSettings = StateSettings()
    daemon: DaemonSettings = DaemonSettings()
    http: HttpSettings = HttpSettings()
    check: CheckSettings = CheckSettings()
    articles: ArticleSettings = ArticleSettings()
    notify: NotifySettings = NotifySettings()
    facts: FactSettings = FactSettings()
    web: WebSettings = WebSettings()
    topic: str = DEFAULT_TOPIC
    # Several stories at once; without them, `topic`, [facts] seeds and pins are the one story.
    stories: list[StorySettings] = []
    sources: list[Source] = []

    # Where the file was read from; relative paths in it are resolved there.
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[Source]) -> list[Source]:
        seen: set[str] = set()
        for source in sources:
            if source.name in seen:
                raise ValueError(f"two sources are named {source.name!r}")
            seen.add(source.name)
        return sources

    @field_validator("stories")
    @classmethod
    def _unique_stories(cls, stories: list[StorySettings]) -> list[StorySettings]:
        seen: set[str] = set()
        for story in stories:
            if story.name in seen:
                raise ValueError(f"two stories are named {story.name!r}")
            seen.add(story.name)
        return stories

    @model_validator(mode="after")
    def _stories_or_topic(self) -> Config:
        if not self.stories:
            return self
        given = [
            name
            for name, is_set in (
                ("topic", "topic" in self.model_fields_set),
                ("facts.seeds", self.facts.seeds is not None),
                ("facts.pins", bool(self.facts.pins)),
            )
            if is_set
        ]
        if given:
            raise ValueError(
                f"{', '.join(given)}: with [[stories]], give each story its own topic, "
                "seeds and pins"
            )
        channels = set(self.notify.channels())
        for story in self.stories:
            for name in story.channels or ():
                if name not in channels:
                    known = ", ".join(sorted(channels)) or "none is configured"
                    raise ValueError(
                        f"stories ({story.name!r}).channels: no channel named {name!r} ({known})"
                    )
        return self

    def story_settings(self) -> list[StorySettings]:
        """The stories followed: [[stories]], or the one story of `topic` and [facts].

        That one story has no name of its own here: it is named after its topic
        when the topic is read (see watcher.facts.stories).
        """
        if self.stories:
            return list(self.stories)
        return [
            StorySettings.model_construct(
                name="",
                topic=self.topic,
                seeds=self.facts.seeds,
                pins=self.facts.pins,
                channels=None,
            )
        ]

    @property
    def several_stories(self) -> bool:
        """Whether more than one story is followed: alerts and feeds then name each one's."""
        return len(self.stories) > 1

    def story_topic_path(self, story: StorySettings) -> Path:
        shipped = shipped_topic_path(story.topic)
        return shipped if shipped is not None else self.resolve(Path(story.topic))

    def story_seeds_path(self, story: StorySettings) -> Path | None:
        """The story's seeds folder; only the shipped topic defaults to the shipped seeds."""
        if story.seeds is not None:
            return self.resolve(story.seeds)
        if story.topic == DEFAULT_TOPIC:
            return resource_path("seeds")
        return None

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def database_url(self) -> str:
        if self.state.url:
            return self.state.url
        if self.state.path is not None:
            path = self.state.path.expanduser()
            if not path.is_absolute():
                path = self.base_dir / path
        else:
            path = default_state_dir() / "watcher.db"
        return f"sqlite:///{path}"

    def topic_path(self) -> Path:
        """The first story's topic file: a shipped topic by name, or a path."""
        return self.story_topic_path(self.story_settings()[0])

    def resolve(self, path: Path) -> Path:
        """A path from the file, relative to the file's folder."""
        path = path.expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def seeds_path(self) -> Path:
        """The first story's seeds folder (see :meth:`story_seeds_path`)."""
        story = self.story_settings()[0]
        path = self.story_seeds_path(story)
        if path is None:
            raise ConfigError(no_seeds(self.path, story))
        return path

    def templates_path(self) -> Path | None:
        return self.resolve(self.notify.templates) if self.notify.templates else None

    def state_dir(self) -> Path:
        """Where watcher writes: the SQLite database's folder, else the user's state folder
        (``$STATE_DIRECTORY`` under systemd)."""
        url = self.database_url()
        if url.startswith("sqlite:///"):
            return Path(url.removeprefix("sqlite:///")).parent
        return default_state_dir()

    def atom_path(self) -> Path | None:
        """The Atom feed; a relative path is in the state folder, which watcher may write
        (under systemd the config's folder is read-only)."""
        if self.notify.atom is None:
            return None
        path = self.notify.atom.expanduser()
        return path if path.is_absolute() else self.state_dir() / path

    def enabled_sources(self) -> list[Source]:
        return [source for source in self.sources if source.enabled]

    def inline_secrets(self) -> list[str]:
        """Keys whose value carries a secret in the file itself.

        Passwords and webhooks are named by environment variable
        (``password_env``, ``webhook_env``, ``url_env``), so only a URL can
        hold one: a database URL with a password, or a feed URL with
        credentials or a token in it.
        """
        found = []
        if self.state.url and url_has_secret(self.state.url):
            found.append("state.url")
        for index, source in enumerate(self.sources):
            if url_has_secret(source.url):
                found.append(f"sources[{index}] ({source.name!r}).url")
        return found


# Query parameters that carry credentials, compared word by word (api_key, X-Auth-Token).
_SECRET_WORDS = frozenset(
    {"pass", "password", "passwd", "secret", "token", "key", "apikey", "auth", "sig", "signature"}
)


def _secret_param(name: str) -> bool:
    return any(word in _SECRET_WORDS for word in re.split(r"[^a-z0-9]+", name.lower()))


def url_has_secret(url: str) -> bool:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return False
    query = parse_qsl(parts.query, keep_blank_values=False)
    return bool(password) or any(_secret_param(name) for name, _ in query)


def no_seeds(file: Path | None, story: StorySettings) -> str:
    """A story with no seeds: its baseline would be empty, and nothing said why."""
    if story.name:
        return (
            f'{file}: story {story.name!r}: no seeds folder given (seeds = "FOLDER"); '
            f"only the shipped {DEFAULT_TOPIC} topic has seeds shipped with it"
        )
    return (
        f"{file}: facts.seeds: topic {story.topic!r} needs its own seeds folder (a folder with "
        f"manifest.toml); only the shipped {DEFAULT_TOPIC} topic has seeds shipped with it"
    )
