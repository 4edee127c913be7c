"""A small threaded HTTP server on 127.0.0.1 serving generated feeds and real pages.

Sites live under a path prefix each: ``/<site>/feed/<f>.xml`` is feed ``f``
and ``/<site>/article/<f>/<i>.html`` its item ``i``. Feeds carry an ETag;
with ``conditional`` on, a matching ``If-None-Match`` gets a 304, and with it
off the full body is sent every time (a server that ignores conditional GET).
"""

from __future__ import annotations

import hashlib
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from xml.sax.saxutils import escape

from benchmarks.pages import Page

# Feed dates count back from here, so a feed's body is the same on every request.
EPOCH = datetime(2024, 9, 1, tzinfo=UTC)
RSS_TYPE = "application/rss+xml; charset=utf-8"
HTML_TYPE = "text/html"

_ROUTE = re.compile(
    r"^/(?P<site>[\w-]+)/(?:feed/(?P<feed>\d+)\.xml|article/(?P<f>\d+)/(?P<i>\d+)\.html)$"
)

STUB_PARAGRAPH = (
    "This is a short generated article used to prime the benchmark's state. It has a few "
    "sentences of plain prose so that the extractor finds a main text, and nothing else. "
    "The warm passes never fetch it again, because the feed that links to it does not change."
)


@dataclass(frozen=True)
class Item:
    guid: str
    title: str
    path: str  # the article's path on this server
    published: datetime


class Site(Protocol):
    """What one site prefix serves."""

    name: str

    def feed_items(self, feed: int) -> list[Item] | None: ...

    def article(self, feed: int, item: int) -> bytes | None: ...


def rss(title: str, base: str, items: list[Item]) -> bytes:
    """An RSS 2.0 document; item links are absolute, on ``base``."""
    entries = "".join(
        "<item>"
        f"<title>{escape(item.title)}</title>"
        f"<link>{escape(base + item.path)}</link>"
        f'<guid isPermaLink="false">{escape(item.guid)}</guid>'
        f"<pubDate>{format_datetime(item.published)}</pubDate>"
        f"<description>{escape(item.title)}: a generated item for the benchmark.</description>"
        "</item>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{escape(base)}/</link>"
        f"<description>benchmark feed</description>{entries}</channel></rss>"
    ).encode()


def stub_article(title: str) -> bytes:
    paragraphs = "".join(f"<p>{STUB_PARAGRAPH}</p>" for _ in range(3))
    return (
        f"<!doctype html><html><head><title>{escape(title)}</title></head><body>"
        f"<article><h1>{escape(title)}</h1>{paragraphs}</article></body></html>"
    ).encode()


@dataclass
class StaticSite:
    """``feeds`` feeds of ``items`` items each; articles are real pages or stubs.

    Item ``i`` of feed ``f`` shows page ``(f * items + i) % len(pages)``, so
    consecutive items walk through the corpus and repeat it when it runs out.
    """

    name: str
    feeds: int
    items: int
    pages: list[Page]
    stub: bool = False

    def page_index(self, feed: int, item: int) -> int:
        return (feed * self.items + item) % len(self.pages)

    def feed_items(self, feed: int) -> list[Item] | None:
        if not 0 <= feed < self.feeds:
            return None
        return [self._item(feed, i) for i in range(self.items)]

    def _item(self, feed: int, item: int) -> Item:
        number = feed * self.items + item
        return Item(
            guid=f"{self.name}-{feed}-{item}",
            title=f"{self.name} item {feed}-{item}",
            path=f"/{self.name}/article/{feed}/{item}.html",
            published=EPOCH - timedelta(minutes=number),
        )

    def article(self, feed: int, item: int) -> bytes | None:
        if not (0 <= feed < self.feeds and 0 <= item < self.items):
            return None
        if self.stub:
            return stub_article(f"{self.name} item {feed}-{item}")
        return self.pages[self.page_index(feed, item)].html


# Titles of items about the story: the seed articles' (seeds/manifest.toml).
STORY_TITLES = (
    "US troops to leave Niger by September 15",
    "Russian forces enter base housing US troops in Niger",
    "Pentagon and Niger agree on withdrawal of American forces",
)


