"""Reading feed items out of fetched bytes with feedparser.

feedparser is only ever handed bytes: it never fetches, so every request
goes through the fetch stage's limits and address guard.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser

from watcher.models import FeedItem

# Query parameters that only track the reader; dropping them keeps an
# article's identity stable when a feed re-issues its link.
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "ref", "cmpid")

# Complaints about headers or declared encodings that feedparser recovered
# from completely; reporting them would only teach users to ignore warnings.
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)

# Future dates beyond this are treated as wrong and dropped.
_MAX_FUTURE_SECONDS = 2 * 86400


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
        parsed = entry.get(field)
        if parsed:
            try:
                value = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (OverflowError, ValueError, OSError):
                continue
            if (value - now).total_seconds() > _MAX_FUTURE_SECONDS:
                return None
            return value
    return None


def _link(entry: feedparser.FeedParserDict, base: str) -> str | None:
    link = entry.get("link")
    if not link:
        for candidate in entry.get("links", []):
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    if not link:
        return None
    absolute = urljoin(base, link.strip())
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def _item_id(entry: feedparser.FeedParserDict, link: str | None) -> str | None:
    guid = (entry.get("id") or "").strip()
    if guid:
        return guid
    if link:
        return canonical_link(link)
    title = (entry.get("title") or "").strip()
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
) -> ParsedFeed:
    """Items of an RSS 0.9x/1.0/2.0 or Atom document; relative links resolved against ``url``."""
    if not content.strip():
        raise FeedError("empty response, no feed")
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(content, response_headers=headers, sanitize_html=False)
    now = now or datetime.now(UTC)
    problem = None
    if parsed.bozo and not isinstance(parsed.bozo_exception, _HARMLESS):
        problem = f"malformed feed: {parsed.bozo_exception}".splitlines()[0]
    if not parsed.entries and not parsed.version:
        raise FeedError(problem or "not an RSS or Atom feed")

    found: dict[str, FeedItem] = {}
    for entry in parsed.entries:
        link = _link(entry, url)
        item_id = _item_id(entry, link)
        if item_id is None or item_id in found:
            continue
        found[item_id] = FeedItem(
            source=source,
            item_id=item_id,
            link=link,
            title=(entry.get("title") or "").strip() or None,
            published=_published(entry, now),
            summary=(entry.get("summary") or "").strip() or None,
        )
    return ParsedFeed(
        title=(parsed.feed.get("title") or "").strip() or None,
        items=list(found.values()),
        problem=problem,
    )
