"""Items from sitemaps: news sitemaps, plain ones with dates, and sitemap indexes.

A news sitemap lists a site's articles of the last two days with their
publication dates and titles (``<news:news>``); a plain sitemap may list
every page a site ever had, so only entries dated within the source's
``max_age`` are items, and a sitemap with no dates at all is refused (it
cannot tell what is recent). An index lists other sitemaps: the
``MAX_CHILDREN`` most recently modified are read.

Sitemaps are attacked the way feeds are, and bounded the same way: the
fetch stage caps the bytes; a gzip file (``sitemap.xml.gz``) is inflated
here a bounded step at a time to the same cap; the XML is read by lxml with
entities left unexpanded and no DTD or network, and the walk stops after
``MAX_ELEMENTS`` elements.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from urllib.parse import urlsplit

from lxml import etree

from watcher.ingest.feeds import MAX_ITEMS, FeedError, ParsedFeed, canonical_link
from watcher.models import FeedItem
from watcher.sanitize import web_line

# The sitemap protocol allows 50,000 URLs per file; each has a few elements.
MAX_ELEMENTS = 400_000
# Child sitemaps of an index read in one poll, most recently modified first.
MAX_CHILDREN = 10
_GZIP = b"\x1f\x8b"
_STEP = 65536
# Dates this far ahead are wrong, not news from the future.
_MAX_FUTURE = timedelta(days=2)


class SitemapError(FeedError):
    """Bytes that hold no usable sitemap; ``str()`` says why in one line."""


@dataclass(frozen=True)
class Sitemap:
    """One sitemap file: the items it lists, or the child sitemaps an index lists."""

    items: list[FeedItem]
    children: list[str]
    problem: str | None = None

    @property
    def is_index(self) -> bool:
        return bool(self.children)


def gunzip(content: bytes, limit: int) -> bytes:
    """``content`` inflated if it is gzip, never past ``limit`` bytes (a gzip bomb stops there)."""
    if not content.startswith(_GZIP):
        return content
    inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
    out: list[bytes] = []
    size = 0
    data = content
    try:
        while data:
            piece = inflate.decompress(data, _STEP)
            size += len(piece)
            if size > limit:
                raise SitemapError(f"gzip sitemap inflates to more than {limit} bytes")
            out.append(piece)
            data = inflate.unconsumed_tail
    except zlib.error as exc:
        raise SitemapError(f"broken gzip data ({exc})") from None
    return b"".join(out)


def _local(tag: object) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    text = text.strip().replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _child_text(element: etree._Element, *path: str) -> str | None:
    """The text of the first descendant reached by local names ``path``."""
    node: etree._Element | None = element
    for name in path:
        node = next((c for c in node if _local(c.tag) == name), None) if node is not None else None
    return node.text.strip() if node is not None and node.text else None


def _http(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return url if urlsplit(url).scheme in ("http", "https") else None
    except ValueError:
        return None


def parse_sitemap(
    content: bytes,
    *,
    url: str,
    source: str,
    max_age: float,
    max_bytes: int,
    now: datetime | None = None,
) -> Sitemap:
    """The recent entries of a sitemap, newest first, or the children of an index.

    Raises SitemapError, one line, when the bytes hold no sitemap, or entries
    of which none has a date.
    """
    now = now or datetime.now(UTC)
    content = gunzip(content, max_bytes)
    if not content.strip():
        raise SitemapError("empty response, no sitemap")
    root: str | None = None
    elements = 0
    entries: list[tuple[str, datetime | None, str | None]] = []
    children: list[tuple[str, datetime | None]] = []
    problem = None
    try:
        for event, element in etree.iterparse(
            BytesIO(content),
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            recover=False,
        ):
            if event == "start":
                elements += 1
                if root is None:
                    root = _local(element.tag)
                    if root not in ("urlset", "sitemapindex"):
                        raise SitemapError(f"not a sitemap (its root element is <{root}>)")
                if elements > MAX_ELEMENTS:
                    problem = f"more than {MAX_ELEMENTS} elements; only what comes before was read"
                    break
                continue
            name = _local(element.tag)
            if name == "url":
                loc = _http(_child_text(element, "loc"))
                published = _date(_child_text(element, "news", "publication_date")) or _date(
                    _child_text(element, "lastmod")
                )
                if loc:
                    entries.append((loc, published, _child_text(element, "news", "title")))
                element.clear()
            elif name == "sitemap":
                loc = _http(_child_text(element, "loc"))
                if loc:
                    children.append((loc, _date(_child_text(element, "lastmod"))))
                element.clear()
    except etree.XMLSyntaxError as exc:
        if root is None:
            raise SitemapError(f"not a sitemap (XML error: {exc.msg})") from None
        problem = f"malformed sitemap: {exc.msg}; only what comes before was read"
    if root is None:
        raise SitemapError("not a sitemap")
    if root == "sitemapindex":
        newest = sorted(children, key=lambda c: c[1] or datetime.min.replace(tzinfo=UTC))
        picked = [loc for loc, _ in reversed(newest)][:MAX_CHILDREN]
        if len(children) > MAX_CHILDREN:
            problem = (
                f"the index lists {len(children)} sitemaps; "
                f"the {MAX_CHILDREN} most recent were read"
            )
        return Sitemap(items=[], children=picked, problem=problem)
    dated = [(loc, _recent(when, now), title) for loc, when, title in entries]
    if entries and all(when is None for _, when, _ in entries):
        raise SitemapError(
            f"none of its {len(entries)} entries has a date (news:publication_date or lastmod), "
            "so the recent ones cannot be told apart"
        )
    oldest = now - timedelta(seconds=max_age)
    recent = [(loc, when, title) for loc, when, title in dated if when and when >= oldest]
    recent.sort(key=lambda entry: entry[1] or now, reverse=True)
    found: dict[str, FeedItem] = {}
    for loc, when, title in recent:
        key = canonical_link(loc)
        if key not in found:
            found[key] = FeedItem(source, key, loc, web_line(title), when)
    items = list(found.values())
    if len(items) > MAX_ITEMS:
        problem = f"{len(items)} recent entries; only the newest {MAX_ITEMS} were read"
        items = items[:MAX_ITEMS]
    return Sitemap(items=items, children=[], problem=problem)


def _recent(when: datetime | None, now: datetime) -> datetime | None:
    return None if when is None or when - now > _MAX_FUTURE else when


def merged(sitemaps: list[Sitemap], *, title: str | None, problems: list[str]) -> ParsedFeed:
    """The items of several sitemaps (an index's children) as one feed, newest first."""
    found: dict[str, FeedItem] = {}
    for sitemap in sitemaps:
        for item in sitemap.items:
            found.setdefault(item.item_id, item)
    items = sorted(
        found.values(),
        key=lambda i: i.published or datetime.min.replace(tzinfo=UTC),
        reverse=True,
    )[:MAX_ITEMS]
    notes = problems + [s.problem for s in sitemaps if s.problem]
    return ParsedFeed(title=title, items=items, problem="; ".join(notes) or None)
