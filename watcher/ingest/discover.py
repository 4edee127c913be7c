"""Finding a site's feed from one of its pages.

A page names its feeds in its head (``<link rel="alternate"
type="application/rss+xml">``); trafilatura's ``determine_feed`` reads them
(and, when the head names none, links that look like feeds) and drops
comment feeds. Only its parsing is used: trafilatura's ``find_feed_urls``
would fetch the candidates itself, past watcher's address guard, size cap
and budgets, so the candidates are fetched by the caller. When the page
names no feed, the paths where publishing systems put one are tried.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from trafilatura.feeds import FeedParameters, determine_feed

# Where WordPress, Ghost, Hugo, Jekyll, Blogger and most hand-made sites serve a feed.
COMMON_FEED_PATHS = (
    "/feed",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feeds/posts/default",
)
# Feeds a page names beyond this are not tried: a page naming dozens is a list of
# topics, and each try is a request to the site.
MAX_ADVERTISED = 4


def site_root(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def advertised_feeds(html: bytes, url: str) -> list[str]:
    """The feeds a page names, in its order, made absolute; comment feeds left out."""
    parts = urlsplit(url)
    params = FeedParameters(site_root(url), parts.hostname or "", url)
    text = html.decode("utf-8", "replace")
    return list(dict.fromkeys(determine_feed(text, params)))[:MAX_ADVERTISED]


def common_feeds(url: str) -> list[str]:
    """The usual feed paths on the page's site."""
    root = site_root(url)
    return [root + path for path in COMMON_FEED_PATHS]


def feed_candidates(html: bytes, url: str) -> list[tuple[str, str]]:
    """Each feed URL to try, with how it was found: advertised ones first, then common paths."""
    found = [(feed, "named on the page") for feed in advertised_feeds(html, url)]
    seen = {feed for feed, _ in found} | {url}
    found += [(feed, "a common feed path") for feed in common_feeds(url) if feed not in seen]
    return found
