"""Reading feed items out of fetched bytes with feedparser.

feedparser is only ever handed bytes: it never fetches, so every request
goes through the fetch stage's limits and address guard.

feedparser is thorough but slow (about 0.15 ms per item, more on markup it
must recover from), so two cheap looks at the bytes come first: an HTML page
is refused without parsing it, and a feed is cut before its item number
``MAX_ITEMS + 1``, its tag number ``MAX_TAGS + 1`` or an element nested
deeper than ``MAX_DEPTH``. A hostile 10 MB feed of 50,000 items, of
millions of stray tags or of elements never closed then costs a fraction of
a second and a few megabytes instead of minutes and gigabytes, and does not
queue 50,000 articles.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import xml.sax
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser

from watcher.ingest.sniff import looks_like_html
from watcher.models import FeedItem
from watcher.sanitize import web_line, web_text

# Query parameters that only track the reader; dropping them keeps an
# article's identity stable when a feed re-issues its link.
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "ref", "cmpid")

# Complaints about headers or declared encodings that feedparser recovered
# from completely; reporting them would only teach users to ignore warnings.
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)

# Future dates beyond this are treated as wrong and dropped.
_MAX_FUTURE_SECONDS = 2 * 86400

# Items read from one feed; real feeds carry tens, rarely hundreds.
MAX_ITEMS = 1000
# Tags and depth of nesting read from one feed. A real feed of MAX_ITEMS items
# with XHTML content has some tens of thousands of tags, nested a few tens deep.
MAX_TAGS = 250_000
MAX_DEPTH = 100

# The start tag of an RSS item or an Atom entry, with or without a prefix.
_ITEM_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]")
# A start or end tag's name, to learn which elements are open where a feed is cut.
_TAG_NAME = re.compile(rb"<(/?)([A-Za-z_][\w.:-]*)")
# Markup that is not an element, by how it opens and closes.
_NOT_ELEMENTS = ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>"), (b"<?", b"?>"), (b"<!", b">"))


class FeedError(Exception):
    """Bytes that hold no feed at all; ``str()`` says why in one line."""


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    items: list[FeedItem]
    problem: str | None  # set when the feed was malformed but still yielded items


def canonical_link(link: str) -> str:
    """A link without fragment and tracking parameters, host lower-cased."""
    parts = urlsplit(link.strip())
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING)
    ]
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), "")
    )


def _published(entry: feedparser.FeedParserDict, now: datetime) -> datetime | None:
    for field in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get: feedparser's own get() maps a missing updated_parsed to
        # published_parsed, with a DeprecationWarning.
        parsed = dict.get(entry, field)
        if parsed:
            try:
                value = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (OverflowError, ValueError, OSError):
                continue
            if (value - now).total_seconds() > _MAX_FUTURE_SECONDS:
                return None
            return value
    return None


# Control characters and line separators in a link: percent-encoded, so that a
# link, and every message that names it, stays on one line.
_UNSAFE_IN_LINK = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Tabs and line breaks inside a URL are dropped, as browsers do (WHATWG URL).
_DROPPED_FROM_LINK = str.maketrans("", "", "\t\n\r")


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode())


def _link(entry: feedparser.FeedParserDict, base: str) -> str | None:
    link = entry.get("link")
    if not link:
        for candidate in entry.get("links", []):
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    if not link:
        return None
    link = _UNSAFE_IN_LINK.sub(_percent, link.strip().translate(_DROPPED_FROM_LINK))
    try:
        absolute = urljoin(base, link)
        scheme = urlsplit(absolute).scheme
    except ValueError:  # "http://[broken" and the like
        return None
    return absolute if scheme in ("http", "https") else None


@dataclass
class _Cut:
    """Where to stop reading a document, and why (None: it is read whole)."""

    end: int
    open_elements: list[bytes]
    reason: str | None = None


def _read_to(content: bytes, end: int) -> _Cut:
    """Walk the tags before ``end``; stop early at the depth or tag limit.

    Gives the elements open where the walk stops, outermost first: a rough
    reading. Every step costs the same whatever came before (a stack with a
    count per name, no regex that could backtrack), so hostile markup costs
    time in proportion to its length, and the limits keep both the walk and
    feedparser after it short: feedparser spends about 10 µs on each tag and
    half a kilobyte on each level of nesting.
    """
    stack: list[bytes] = []
    depth_of: dict[bytes, int] = {}  # how many times each name is open
    tags = 0
    pos = 0
    while (start := content.find(b"<", pos, end)) != -1:
        tags += 1
        if tags > MAX_TAGS:
            return _Cut(start, stack, f"more than {MAX_TAGS} tags")
        for opener, closer in _NOT_ELEMENTS:
            if content.startswith(opener, start):
                stop = content.find(closer, start + len(opener), end)
                if stop == -1:
                    return _Cut(end, stack)
                pos = stop + len(closer)
                break
        else:
            stop = content.find(b">", start, end)
            if stop == -1:
                return _Cut(end, stack)
            pos = stop + 1
            tag = _TAG_NAME.match(content, start, stop)
            if tag is None or content[stop - 1 : stop] == b"/":
                continue
            closing, name = tag.groups()
            if not closing:
                if len(stack) == MAX_DEPTH:
                    return _Cut(start, stack, f"elements nested more than {MAX_DEPTH} deep")
                stack.append(name)
                depth_of[name] = depth_of.get(name, 0) + 1
            elif depth_of.get(name):
                # Close it and whatever was left open inside it; each name popped
                # here was pushed once, so this costs nothing over the whole walk.
                while (popped := stack.pop()) != name:
                    depth_of[popped] -= 1
                depth_of[name] -= 1
    return _Cut(end, stack)


def _cut(content: bytes, limit: int) -> tuple[bytes, str | None]:
    """The document to parse, and what was left out of it (None: nothing).

    The document is cut before its item number ``limit + 1``, or earlier
    where it nests deeper than ``MAX_DEPTH`` or has more than ``MAX_TAGS``
    tags. The elements still open at the cut (``<rss><channel>``,
    ``<feed>``) are closed again, so a well-formed feed stays well-formed
    and feedparser keeps its fast strict parser. Where the guess is wrong,
    feedparser's lenient parser still reads the items.
    """
    starts: list[int] = []
    in_feed = 0
    for match in _ITEM_START.finditer(content):
        if in_feed <= limit:
            starts.append(match.start())
        in_feed += 1
    end = starts[limit] if in_feed > limit else len(content)
    cut = _read_to(content, end)
    problem = None
    if cut.reason:
        problem = f"{cut.reason}; only what comes before was read"
    elif in_feed > limit:
        problem = f"the feed has {in_feed} items; only the first {limit} were read"
    if cut.end == len(content):
        return content, problem
    tail = b"".join(b"</" + name + b">" for name in reversed(cut.open_elements))
    return content[: cut.end] + tail, problem


def _describe(exc: BaseException, content: bytes) -> str:
    """One line for a feedparser complaint, with a line number that matches the file."""
    if isinstance(exc, xml.sax.SAXParseException):
        line = exc.getLineNumber()
        if line is None:
            return exc.getMessage()
        # feedparser adds an XML declaration on a line of its own when there is none.
        if not content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<?xml"):
            line -= 1
        where = f"line {line}, column {exc.getColumnNumber()}"
        return f"{exc.getMessage()} at {where}" if line > 0 else exc.getMessage()
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _item_id(entry: feedparser.FeedParserDict, link: str | None) -> str | None:
    guid = (entry.get("id") or "").strip()
    if guid:
        return guid
    if link:
        try:
            return canonical_link(link)
        except ValueError:
            return link
    title = web_line(entry.get("title"))
    if title:
        stamp = entry.get("published") or entry.get("updated") or ""
        return "sha256:" + hashlib.sha256(f"{title}\n{stamp}".encode()).hexdigest()
    return None


def parse_feed(
    content: bytes,
    *,
    url: str,
    source: str,
    content_type: str | None = None,
    now: datetime | None = None,
    max_items: int = MAX_ITEMS,
) -> ParsedFeed:
    """Items of an RSS 0.9x/1.0/2.0 or Atom document; relative links resolved against ``url``.

    Only the first ``max_items`` items are read. Raises FeedError, one line,
    when the bytes hold no feed at all.
    """
    if not content.strip():
        raise FeedError("empty response, no feed")
    if looks_like_html(content):
        raise FeedError("not an RSS or Atom feed: an HTML page")
    content, cut_problem = _cut(content, max_items)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    try:
        parsed = feedparser.parse(content, response_headers=headers, sanitize_html=False)
    except Exception as exc:  # feedparser means never to raise, but bytes can still make it
        raise FeedError(
            f"feedparser cannot read it: {type(exc).__name__}: {_describe(exc, content)}"
        ) from None
    now = now or datetime.now(UTC)
    problems = [cut_problem] if cut_problem else []
    error = None
    if parsed.bozo and not isinstance(parsed.bozo_exception, _HARMLESS):
        error = _describe(parsed.bozo_exception, content)
        problems.append(f"malformed feed: {error}")
    if not parsed.entries and not parsed.version:
        raise FeedError("not an RSS or Atom feed" + (f" (XML error: {error})" if error else ""))
    if not parsed.entries and cut_problem:
        raise FeedError(f"no items read: {cut_problem}")
    if not parsed.entries and error:
        # Cut off or broken before its first item: a failure to count, not an empty feed.
        raise FeedError(f"malformed feed, no items read: {error}")
    problem = "; ".join(problems) or None

    found: dict[str, FeedItem] = {}
    for entry in parsed.entries[:max_items]:
        link = _link(entry, url)
        item_id = _item_id(entry, link)
        if item_id is None or item_id in found:
            continue
        found[item_id] = FeedItem(
            source=source,
            item_id=item_id,
            link=link,
            title=web_line(entry.get("title")),
            published=_published(entry, now),
            summary=web_text(entry.get("summary")),
        )
    return ParsedFeed(
        title=web_line(parsed.feed.get("title")),
        items=list(found.values()),
        problem=problem,
    )
