"""The settings of each section of ``watcher.toml``, one model per table."""

from __future__ import annotations

import fnmatch
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, StrictBool, field_validator, model_validator

from watcher import __version__
from watcher.config.values import (
    MIN_INTERVAL,
    Duration,
    Strict,
    check_http_url,
    is_loopback,
    on_this_machine,
    parse_listen,
    parse_optional_duration,
)


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

    _url_ok = field_validator("url")(check_http_url)

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

    _atom_url_ok = field_validator("atom_url")(check_http_url)

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
