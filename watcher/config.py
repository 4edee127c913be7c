"""Loading and validating ``watcher.toml``.

Every mistake in a config file becomes one line naming the file, the key and
what is wrong, because the person reading it is usually looking at a
systemd journal, not a traceback.
"""

from __future__ import annotations

import difflib
import fnmatch
import ipaddress
import logging
import math
import os
import re
import stat
import tomllib
import typing
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from watcher import __version__
from watcher.resources import resource_path

log = logging.getLogger("watcher.config")

ENV_CONFIG = "WATCHER_CONFIG"
DEFAULT_TOPIC = "niger-us-withdrawal"


class ConfigError(Exception):
    """A config that cannot be used; ``str()`` has one line per mistake."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
# Longer than anything watcher waits for; bounds keep timers and sleeps finite.
MAX_DURATION = 10 * 365 * 86400.0


def parse_duration(value: Any) -> float:
    """Seconds from ``90``, ``"90s"``, ``"15m"``, ``"2h"`` or ``"1d"``."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 300, '15m' or '1h'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"expected a duration such as 300, '15m' or '1h', got {value!r}")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not math.isfinite(seconds):
        raise ValueError(f"must be a finite duration, got {value!r}")
    if seconds <= 0:
        raise ValueError("must be more than zero")
    if seconds > MAX_DURATION:
        raise ValueError(f"must be at most 10 years ({MAX_DURATION:g}s)")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


def _check_http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


def check_http_url(value: str) -> str:
    """``value`` if it is an http(s) URL; a ValueError saying why not (for OPML outlines)."""
    return _check_http_url(value)


class Strict(BaseModel):
    # nan passes every "more than zero" test (nan <= 0 is false) and inf never ends a wait.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class HttpSettings(Strict):
    """How watcher behaves on the network."""

    allow_private_addresses: StrictBool = False
    connect_timeout: Duration = 10.0
    read_timeout: Duration = 30.0
    # The longest one request may take, from sending it to the body's last
    # byte: read_timeout is per read, so a server trickling bytes dodges it.
    total_timeout: Duration = 120.0
    max_bytes: int = Field(default=10_000_000, gt=0, le=1_000_000_000)
    max_redirects: int = Field(default=5, ge=0, le=50)
    retries: int = Field(default=2, ge=0, le=20)
    backoff: Duration = 1.0
    max_retry_after: Duration = 120.0
    user_agent: str = f"watcher/{__version__} (news fact monitor)"
    per_host_concurrency: int = Field(default=2, gt=0, le=100)
    per_host_delay: float = Field(default=1.0, ge=0, le=3600)
    concurrency: int = Field(default=16, gt=0, le=1000)


# Polling a feed more often than this gains nothing and gets a client blocked.
MIN_INTERVAL = 60.0
_THIS_MACHINE = ("localhost", "127.", "[::1]")


def on_this_machine(url: str) -> bool:
    """Whether ``url`` names this machine (localhost, 127.x.x.x, ::1) by itself."""
    host = urlsplit(url).netloc.rpartition("@")[2].lower()
    return host.startswith(_THIS_MACHINE)


class SourceKind(StrEnum):
    """What a source's URL is, and so how its items are found."""

    # A feed; a web page whose feed is found on it (<link rel="alternate">, common
    # paths); or a sitemap, by what the URL answers.
    AUTO = "auto"
    FEED = "feed"  # an RSS or Atom feed, nothing else
    PAGE = "page"  # a section or tag page: its same-site article links are the items
    SITEMAP = "sitemap"  # a (news) sitemap or a sitemap index: its recent entries


class FetchPolicy(StrEnum):
    """Which of a feed's new items have their article downloaded."""

    ALL = "all"
    # Those whose title or summary names a place, actor or facility of a story followed.
    RELEVANT = "relevant"


class Source(Strict):
    name: str = Field(min_length=1)
    url: str
    # At least MIN_INTERVAL, except for a server on this machine (a test, a local bridge).
    interval: Duration = 900.0
    enabled: StrictBool = True
    kind: SourceKind = SourceKind.AUTO
    # Sitemaps: entries published (or last modified) longer ago than this are left out.
    max_age: Duration = 2 * 86400.0
    fetch: FetchPolicy = FetchPolicy.RELEVANT

    _url_ok = field_validator("url")(_check_http_url)

    @model_validator(mode="after")
    def _polite_interval(self) -> Source:
        if self.interval < MIN_INTERVAL and not on_this_machine(self.url):
            raise ValueError(
                f"interval: {self.interval:g}s is too often; poll a feed at most once a "
                f'minute (interval = "1m" or more)'
            )
        return self


