"""Items from a section or tag page that has no feed: its links to articles.

A section page links to much besides articles: other sections, tags,
authors, pages of the listing, log-ins, other sites. An item here is a link
on the same site (``www.`` aside) whose path looks like an article's: a
slug of several words, a long number (an id), or a date in the path; and
that courlan does not take for navigation (tags, categories, authors,
listing pages) or for something not to crawl (log-ins, feeds, files).
Links are deduplicated by their canonical form, and each keeps the longest
text it was linked with as its title.

The page went through the fetch stage (size cap, address guard); the walk
over its anchors stops at ``MAX_ANCHORS``, and a document nested deeper
than libxml2 allows is cut there by the parser itself.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.html
from courlan import is_navigation_page, is_not_crawlable
from lxml import etree

from watcher.ingest.feeds import MAX_ITEMS, FeedError, ParsedFeed, canonical_link
from watcher.models import FeedItem, site_of
from watcher.sanitize import web_line

# Anchors looked at on one page; a real section page has a few hundred.
MAX_ANCHORS = 20_000
_SLUG_WORDS = 3
_ID = re.compile(r"\d{4,}")
_DATE_IN_PATH = re.compile(r"/(19|20)\d\d/(0?[1-9]|1[0-2])(/|$)|/(19|20)\d\d-\d\d-\d\d")
_PAGE_SUFFIXES = ("", ".html", ".htm", ".shtml", ".php", ".asp", ".aspx", ".jsp")


class PageError(FeedError):
    """A page that gives no items; ``str()`` says why in one line."""


def looks_like_article(url: str) -> bool:
    """Whether a URL's path is shaped like an article's rather than a section's."""
    path = urlsplit(url).path
    last = path.rstrip("/").rpartition("/")[2]
    stem, dot, suffix = last.rpartition(".")
    if not dot:
        stem, suffix = last, ""
    if f".{suffix}".lower() not in _PAGE_SUFFIXES and suffix:
        return False
    words = [w for w in re.split(r"[-_+]", stem) if w]
    return bool(len(words) >= _SLUG_WORDS or _ID.search(stem) or _DATE_IN_PATH.search(path.lower()))


def _same_site(url: str, page: str) -> bool:
    return site_of(url) == site_of(page)


def article_links(content: bytes, *, url: str, source: str) -> ParsedFeed:
    """The article links of a page, in page order, as feed items (no dates).

    Raises PageError, one line, when the page is not HTML or links to no article.
    """
    if not content.strip():
        raise PageError("empty response, no page")
    try:
        tree = lxml.html.document_fromstring(content)
    except (etree.ParserError, ValueError) as exc:
        raise PageError(f"not a web page ({' '.join(str(exc).split())})") from None
    base = url
    for href in tree.xpath("//base/@href")[:1]:
        base = urljoin(url, str(href).strip())
    page = canonical_link(url)
    titles: dict[str, str | None] = {}
    links: dict[str, str] = {}
    anchors = same_site = 0
    problem = None
    for anchor in tree.iter("a"):
        anchors += 1
        if anchors > MAX_ANCHORS:
            problem = f"more than {MAX_ANCHORS} links; only the first were read"
            break
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        try:
            absolute = urljoin(base, href)
            parts = urlsplit(absolute)
        except ValueError:
            continue
        if parts.scheme not in ("http", "https") or not _same_site(absolute, url):
            continue
        same_site += 1
        try:
            key = canonical_link(absolute)
        except ValueError:
            continue
        if key == page or not looks_like_article(absolute):
            continue
        if is_navigation_page(absolute) or is_not_crawlable(absolute):
            continue
        title = web_line(anchor.text_content())
        links.setdefault(key, absolute.split("#", 1)[0])
        if title and len(title) > len(titles.get(key) or ""):
            titles[key] = title
        else:
            titles.setdefault(key, None)
    if not links:
        raise PageError(
            f"no article links on the page ({anchors} links, {same_site} to the same site, "
            "none shaped like an article's); is it a section page?"
        )
    items = [
        FeedItem(source=source, item_id=key, link=link, title=titles.get(key), published=None)
        for key, link in list(links.items())[:MAX_ITEMS]
    ]
    if len(links) > MAX_ITEMS:
        problem = f"the page links to {len(links)} articles; only the first {MAX_ITEMS} were read"
    title = web_line(tree.findtext(".//title"))
    return ParsedFeed(title=title, items=items, problem=problem)
