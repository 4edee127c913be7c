"""What reading a site costs: feed discovery and article links, per saved page.

``python -m benchmarks.sources_bench [PAGES]`` (default ``../shared/bench/pages``)
times, over the real pages: trafilatura's ``determine_feed`` (what watcher uses
to find the feeds a page names), a regular expression over the page's head
only (what it would take to write our own), and ``article_links`` (the items
of a section page). A measurement, not a test: it prints a table.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from benchmarks.pages import REPO
from watcher.ingest.discover import advertised_feeds
from watcher.ingest.feeds import FeedError
from watcher.ingest.pages import article_links

_ALTERNATE = re.compile(
    rb"<link\b(?=[^>]*\brel\s*=\s*[\"']?alternate)(?=[^>]*\btype\s*=\s*[\"']?application/"
    rb"(?:rss|atom)\+xml)[^>]*\bhref\s*=\s*[\"']?([^\"'\s>]+)",
    re.IGNORECASE,
)


def _timed(function, pages: list[bytes]) -> tuple[float, list]:
    started = time.perf_counter()
    results = [function(page) for page in pages]
    return (time.perf_counter() - started) * 1000 / len(pages), results


def main(folder: Path) -> None:
    pages = [path.read_bytes() for path in sorted(folder.glob("*.html"))]
    url = "https://news.example/world/"

    def links(page: bytes) -> int:
        try:
            return len(article_links(page, url=url, source="bench").items)
        except FeedError:
            return 0

    trafilatura_ms, named = _timed(lambda page: advertised_feeds(page, url), pages)
    regex_ms, matched = _timed(lambda page: _ALTERNATE.findall(page[:65536]), pages)
    links_ms, counts = _timed(links, pages)
    print(f"{len(pages)} pages from {folder}")
    print(f"{'':40} {'ms/page':>8} {'pages with a hit':>17}")
    print(f"{'determine_feed (trafilatura)':40} {trafilatura_ms:8.2f} {sum(map(bool, named)):17}")
    print(
        f"{'regex over the head (RSS/Atom types)':40} {regex_ms:8.2f} {sum(map(bool, matched)):17}"
    )
    print(f"{'article_links (section page items)':40} {links_ms:8.2f} {sum(map(bool, counts)):17}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "bench" / "pages")