class StateSettings(Strict):
    path: Path | None = None
    url: str | None = None
    # Article text older than this is pruned (by the daemon daily, or `watcher gc`);
    # facts, observations, changes and their quotes are kept.
    retention: Duration = 90 * 86400.0

    @model_validator(mode="after")
    def _one_of(self) -> StateSettings:
        if self.path is not None and self.url is not None:
            raise ValueError("give either path or url, not both")
        return self


class CheckSettings(Strict):
    """How long one pass may take, so that one slow site never holds the others' alerts."""

    # A source's feed and articles are fetched and read within this; articles
    # not started by then wait for the next pass, those cut off count a try.
    source_budget: Duration = 300.0
    # No source's work goes on after this, however long its own budget.
    pass_budget: Duration = 600.0


def parse_optional_duration(value: Any) -> float:
    """A duration, or 0 (``0``, ``"0"``, ``false``) for "never"."""
    if value is False or value == 0 or (isinstance(value, str) and value.strip() == "0"):
        return 0.0
    return parse_duration(value)


class ArticleSettings(Strict):
    max_attempts: int = Field(default=3, gt=0, le=1000)
    # Articles first fetched within this window are fetched again (conditional GET),
    # and a changed text is read again; 0 turns it off.
    revisit: Annotated[float, BeforeValidator(parse_optional_duration)] = 48 * 3600.0
    # The first revisit comes this long after the first fetch, each later one twice as
    # long after it as the one before (1h, 2h, 4h, ...), so the checks fall off with age.
    revisit_after: Duration = 3600.0
    max_per_source: int = Field(default=200, gt=0, le=100_000)
    # Processes reading articles in a large pass; 0: one per CPU, 1: none.
    workers: int = Field(default=0, ge=0, le=256)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Routing(Strict):
    """Which changes a channel sends at once, and when it sends its digest."""

    # all: every change as soon as it is reported; confirmed: once independent
    # sources reach facts.confirm_sources; none: digests only.
    immediate: Literal["all", "confirmed", "none"] = "confirmed"
    # Fact keys (shell patterns) that may go out at once; others wait for the digest.
    facts: list[str] = ["*"]
    digest: Literal["daily", "weekly", "none"] = "daily"
    digest_at: time = time(8, 0)
    digest_day: Literal[WEEKDAYS] = "mon"  # type: ignore[valid-type]
    # Send a digest even when nothing changed in its period.
    empty_digest: StrictBool = False
    # Alerts when a source keeps failing or goes silent, and when it recovers.
    health: StrictBool = True

    def sends_at_once(self, key: str, status: str) -> bool:
        if self.immediate == "none" or (self.immediate == "confirmed" and status != "confirmed"):
            return False
        return any(fnmatch.fnmatchcase(key, pattern) for pattern in self.facts)


class EmailChannel(Routing):
    host: str
    port: int = Field(default=587, gt=0, lt=65536)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    # The name of the environment variable holding the SMTP password.
    password_env: str | None = None
    sender: str
    to: list[str] = Field(min_length=1)
    timeout: Duration = 30.0
    # Trust the server certificate signed by this CA (PEM) instead of the system's.
    ca_file: Path | None = None


class SlackChannel(Routing):
    # The name of the environment variable holding the incoming-webhook URL.
    webhook_env: str = "WATCHER_SLACK_WEBHOOK"
    timeout: Duration = 15.0


class AppriseChannel(Routing):
    name: str = Field(min_length=1, pattern=r"^[a-z0-9_-]+$")
    # The name of the environment variable holding the Apprise URL.
    url_env: str


class NotifySettings(Strict):
    timezone: str = "UTC"
    # A folder of templates overriding the shipped ones, file by file.
    templates: Path | None = None
    max_attempts: int = Field(default=8, gt=0, le=1000)
    retry_backoff: Duration = 60.0
    retry_max: Duration = 3600.0
    # A source failing this many polls in a row, or silent this long, raises an alert.
    health_failures: int = Field(default=5, gt=0, le=1_000_000)
    health_silence: Duration = 3 * 86400.0
    # Write an Atom feed of fact changes here after each pass; a relative path is
    # in the state folder (beside the database), not beside the config file.
    atom: Path | None = None
    # The URL the feed is published at, for its rel="self" link (default: the file).
    atom_url: str | None = None
    email: EmailChannel | None = None
    slack: SlackChannel | None = None
    apprise: list[AppriseChannel] = []

    _atom_url_ok = field_validator("atom_url")(_check_http_url)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as 'Europe/Paris')"
            ) from None
        return value

    def channels(self) -> dict[str, Routing]:
        found: dict[str, Routing] = {}
        if self.email:
            found["email"] = self.email
        if self.slack:
            found["slack"] = self.slack
        for channel in self.apprise:
            found[f"apprise:{channel.name}"] = channel
        return found


