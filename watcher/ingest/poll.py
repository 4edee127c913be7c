"""Polling one source, whatever its kind: a feed, a site's page, a section page, a sitemap.

Every request goes through the one :class:`Fetcher` (address guard, size
cap, redirects, retries, per-host politeness) and runs inside the caller's
time budget; parsing runs in a thread so that large junk does not hold up
the other sources. What comes back is the same for every kind: feed items.

A site (``kind = "auto"`` on a web page) is polled through its feed: the
feed named on the page, else one at a common path. The feed found is
remembered by the caller and polled directly next time; if it disappears
(404, 410, no longer a feed), the page is searched again.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from watcher.config import Source, SourceKind
from watcher.counters import FailureReason
from watcher.ingest.fetch import Fetcher, FetchError, FetchResult
from watcher.ingest.sniff import looks_like_html, looks_like_sitemap

if TYPE_CHECKING:
    # The parsers (feedparser, lxml, trafilatura's feed finder) are imported when a
    # body is to be read: a source that answers 304 needs none of them.
    from watcher.ingest.feeds import ParsedFeed
    from watcher.ingest.sitemaps import Sitemap

T = TypeVar("T")


class PollOutcome(StrEnum):
    READ = "read"  # a body was read and parsed
    NOT_MODIFIED = "not_modified"  # 304
    UNCHANGED = "unchanged"  # the same bytes as last time


class PollError(Exception):
    """A source that gave no items; ``str()`` is one line naming its URL and the reason."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # for the metrics: a fetch error's kind or a FailureReason


@dataclass
class Polled:
    """What one poll of a source read."""

    outcome: PollOutcome
    kind: SourceKind  # what was read: feed, page or sitemap
    url: str  # the URL read: the source's, or the feed found for it
    feed: ParsedFeed | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    # A site's feed, to poll instead of its page from now on (kind auto).
    feed_url: str | None = None
    # How the feed was found, and what was tried on the way.
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Remembered:
    """What the last successful poll left for this one."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    feed_url: str | None = None


Parse = Callable[..., Awaitable[Any]]


async def _in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(function, *args, **kwargs)


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _fetch_failure(exc: FetchError) -> PollError:
    return PollError(str(exc), exc.kind)


async def poll_source(
    fetcher: Fetcher,
    source: Source,
    remembered: Remembered,
    *,
    now: datetime | None = None,
) -> Polled:
    """Poll ``source`` once; raise PollError (one line) when it gives no items."""
    kind = source.kind
    if kind == SourceKind.AUTO and remembered.feed_url:
        try:
            return await _poll_feed(fetcher, source, remembered.feed_url, remembered)
        except PollError as exc:
            if exc.reason not in ("http_status", FailureReason.NOT_A_FEED):
                raise
            gone = f"the feed found before ({remembered.feed_url}) failed: {exc}"
            polled = await _poll_url(fetcher, source, Remembered(), now=now)
            polled.notes.insert(0, gone)
            return polled
    return await _poll_url(fetcher, source, remembered, now=now)


async def _get(fetcher: Fetcher, url: str, remembered: Remembered | None = None) -> FetchResult:
    try:
        if remembered is None:
            return await fetcher.get(url)
        return await fetcher.get(url, etag=remembered.etag, last_modified=remembered.last_modified)
    except FetchError as exc:
        raise _fetch_failure(exc) from None


def _unread(result: FetchResult, kind: SourceKind, remembered: Remembered) -> Polled | None:
    """A poll that needs no parsing: a 304, or the same bytes as last time."""
    if result.not_modified:
        outcome = PollOutcome.NOT_MODIFIED
    elif _digest(result.content) == remembered.body_hash:
        outcome = PollOutcome.UNCHANGED
    else:
        return None
    return Polled(
        outcome,
        kind,
        result.url,
        etag=result.etag,
        last_modified=result.last_modified,
        body_hash=remembered.body_hash,
    )


async def _poll_feed(fetcher: Fetcher, source: Source, url: str, remembered: Remembered) -> Polled:
    result = await _get(fetcher, url, remembered)
    if (unread := _unread(result, SourceKind.FEED, remembered)) is not None:
        unread.feed_url = url if source.kind == SourceKind.AUTO else None
        return unread
    feed = await _parse_feed(source, result, url)
    return Polled(
        PollOutcome.READ,
        SourceKind.FEED,
        result.url,
        feed,
        result.etag,
        result.last_modified,
        _digest(result.content),
        feed_url=url if source.kind == SourceKind.AUTO else None,
    )


async def _parse_feed(source: Source, result: FetchResult, url: str) -> ParsedFeed:
    from watcher.ingest.feeds import FeedError, parse_feed

    try:
        return await _in_thread(
            parse_feed,
            result.content,
            url=result.url,
            source=source.name,
            content_type=result.content_type,
        )
    except FeedError as exc:
        raise PollError(f"{url}: {exc}", FailureReason.NOT_A_FEED) from None


async def _poll_url(
    fetcher: Fetcher, source: Source, remembered: Remembered, *, now: datetime | None
) -> Polled:
    """Fetch the source's own URL and read it as its kind says (or as it turns out to be)."""
    result = await _get(fetcher, source.url, remembered)
    kind = source.kind
    if kind == SourceKind.AUTO and not result.not_modified:
        if looks_like_sitemap(result.content[:4096]):
            kind = SourceKind.SITEMAP
        elif looks_like_html(result.content):
            return await _discover(fetcher, source, result)
        else:
            kind = SourceKind.FEED
    if kind == SourceKind.AUTO:
        kind = SourceKind.FEED
    if (unread := _unread(result, kind, remembered)) is not None:
        return unread
    if kind == SourceKind.SITEMAP:
        return await _read_sitemap(fetcher, source, result, remembered, now=now)
    if kind == SourceKind.PAGE:
        from watcher.ingest.pages import PageError, article_links

        try:
            feed = await _in_thread(
                article_links, result.content, url=result.url, source=source.name
            )
        except PageError as exc:
            raise PollError(f"{source.url}: {exc}", FailureReason.NO_ARTICLE_LINKS) from None
    else:
        feed = await _parse_feed(source, result, source.url)
    return Polled(
        PollOutcome.READ,
        kind,
        result.url,
        feed,
        result.etag,
        result.last_modified,
        _digest(result.content),
    )