@dataclass
class MixedSite:
    """One general news feed of ``items`` real pages: item ``i`` is about the story
    (a seed's title) when ``i % every == 0``, about something else otherwise (the
    page's own title, taken from the page)."""

    name: str
    items: int
    every: int
    pages: list[Page]

    @property
    def relevant(self) -> list[int]:
        return [i for i in range(self.items) if i % self.every == 0]

    def _title(self, item: int) -> str:
        if item % self.every == 0:
            return STORY_TITLES[item // self.every % len(STORY_TITLES)]
        found = _TITLE.search(self.pages[item % len(self.pages)].html)
        title = found.group(1).decode("utf-8", "replace").strip() if found else ""
        return " ".join(title.split())[:150] or f"Item {item}"

    def feed_items(self, feed: int) -> list[Item] | None:
        if feed != 0:
            return None
        return [
            Item(
                guid=f"{self.name}-{i}",
                title=self._title(i),
                path=f"/{self.name}/article/0/{i}.html",
                published=EPOCH - timedelta(minutes=i),
            )
            for i in range(self.items)
        ]

    def article(self, feed: int, item: int) -> bytes | None:
        if feed != 0 or not 0 <= item < self.items:
            return None
        return self.pages[item % len(self.pages)].html


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


@dataclass
class GrowingSite:
    """Feeds that publish a new item every ``every`` seconds, showing the latest ``window``."""

    name: str
    feeds: int
    window: int
    pages: list[Page]
    every: float
    initial: int = 5
    started: float = field(default_factory=time.monotonic)

    def published_count(self) -> int:
        return self.initial + int((time.monotonic() - self.started) / self.every)

    def feed_items(self, feed: int) -> list[Item] | None:
        if not 0 <= feed < self.feeds:
            return None
        newest = self.published_count()
        first = max(0, newest - self.window)
        return [self._item(feed, n) for n in range(newest - 1, first - 1, -1)]

    def _item(self, feed: int, number: int) -> Item:
        return Item(
            guid=f"{self.name}-{feed}-{number}",
            title=f"{self.name} item {feed}-{number}",
            path=f"/{self.name}/article/{feed}/{number}.html",
            published=EPOCH + timedelta(minutes=number),
        )

    def article(self, feed: int, item: int) -> bytes | None:
        if not (0 <= feed < self.feeds and 0 <= item < self.published_count()):
            return None
        return self.pages[(feed * 7919 + item) % len(self.pages)].html


class BenchServer:
    """The server, its sites, and counters of what it answered."""

    def __init__(self) -> None:
        self.sites: dict[str, Site] = {}
        self.conditional = True
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._feeds: dict[tuple[str, int, str, int], tuple[bytes, str]] = {}
        self._httpd = _Httpd(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, site: Site) -> Site:
        self.sites[site.name] = site
        return site

    def feed_url(self, site: str, feed: int) -> str:
        return f"{self.base}/{site}/feed/{feed}.xml"

    def count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def take_counts(self) -> dict[str, int]:
        """The counters since the last call, reset."""
        with self._lock:
            counts, self.counts = dict(self.counts), Counter()
        return counts

    def feed(self, site: Site, feed: int) -> tuple[bytes, str] | None:
        """A feed's body and ETag; cached while its items stay the same."""
        items = site.feed_items(feed)
        if items is None:
            return None
        key = (site.name, feed, items[0].guid if items else "", len(items))
        with self._lock:
            cached = self._feeds.get(key)
        if cached is None:
            body = rss(f"{site.name} feed {feed}", self.base, items)
            cached = (body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')
            with self._lock:
                self._feeds[key] = cached
        return cached

    def start(self) -> BenchServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def __enter__(self) -> BenchServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Httpd(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connections when a client opens 16 at once.
    request_queue_size = 256

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that dies mid-pass resets its connections: that is its story, not ours.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _handler_for(server: BenchServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are separate writes; Nagle would hold the body back.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            match = _ROUTE.match(self.path.split("?", 1)[0])
            site = server.sites.get(match["site"]) if match else None
            if match is None or site is None:
                self._send(404, b"not found", "text/plain")
            elif match["feed"] is not None:
                self._feed(site, int(match["feed"]))
            else:
                self._article(site, int(match["f"]), int(match["i"]))

        def _article(self, site: Site, feed: int, item: int) -> None:
            body = site.article(feed, item)
            if body is None:
                server.count("404")
                self._send(404, b"no such article", "text/plain")
            else:
                server.count("article")
                self._send(200, body, HTML_TYPE)

        def _feed(self, site: Site, feed: int) -> None:
            found = server.feed(site, feed)
            if found is None:
                server.count("404")
                self._send(404, b"no such feed", "text/plain")
                return
            body, etag = found
            if server.conditional and self.headers.get("If-None-Match") == etag:
                server.count("feed_304")
                self._send(304, b"", None, etag)
            else:
                server.count("feed_200")
                self._send(200, body, RSS_TYPE, etag)

        def _send(
            self, status: int, body: bytes, content_type: str | None, etag: str | None = None
        ) -> None:
            try:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                if etag:
                    self.send_header("ETag", etag)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