class FactSettings(Strict):
    """How the baseline is made and how sure a change must be."""

    # The seed articles (a folder with manifest.toml) whose facts are the
    # baseline. Default: the seeds shipped with watcher.
    seeds: Path | None = None
    # A count within this fraction of the known one is the same count.
    count_tolerance: float = Field(default=0.10, ge=0, lt=1)
    # A change is "confirmed" once this many independent sites report it.
    confirm_sources: int = Field(default=2, gt=0, le=100)
    # Values that override the ones derived from the seeds, by fact key:
    # "bases.air_base_201.status" = "operating", or a table with value,
    # qualifier and as_of.
    pins: dict[str, Any] = {}


STORY_NAME = r"^[a-z0-9][a-z0-9_.-]*$"


class StorySettings(Strict):
    """One story a config follows: ``[[stories]]``.

    Every source feeds every story: an article is fetched and extracted once,
    and its facts are read for each story it is about.
    """

    name: str = Field(pattern=STORY_NAME)
    # A shipped topic by name, or a path to a topic file (relative to the config).
    topic: str
    # The story's seed articles: a folder with manifest.toml. Only the shipped
    # topic has seeds shipped with it; any other story must give its own.
    seeds: Path | None = None
    # Values a person knows, by fact key, as in [facts.pins].
    pins: dict[str, Any] = {}
    # The channels that hear this story's changes and digests (email, slack,
    # apprise:NAME); default: every channel.
    channels: list[str] | None = None


def shipped_topic_path(topic: str) -> Path | None:
    """The file of a shipped topic named ``topic``; None when ``topic`` is a path."""
    if "/" in topic or topic.endswith(".toml"):
        return None
    return resource_path("config") / "topics" / f"{topic}.toml"


DEFAULT_LISTEN = "127.0.0.1:8080"