async def _discover(fetcher: Fetcher, source: Source, page: FetchResult) -> Polled:
    """The feed of a site, from its page: the first candidate that reads as a feed."""
    from watcher.ingest.discover import feed_candidates

    candidates = await _in_thread(feed_candidates, page.content, page.url)
    tried: list[str] = []
    for url, how in candidates:
        try:
            result = await _get(fetcher, url)
            feed = await _parse_feed(source, result, url)
        except PollError as exc:
            tried.append(str(exc))
            continue
        polled = Polled(
            PollOutcome.READ,
            SourceKind.FEED,
            result.url,
            feed,
            result.etag,
            result.last_modified,
            _digest(result.content),
            feed_url=url,
        )
        polled.notes.append(f"feed found: {url} ({how})")
        return polled
    named = sum(1 for _, how in candidates if how == "named on the page")
    raise PollError(
        f"{source.url}: not an RSS or Atom feed: an HTML page, and no feed found for it "
        f"({named} named on the page, {len(candidates) - named} common paths tried); "
        'kind = "page" reads its article links instead',
        FailureReason.NOT_A_FEED,
    )


async def _read_sitemap(
    fetcher: Fetcher,
    source: Source,
    result: FetchResult,
    remembered: Remembered,
    *,
    now: datetime | None,
) -> Polled:
    from watcher.ingest.sitemaps import MAX_CHILDREN, merged

    now = now or datetime.now(UTC)
    top = await _parse_sitemap(source, result, source.url, now, fetcher.settings.max_bytes)
    if not top.is_index:
        return Polled(
            PollOutcome.READ,
            SourceKind.SITEMAP,
            result.url,
            merged([top], title=None, problems=[]),
            result.etag,
            result.last_modified,
            _digest(result.content),
        )
    # An index may stay the same while its children change: it is read whole each
    # time, without validators, and the poll's hash covers every file read.
    digest = hashlib.sha256(result.content)
    read: list[Sitemap] = []
    problems: list[str] = [top.problem] if top.problem else []
    for child_url in top.children[:MAX_CHILDREN]:
        try:
            child = await _get(fetcher, child_url)
            sitemap = await _parse_sitemap(
                source, child, child_url, now, fetcher.settings.max_bytes
            )
        except PollError as exc:
            problems.append(str(exc))
            continue
        digest.update(child.content)
        if sitemap.is_index:
            problems.append(f"{child_url}: an index inside an index is not followed")
            continue
        read.append(sitemap)
    if digest.hexdigest() == remembered.body_hash:
        return Polled(
            PollOutcome.UNCHANGED, SourceKind.SITEMAP, result.url, body_hash=remembered.body_hash
        )
    if not read and problems:
        raise PollError(
            f"{source.url}: no sitemap of the index could be read: {problems[-1]}",
            FailureReason.NOT_A_SITEMAP,
        )
    return Polled(
        PollOutcome.READ,
        SourceKind.SITEMAP,
        result.url,
        merged(read, title=None, problems=problems),
        None,
        None,
        digest.hexdigest(),
    )


async def _parse_sitemap(
    source: Source, result: FetchResult, url: str, now: datetime, max_bytes: int
) -> Sitemap:
    """One sitemap file; a gzip one is inflated no further than ``http.max_bytes``, the
    cap every other response is held to."""
    from watcher.ingest.sitemaps import SitemapError, parse_sitemap

    try:
        return await _in_thread(
            parse_sitemap,
            result.content,
            url=result.url,
            source=source.name,
            max_age=source.max_age,
            max_bytes=max_bytes,
            now=now,
        )
    except SitemapError as exc:
        raise PollError(f"{url}: {exc}", FailureReason.NOT_A_SITEMAP) from None
