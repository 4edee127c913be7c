from __future__ import annotations

import xml.sax
import xml.sax.xmlreader
from datetime import UTC, datetime

import pytest

from watcher.ingest.feeds import FeedError, _describe, canonical_link, parse_feed

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Wire</title><link>http://news.test/</link>
<item><title>One</title><link>/2024/one.html</link><guid>one-guid</guid>
<pubDate>Mon, 08 Jul 2024 10:00:00 GMT</pubDate></item>
<item><title>Two</title><link>http://news.test/2024/two.html?utm_source=rss#top</link></item>
<item><title>Two again</title><link>http://news.test/2024/two.html</link></item>
<item><title>No link, no guid</title><pubDate>Tue, 09 Jul 2024 10:00:00 GMT</pubDate></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Dispatch</title><id>urn:d</id>
<updated>2024-08-06T00:00:00Z</updated>
<entry><id>urn:d:1</id><title>Handover</title><link rel="alternate" href="a/1.html"/>
<updated>2024-08-06T09:00:00Z</updated></entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="http://n.test/"><title>RDF</title><link>http://n.test/</link></channel>
<item rdf:about="http://n.test/x"><title>X</title><link>http://n.test/x</link></item>
</rdf:RDF>"""


def test_rss_items_have_stable_ids_and_absolute_links() -> None:
    feed = parse_feed(RSS, url="http://news.test/feed.xml", source="wire")
    by_title = {i.title: i for i in feed.items}
    # feedparser reads a guid as a permalink and resolves it; it is stable all the same.
    assert by_title["One"].item_id.endswith("one-guid")
    again = parse_feed(RSS, url="http://news.test/feed.xml", source="wire")
    assert [i.item_id for i in again.items] == [i.item_id for i in feed.items]
    assert by_title["One"].link == "http://news.test/2024/one.html"
    assert by_title["One"].published == datetime(2024, 7, 8, 10, tzinfo=UTC)
    # No guid: the canonical link is the id, so tracking parameters do not make a new item.
    assert by_title["Two"].item_id == "http://news.test/2024/two.html"
    assert "Two again" not in by_title
    assert by_title["No link, no guid"].link is None
    assert by_title["No link, no guid"].item_id.startswith("sha256:")
    assert feed.problem is None


def test_atom_relative_links_resolve_against_the_feed_url() -> None:
    feed = parse_feed(ATOM, url="http://d.test/news/atom.xml", source="d")
    assert [(i.item_id, i.link) for i in feed.items] == [("urn:d:1", "http://d.test/news/a/1.html")]


def test_rss_1_0() -> None:
    feed = parse_feed(RDF, url="http://n.test/rss", source="n")
    assert [i.link for i in feed.items] == ["http://n.test/x"]


def test_malformed_feed_still_yields_items_and_says_so() -> None:
    broken = RSS.replace(b"</channel></rss>", b"<item><title>Bad & worse</title>")
    feed = parse_feed(broken, url="http://news.test/feed.xml", source="wire")
    assert feed.problem and feed.problem.startswith("malformed feed")
    assert any(i.title == "One" for i in feed.items)


@pytest.mark.parametrize(
    "body", [b"", b"   ", b"<html><body>Not a feed</body></html>", b"\x89PNG\r\n\x1a\n\x00\x00"]
)
def test_not_a_feed_is_an_error(body: bytes) -> None:
    with pytest.raises(FeedError):
        parse_feed(body, url="http://x.test/feed", source="x")


def test_future_dates_are_dropped() -> None:
    future = RSS.replace(b"Mon, 08 Jul 2024", b"Mon, 08 Jul 2099")
    feed = parse_feed(future, url="http://news.test/feed.xml", source="wire")
    assert next(i for i in feed.items if i.title == "One").published is None


def test_canonical_link_drops_fragment_and_tracking() -> None:
    assert canonical_link("HTTP://News.Test/a?id=3&utm_medium=x#c") == "http://news.test/a?id=3"


def test_a_parse_error_without_a_line_number_is_described_without_one() -> None:
    class NoPosition(xml.sax.xmlreader.Locator):
        def getLineNumber(self) -> None:
            return None

    error = xml.sax.SAXParseException("not well-formed", None, NoPosition())
    assert _describe(error, b"<rss>") == "not well-formed"