def parse_listen(value: str) -> tuple[str, int]:
    """``(host, port)`` from ``"127.0.0.1:8080"``, ``"[::1]:8080"`` or ``"localhost:8080"``."""
    host, colon, port = value.strip().rpartition(":")
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT such as {DEFAULT_LISTEN!r}, got {value!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host``: a loopback address, or localhost."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebSettings(Strict):
    """The read-only web view: `watcher serve`, or inside `watcher run`."""

    # Where `watcher run` serves it (HOST:PORT); unset, it does not. `watcher serve`
    # listens here too, else on 127.0.0.1:8080.
    listen: str | None = None
    # The environment variable holding the token every request must then carry (as a
    # bearer token, or as the password of basic auth). Required for any address that
    # is not loopback.
    token_env: str | None = Field(default=None, min_length=1)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen(value)
        return value

    @model_validator(mode="after")
    def _token_off_loopback(self) -> WebSettings:
        if self.listen and self.token_env is None and not is_loopback(parse_listen(self.listen)[0]):
            raise ValueError(
                f"listen = {self.listen!r} is not a loopback address: set web.token_env "
                "too, so that every request needs a token"
            )
        return self


class DaemonSettings(Strict):
    """How `watcher run` shares the work with other workers on the same database."""

    # A worker's sources are taken over by the others this long after its last
    # heartbeat (it beats several times within it).
    lease: Duration = Field(default=30.0, ge=3.0, le=3600.0)
    # Polls one worker runs at once; it claims due sources only while it has room.
    polls_at_once: int = Field(default=16, gt=0, le=1000)


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
            raise ConfigError(_no_seeds(self.path, story))
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
        if self.state.url and _url_has_secret(self.state.url):
            found.append("state.url")
        for index, source in enumerate(self.sources):
            if _url_has_secret(source.url):
                found.append(f"sources[{index}] ({source.name!r}).url")
        return found


# Query parameters that carry credentials, compared word by word (api_key, X-Auth-Token).
_SECRET_WORDS = frozenset(
    {"pass", "password", "passwd", "secret", "token", "key", "apikey", "auth", "sig", "signature"}
)


def _secret_param(name: str) -> bool:
    return any(word in _SECRET_WORDS for word in re.split(r"[^a-z0-9]+", name.lower()))


def _url_has_secret(url: str) -> bool:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return False
    query = parse_qsl(parts.query, keep_blank_values=False)
    return bool(password) or any(_secret_param(name) for name, _ in query)


def warn_if_readable(file: Path, config: Config) -> None:
    """Warn when a config holding a secret can be read by other users."""
    secrets = config.inline_secrets()
    if not secrets or os.name != "posix":
        return
    try:
        mode = file.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning(
            "%s: readable by other users (mode %03o) but holds a secret in %s; "
            "make it private (chmod 600) or move the secret out of the file",
            file,
            stat.S_IMODE(mode),
            ", ".join(secrets),
        )


def default_state_dir() -> Path:
    # systemd's StateDirectory= sets this; honour it so the unit needs no config.
    if state := os.environ.get("STATE_DIRECTORY"):
        return Path(state.split(":")[0])
    return platformdirs.user_state_path("watcher")


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--config``, else ``$WATCHER_CONFIG``, else ./config/watcher.toml, else the user's."""
    if explicit:
        return Path(explicit)
    if env := os.environ.get(ENV_CONFIG):
        return Path(env)
    local = Path("config/watcher.toml")
    if local.exists():
        return local
    return platformdirs.user_config_path("watcher") / "watcher.toml"


def _location(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """``sources[1].url`` for a pydantic location, naming the source when it can."""
    parts: list[str] = []
    node: Any = data
    for step in loc:
        if isinstance(step, int):
            item = node[step] if isinstance(node, list) and step < len(node) else None
            name = item.get("name") if isinstance(item, dict) else None
            parts[-1] += f"[{step}]" + (f" ({name!r})" if name else "")
        else:
            parts.append(str(step))
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts)


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The settings model a pydantic location points into (``("notify", "email")``)."""
    model: type[BaseModel] = Config
    for step in loc:
        if isinstance(step, int):
            continue
        field = model.model_fields.get(str(step))
        if field is None:
            return None
        candidates = [field.annotation, *typing.get_args(field.annotation)]
        candidates += [arg for c in candidates for arg in typing.get_args(c)]
        found = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not found:
            return None
        model = found[0]
    return model


def _unknown_key(loc: tuple[Any, ...]) -> str:
    """``unknown key``, with the key meant when it is plain (a secret's ``*_env``, a typo)."""
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    if model is None:
        return "unknown key"
    if f"{key}_env" in model.model_fields:
        return (
            f"unknown key: secrets are not kept in this file; put the {key} in an "
            f"environment variable and give its name as {key}_env"
        )
    close = difflib.get_close_matches(key, list(model.model_fields), n=1)
    return f"unknown key (did you mean {close[0]!r}?)" if close else "unknown key"


def _describe(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return _unknown_key(error["loc"])
    if error["type"] == "missing":
        return "required, but missing"
    if error["type"] == "bool_type":
        return f"expected true or false, got {error['input']!r}"
    message = error["msg"]
    return message.removeprefix("Value error, ")


def load_config(
    path: str | os.PathLike[str] | None = None, *, check_stories: bool = True
) -> Config:
    """Read and validate a config file, or raise ConfigError with one line.

    ``check_stories`` false leaves the stories' files (topic, seeds) unchecked, for
    `watcher story check`, which reports every problem with them at once."""
    file = find_config(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: config file not found (give --config PATH or set ${ENV_CONFIG})"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read config: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{file}: not valid TOML: arrays or tables nested too deeply") from None
    config = parse_config(data, file, check_stories=check_stories)
    warn_if_readable(file, config)
    return config


def parse_config(data: dict[str, Any], file: Path, *, check_stories: bool = True) -> Config:
    """Validate ``data``; every mistake in it is one line of the :class:`ConfigError`."""
    try:
        config = Config.model_validate(data).model_copy(update={"path": file})
    except RecursionError:
        raise ConfigError(f"{file}: values nested too deeply") from None
    except ValidationError as exc:
        raise ConfigError(
            "\n".join(
                # A rule across sections (no location) names its keys in its message.
                f"{file}: {where + ': ' if (where := _location(error['loc'], data)) else ''}"
                f"{_describe(error)}"
                for error in exc.errors()
            )
        ) from None
    mistakes = []
    email = config.notify.email
    if email and email.ca_file and not config.resolve(email.ca_file).is_file():
        mistakes.append(f"{file}: notify.email.ca_file: file not found: {email.ca_file}")
    for index, story in enumerate(config.story_settings() if check_stories else []):
        where = f"stories[{index}] ({story.name!r})." if config.stories else ""
        topic = config.story_topic_path(story)
        if not topic.is_file():
            mistakes.append(f"{file}: {where}topic: topic file not found: {topic}")
            continue  # its seeds are the next thing to see to
        seeds = config.story_seeds_path(story)
        if seeds is None:
            mistakes.append(_no_seeds(file, story))
        elif not (seeds / "manifest.toml").is_file():
            key = "seeds" if config.stories else "facts.seeds"
            mistakes.append(f"{file}: {where}{key}: no manifest.toml in {seeds}")
    if mistakes:
        raise ConfigError("\n".join(mistakes))
    return config


def _no_seeds(file: Path | None, story: StorySettings) -> str:
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
