"""Hostile feeds and pages: each fails alone, in one line, and the other sources go on.

Every pass-level test runs ``watcher check --json`` over two sources on
127.0.0.1: ``good`` (a valid feed with one article) and ``hostile`` (the
fault the test is named for). It then asserts that the good source's article
is stored, that nothing crashed (no "internal error"), and that the hostile
source's trouble is reported on one line that names its URL.

The loopback server from loopback.py serves what an HTTP server can be made
to send; :class:`RawServer` below sends what none would (headers one byte at
a time, a body shorter than its Content-Length, bytes that are not HTTP).
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import socket
import tempfile
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import brotli
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.support.hostile import (
    RSS_TYPE,
    RawServer,
    article,
    assert_failed,
    item,
    one_line,
    rss,
    serve_good,
    write_config,
)
from tests.support.loopback import LoopbackServer, Request, Response
from watcher.cli.main import main
from watcher.config import HttpSettings, load_config
from watcher.facts.stories import Story, load_stories
from watcher.ingest.feeds import MAX_ITEMS, FeedError, parse_feed
from watcher.ingest.fetch import Fetcher, FetchError, guard
from watcher.service.check import Checker
from watcher.store import articles, items, open_store

# -- running a pass with a good source and a hostile one -------------------------------


def assert_article_failed(hostile: dict[str, Any], url: str, *phrases: str) -> str:
    """The hostile source's feed was read, and its article failed on one line naming it."""
    assert hostile["status"] != "failed", hostile["error"]
    assert hostile["articles"] == []
    [failure] = hostile["failures"]
    reason = failure["reason"]
    assert one_line(reason), reason
    assert reason.startswith(f"{url}: "), reason
    for phrase in phrases:
        assert phrase in reason, reason
    return reason


def hostile_feed_to(server: LoopbackServer, page: str) -> str:
    """A valid feed whose one item links to ``page`` on the server."""
    link = server.url(page)
    return server.route("/hostile.xml", rss(item(link, "Hostile story", "h-1")), headers=RSS_TYPE)


# -- feeds that are not feeds -------------------------------------------------------------


@pytest.mark.slow
def test_not_xml(server: LoopbackServer, check: Callable[..., dict[str, Any]]) -> None:
    url = server.route("/hostile.xml", b"{'this': 'is JSON-ish, not XML'}\n" * 20)
    assert_failed(check(url), url, "not an RSS or Atom feed", "XML error")


@pytest.mark.slow
def test_html_served_as_feed(server: LoopbackServer, check: Callable[..., dict[str, Any]]) -> None:
    page = b"<!DOCTYPE html>\n<html><head><title>Wire</title></head><body>" + b"<p>x</p>" * 5000
    url = server.route("/hostile.xml", page, headers={"Content-Type": "text/html"})
    assert_failed(check(url), url, "not an RSS or Atom feed: an HTML page")


@pytest.mark.slow
def test_binary_served_as_feed(
    server: LoopbackServer, check: Callable[..., dict[str, Any]]
) -> None:
    url = server.route("/hostile.xml", bytes(range(256)) * 40)
    assert_failed(check(url), url, "not an RSS or Atom feed")


@pytest.mark.slow
def test_empty_200_feed(server: LoopbackServer, check: Callable[..., dict[str, Any]]) -> None:
    url = server.route("/hostile.xml", b"", headers=RSS_TYPE)
    assert_failed(check(url), url, "empty response, no feed")


@pytest.mark.slow
def test_truncated_xml_keeps_the_items_before_the_cut(
    server: LoopbackServer, check: Callable[..., dict[str, Any]]
) -> None:
    link = server.url("/h/one.html")
    whole = rss(item(link, "Hostile one", "h-1"), item(server.url("/h/two.html"), "Two", "h-2"))
    url = server.route("/hostile.xml", whole.encode()[: whole.index("<item>", 100) + 20])
    server.route("/h/one.html", article("Hostile one"))
    hostile = check(url)
    assert hostile["status"] == "new"
    assert [a["title"] for a in hostile["articles"]] == ["Hostile one"]
    problem = hostile["feed_problem"]
    assert one_line(problem) and problem.startswith("malformed feed: "), problem
    assert hostile["url"] == url


@pytest.mark.slow
def test_truncated_xml_before_the_first_item(
    server: LoopbackServer, check: Callable[..., dict[str, Any]]
) -> None:
    whole = rss(item(server.url("/h/one.html"), "Hostile one", "h-1"))
    url = server.route("/hostile.xml", whole.encode()[: whole.index("<item>") + 3])
    assert_failed(check(url), url, "malformed feed, no items read")


@pytest.mark.slow
def test_body_shorter_than_its_content_length(
    raw: Callable[..., RawServer], check: Callable[..., dict[str, Any]]
) -> None:
    body = rss(item("http://127.0.0.1:9/x", "Cut", "c-1")).encode()

    def reply(conn: socket.socket) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body) * 2}\r\n\r\n"
        conn.sendall(head.encode() + body[: len(body) // 2])

    url = raw(reply).url("/hostile.xml")
    assert_failed(check(url), url, "connection failed")


@pytest.mark.slow
def test_not_http_at_all(
    raw: Callable[..., RawServer], check: Callable[..., dict[str, Any]]
) -> None:
    url = raw(lambda conn: conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff garbage\r\n\r\n")).url(
        "/hostile.xml"
    )
    assert_failed(check(url), url, "connection failed")


# -- encodings ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        # latin-1 bytes under a utf-8 declaration and a utf-8 header
        (rss(item("{link}", "Café à Niamey", "e-1")).encode("latin-1"), RSS_TYPE["Content-Type"]),
        # no declaration, no charset: cp1252 bytes with a curly quote
        (
            rss(item("{link}", "Café “Niamey”", "e-1"), declaration="").encode("cp1252"),
            "application/xml",
        ),
        # a charset nobody has heard of, in the header and in the declaration
        (
            rss(
                item("{link}", "Café à Niamey", "e-1"),
                declaration='<?xml version="1.0" encoding="x-klingon"?>',
            ).encode(),
            "application/rss+xml; charset=x-klingon",
        ),
        # utf-16 bytes that claim to be utf-8
        (rss(item("{link}", "Café à Niamey", "e-1")).encode("utf-16"), "text/xml; charset=utf-8"),
    ],
    ids=["latin1-declared-utf8", "cp1252-undeclared", "unknown-charset", "utf16-declared-utf8"],
)
def test_wrong_or_missing_encoding_declaration(
    server: LoopbackServer, check: Callable[..., dict[str, Any]], body: bytes, content_type: str
) -> None:
    link = server.url("/h/cafe.html")
    encoding = "utf-16" if body.startswith((b"\xff\xfe", b"\xfe\xff")) else "latin-1"
    body = body.decode(encoding).replace("{link}", link).encode(encoding)
    url = server.route("/hostile.xml", body, headers={"Content-Type": content_type})
    server.route("/h/cafe.html", article("Café à Niamey"))
    hostile = check(url)
    assert hostile["status"] == "new", hostile["error"]
    assert [a["title"] for a in hostile["articles"]] == ["Café à Niamey"]
    assert hostile["feed_problem"] is None or one_line(hostile["feed_problem"])


# -- items ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_feed_with_50000_items(
    tmp_path: Path, server: LoopbackServer, check: Callable[..., dict[str, Any]]
) -> None:
    base = server.url("/h/")
    body = rss(
        *(
            item(
                f"{base}{n}.html",
                f"Story {n}",
                f"g{n}",
                "<pubDate>Mon, 08 Jul 2024 10:00:00 GMT</pubDate>",
            )
            for n in range(50_000)
        )
    ).encode()
    assert len(body) < 10_000_000  # under the default size cap: it all arrives
    url = server.route("/hostile.xml", body, headers=RSS_TYPE)
    started = time.monotonic()
    hostile = check(url, articles_settings={"max_per_source": 3})
    assert time.monotonic() - started < 10  # feedparser on all 50,000 takes longer alone
    assert hostile["items_in_feed"] == MAX_ITEMS
    assert one_line(hostile["feed_problem"])
    assert (
        f"the feed has 50000 items; only the first {MAX_ITEMS} were read"
        in (hostile["feed_problem"])
    )
    assert len(hostile["failures"]) == 3  # max_per_source articles tried, all 404 here
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        assert store.items_per_source()["hostile"] == MAX_ITEMS
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("head", "entry", "tail"),
    [
        (
            '<rss version="2.0"><!-- <x> --><channel><title><![CDATA[<b>W</b>]]></title>',
            "<item><title>{n}</title><link>http://w.test/{n}</link></item>",
            "</channel></rss>",
        ),
        (
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="http://w.test/">'
            "<title>W</title><link>http://w.test/</link><items><rdf:Seq/></items></channel>",
            '<item rdf:about="http://w.test/{n}"><title>{n}</title><link>http://w.test/{n}</link></item>',
            "</rdf:RDF>",
        ),
        (
            '<a:feed xmlns:a="http://www.w3.org/2005/Atom"><a:title>W</a:title><a:id>urn:w</a:id>',
            '<a:entry><a:id>urn:{n}</a:id><a:title>{n}</a:title><a:link href="http://w.test/{n}"/></a:entry>',
            "</a:feed>",
        ),
    ],
    ids=["rss-2.0", "rss-1.0", "atom-prefixed"],
)
def test_item_cap_keeps_a_well_formed_feed_well_formed(head: str, entry: str, tail: str) -> None:
    """Cut at the cap, the feed is closed again: no complaint but the count."""
    body = head + "".join(entry.format(n=n) for n in range(MAX_ITEMS + 7)) + tail
    feed = parse_feed(body.encode(), url="http://w.test/feed", source="w")
    assert [i.title for i in feed.items] == [str(n) for n in range(MAX_ITEMS)]
    assert feed.problem == (
        f"the feed has {MAX_ITEMS + 7} items; only the first {MAX_ITEMS} were read"
    )


@pytest.mark.slow
def test_duplicate_and_missing_item_ids(
    tmp_path: Path, server: LoopbackServer, check: Callable[..., dict[str, Any]]
) -> None:
    one, two, three = (server.url(f"/h/{n}.html") for n in ("one", "two", "three"))
    body = rss(
        item(one, "First with guid", "same"),
        item(two, "Second, same guid", "same"),  # a duplicate id: the first one wins
        item(three, "No guid: the link is the id"),
        item(three + "?utm_source=rss", "Same link with tracking"),  # same id again
        "<item><title>No link, no guid</title></item>",
        "<item><description>Nothing to identify it at all</description></item>",
        "<item></item>",
    )
    url = server.route("/hostile.xml", body, headers=RSS_TYPE)
    for slug, title in (("one", "First with guid"), ("two", "Second"), ("three", "Third")):
        server.route(f"/h/{slug}.html", article(title))
    hostile = check(url)
    assert hostile["status"] == "new"
    assert sorted(a["title"] for a in hostile["articles"]) == ["First with guid", "Third"]
    assert hostile["items_in_feed"] == 3
    assert server.hits("/h/two.html") == 0


@pytest.mark.slow
def test_dates_in_the_future_or_unparseable(
    tmp_path: Path, server: LoopbackServer, check: Callable[..., dict[str, Any]]
) -> None:
    dates = {
        "future": "Mon, 08 Jul 2999 10:00:00 GMT",
        "nonsense": "yesterday-ish, around teatime",
        "impossible": "Mon, 99 Foo 2024 99:99:99 GMT",
        "year-zero": "Mon, 01 Jan 0000 00:00:00 GMT",
        "huge-year": "Mon, 01 Jan 99999999 00:00:00 GMT",
    }
    page_dates = {"future": "2999-07-08", "nonsense": "not a date", "impossible": "2024-13-45"}
    body = rss(
        *(
            item(server.url(f"/h/{slug}.html"), f"Dated {slug}", slug, f"<pubDate>{d}</pubDate>")
            for slug, d in dates.items()
        )
    )
    url = server.route("/hostile.xml", body, headers=RSS_TYPE)
    for slug in dates:
        page = article(f"Dated {slug}", page_dates.get(slug, "2024-08-01T10:00:00Z"))
        server.route(f"/h/{slug}.html", page)
    hostile = check(url)
    assert hostile["status"] == "new"
    assert len(hostile["articles"]) == len(dates)
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with store.engine.connect() as conn:
            rows = dict(
                conn.execute(
                    select(items.c.item_id, items.c.published).where(items.c.source == "hostile")
                ).all()
            )
    finally:
        store.close()
    assert all(published is None for published in rows.values()), rows


# -- slow, huge and looping responses ------------------------------------------------------


@pytest.mark.slow
def test_slowloris_body_trickle(
    server: LoopbackServer, check: Callable[..., dict[str, Any]]
) -> None:
    """A byte every 0.2s never trips a 1s read timeout; the total deadline cuts it.

    The trickle ends after 5s, so that without a deadline the test fails, not hangs.
    """

    def trickle() -> Iterator[bytes]:
        yield b'<?xml version="1.0"?><rss version="2.0"><channel>'
        for _ in range(25):
            time.sleep(0.2)
            yield b" "
        yield b"</channel></rss>"

    url = server.route("/hostile.xml", lambda request: Response(stream=trickle()))
    started = time.monotonic()
    hostile = check(url, http={"read_timeout": 1, "total_timeout": 1.5, "retries": 2})
    assert time.monotonic() - started < 8
    assert_failed(hostile, url, "timed out: no complete response within 1.5s (http.total_timeout)")
    assert server.hits("/hostile.xml") == 1  # a deadline is not retried


@pytest.mark.slow
def test_slowloris_header_trickle(
    raw: Callable[..., RawServer], check: Callable[..., dict[str, Any]]
) -> None:
    """Headers a byte every 0.2s: each read succeeds, the response never comes (for 5s)."""

    def reply(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        for _ in range(25):
            conn.sendall(b"z")
            time.sleep(0.2)
        conn.sendall(b"\r\nContent-Length: 0\r\n\r\n")

    url = raw(reply).url("/hostile.xml")
    started = time.monotonic()
    hostile = check(url, http={"read_timeout": 1, "total_timeout": 1.5})
    assert time.monotonic() - started < 8
    assert_failed(hostile, url, "(http.total_timeout)")


@functools.cache
def gzip_bomb(size: int = 200_000_000) -> bytes:
    """``size`` zero bytes, gzipped: about a thousandth of that on the wire."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    out = [compressor.compress(block) for _ in range(size // len(block))]
    return b"".join([*out, compressor.flush()])


@functools.cache
def brotli_bomb(size: int = 1 << 30) -> bytes:
    """A gigabyte of zeros in under 2 kB of brotli."""
    compressor = brotli.Compressor(quality=5)
    block = bytes(1 << 20)
    out = [compressor.process(block) for _ in range(size // len(block))]
    return b"".join([*out, compressor.finish()])


@pytest.mark.slow
def test_gzip_bomb(server: LoopbackServer, check: Callable[..., dict[str, Any]]) -> None:
    bomb = gzip_bomb()
    assert len(bomb) < 1_000_000
    url = server.route("/hostile.xml", bomb, headers={"Content-Encoding": "gzip", **RSS_TYPE})
    hostile = check(url, http={"max_bytes": 1_000_000})
    assert_failed(hostile, url, "response larger than 1000000 bytes (cut off)")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("encoding", "bomb"),
    [
        ("br", brotli_bomb),
        ("gzip, gzip", lambda: gzip.compress(gzip_bomb(), 9)),
        ("deflate", lambda: zlib.compress(bytes(50_000_000), 9)),
    ],
    ids=["brotli-1GB", "gzip-in-gzip-200MB", "deflate-50MB"],
)
def test_compression_bomb_never_inflates_past_the_cap(
    server: LoopbackServer, encoding: str, bomb: Callable[[], bytes]
) -> None:
    """Decoding stops at the cap: memory stays near it, whatever the ratio."""
    body = bomb()
    assert len(body) < 100_000
    url = server.route("/bomb", body, headers={"Content-Encoding": encoding})

    async def go() -> FetchError:
        settings = HttpSettings(allow_private_addresses=True, max_bytes=1_000_000, retries=0)
        async with Fetcher(settings) as fetcher:
            with pytest.raises(FetchError) as caught:
                await fetcher.get(url)
            return caught.value

    tracemalloc.start()
    try:
        error = asyncio.run(go())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.kind == "too_large"
    assert str(error) == f"{url}: response larger than 1000000 bytes (cut off)"
    assert peak < 20_000_000, f"peak {peak} bytes while decoding"


@pytest.mark.slow
def test_page_over_the_size_cap(
    server: LoopbackServer, check: Callable[..., dict[str, Any]]
) -> None:
    big = article("Huge") + b"<!--" + b"x" * 60_000 + b"-->"
    feed = rss(
        item(server.url("/h/declared.html"), "Declared", "d-1"),
        item(server.url("/h/chunked.html"), "Chunked", "c-1"),
    )
    url = server.route("/hostile.xml", feed, headers=RSS_TYPE)
    server.route("/h/declared.html", big)
    server.route(
        "/h/chunked.html", Response(stream=[big[i : i + 4096] for i in range(0, len(big), 4096)])
    )
    hostile = check(url, http={"max_bytes": 50_000})
    assert hostile["status"] != "failed" and hostile["articles"] == []
    reasons = {f["reason"] for f in hostile["failures"]}
    assert reasons == {
        f"{server.url('/h/declared.html')}: response larger than 50000 bytes "
        f"(Content-Length {len(big)})",
        f"{server.url('/h/chunked.html')}: response larger than 50000 bytes (cut off)",
    }


@pytest.mark.slow
def test_redirect_loop(server: LoopbackServer, check: Callable[..., dict[str, Any]]) -> None:
    server.route("/loop-a", Response(status=302, headers={"Location": "/loop-b"}))
    server.route("/loop-b", Response(status=301, headers={"Location": "/loop-a"}))
    url = server.url("/loop-a")
    assert_failed(check(url), url, f"redirect loop (back to {url})")
    assert server.hits("/loop-a") == 1 and server.hits("/loop-b") == 1


@pytest.mark.slow
def test_redirect_loop_on_an_article(
    server: LoopbackServer, check: Callable[..., dict[str, Any]]
) -> None:
    url = hostile_feed_to(server, "/h/loop")
    server.route("/h/loop", Response(status=307, headers={"Location": "/h/loop"}))
    assert_article_failed(check(url), server.url("/h/loop"), "redirect loop")
    assert server.hits("/h/loop") == 1


@pytest.mark.slow
def test_endless_redirects(server: LoopbackServer, check: Callable[..., dict[str, Any]]) -> None:
    """A new URL at every hop: no loop to see, only the limit."""

    def onward(request: Request) -> Response:
        hop = int(request.path.partition("?")[2] or 0)
        return Response(status=302, headers={"Location": f"/endless?{hop + 1}"})

    server.route("/endless", onward)
    url = server.url("/endless")
    assert_failed(check(url), url, "too many redirects (5)")
    assert server.hits("/endless") == 6


# -- articles that are not web pages --------------------------------------------------------


@pytest.mark.slow
def test_pdf_served_as_article(
    server: LoopbackServer, check: Callable[..., dict[str, Any]]
) -> None:
    url = hostile_feed_to(server, "/h/report.pdf")
    pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + zlib.compress(b"BT ET" * 500)
    server.route("/h/report.pdf", pdf, headers={"Content-Type": "application/pdf"})
    assert_article_failed(check(url), server.url("/h/report.pdf"), "not a web page: a PDF")


@pytest.mark.slow
def test_binary_served_as_article(
    server: LoopbackServer, check: Callable[..., dict[str, Any]]
) -> None:
    url = hostile_feed_to(server, "/h/blob")
    server.route("/h/blob", bytes(range(256)) * 100, headers={"Content-Type": "text/html"})
    assert_article_failed(check(url), server.url("/h/blob"), "not a web page: binary data")


@pytest.mark.slow
def test_empty_200_article(server: LoopbackServer, check: Callable[..., dict[str, Any]]) -> None:
    url = hostile_feed_to(server, "/h/empty.html")
    server.route("/h/empty.html", b"", headers={"Content-Type": "text/html"})
    assert_article_failed(check(url), server.url("/h/empty.html"), "the page is empty")


@pytest.mark.slow
def test_nul_in_the_declared_encoding(
    server: LoopbackServer, check: Callable[..., dict[str, Any]]
) -> None:
    """feedparser itself raises on this; the source fails with a reason, not an internal error."""
    body = rss(
        item(server.url("/h/x.html"), "X", "x-1"),
        declaration='<?xml version="1.0" encoding="\x00utf-8"?>',
    )
    url = server.route("/hostile.xml", body, headers={"Content-Type": "application/rss+xml"})
    assert_failed(check(url), url, "feedparser cannot read it: ValueError: embedded null character")


@pytest.mark.slow
def test_text_report_gives_the_failure_one_line(
    server: LoopbackServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = server.route("/hostile.xml", b"\x00\x01 not a feed")
    config = write_config(tmp_path, {"good": serve_good(server), "hostile": url})
    assert main(["check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if line.startswith("hostile:")]
    assert line.startswith(f"hostile: FAILED: {url}: not an RSS or Atom feed")
    assert "good: 1 new article(s)" in out


# -- unsafe addresses -----------------------------------------------------------------------


@pytest.fixture
def loopback_looks_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard sees 127.0.0.1 as a public address, and metadata.test as the metadata
    service's; every other answer is real, and connections still go where the guard agreed."""
    real_resolve, real_problem = guard.resolve_host, guard.address_problem

    async def resolve(host: str, port: int) -> list[str]:
        return ["169.254.169.254"] if host == "metadata.test" else await real_resolve(host, port)

    def problem(address: str) -> str | None:
        return None if address == "127.0.0.1" else real_problem(address)

    monkeypatch.setattr(guard, "resolve_host", resolve)
    monkeypatch.setattr(guard, "address_problem", problem)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("location", "shown", "problem"),
    [
        ("http://10.1.2.3/feed", "10.1.2.3 is a private address", "private_address"),
        ("http://192.168.0.1:8080/", "192.168.0.1 is a private address", "private_address"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254 is a link-local address",
            "private_address",
        ),
        (
            "http://metadata.test/computeMetadata/v1/",
            "metadata.test resolves to 169.254.169.254, a link-local address",
            "private_address",
        ),
        ("http://[::ffff:10.0.0.1]/", "::ffff:10.0.0.1 is a private address", "private_address"),
    ],
)
def test_redirect_to_private_address_is_refused(
    server: LoopbackServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    loopback_looks_public: None,
    location: str,
    shown: str,
    problem: str,
) -> None:
    server.route("/hostile.xml", Response(status=302, headers={"Location": location}))
    url = server.url("/hostile.xml")
    config = write_config(
        tmp_path,
        {"good": serve_good(server), "hostile": url},
        http={"allow_private_addresses": False},
    )
    assert main(["check", "--config", str(config), "--json"]) == 1
    by_name = {s["name"]: s for s in json.loads(capsys.readouterr().out)["sources"]}
    assert by_name["good"]["status"] == "new"
    assert_failed(by_name["hostile"], url, f"redirected to {location}: refused: {shown}")
    assert "allow_private_addresses" in by_name["hostile"]["error"]


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://2852039166/latest/meta-data/",  # 169.254.169.254 as one number
        "http://metadata.test/computeMetadata/v1/",
        "http://[fe80::a9fe:a9fe]/",
    ],
)
def test_metadata_address_is_refused_before_connecting(
    loopback_looks_public: None, url: str
) -> None:
    async def go() -> FetchError:
        settings = HttpSettings(retries=0, connect_timeout=5)
        async with Fetcher(settings) as fetcher:
            with pytest.raises(FetchError) as caught:
                await fetcher.get(url)
            return caught.value

    started = time.monotonic()
    error = asyncio.run(go())
    assert time.monotonic() - started < 1  # refused, not a connection that timed out
    assert error.kind == "private_address"
    assert "link-local address" in str(error) and one_line(str(error))


# -- entities -------------------------------------------------------------------------------


@pytest.mark.slow
def test_entity_expansion_bomb(
    server: LoopbackServer, check: Callable[..., dict[str, Any]]
) -> None:
    """The "billion laughs": expat's amplification limit stops it; the items still count."""
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">'
        for n in range(1, 10)
    )
    link = server.url("/h/lol.html")
    body = rss(
        item(link, "&lol9;", "lol-1"),
        declaration=f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]>',
    )
    url = server.route("/hostile.xml", body, headers=RSS_TYPE)
    server.route("/h/lol.html", article("Laughing"))
    started = time.monotonic()
    hostile = check(url)
    assert time.monotonic() - started < 5
    assert [a["title"] for a in hostile["articles"]] == ["Laughing"]
    assert one_line(hostile["feed_problem"]) and "amplification" in hostile["feed_problem"]


@pytest.mark.slow
def test_external_entity_is_not_read(
    server: LoopbackServer, check: Callable[..., dict[str, Any]]
) -> None:
    link = server.url("/h/xxe.html")
    body = rss(
        item(link, "Secret: &xxe;", "xxe-1"),
        declaration='<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    )
    url = server.route("/hostile.xml", body, headers=RSS_TYPE)
    server.route("/h/xxe.html", b"<html><body>" + b"<p>short</p>" + b"</body></html>")
    hostile = check(url)
    assert "root:" not in json.dumps(hostile)
    assert_article_failed(hostile, link)


# -- properties: whatever the bytes, the pass goes on -------------------------------------

VALID_RSS = rss(
    item(
        "http://feeds.test/a/1.html",
        "One",
        "g1",
        "<pubDate>Mon, 08 Jul 2024 10:00:00 GMT</pubDate><description>a &amp; b</description>",
    ),
    item("/a/2.html", "Two <![CDATA[<b>bold</b>]]>", None, "<category>x</category>"),
).encode()

VALID_ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>D</title><id>urn:d</id>
<updated>2024-08-06T00:00:00Z</updated>
<entry><id>urn:d:1</id><title>Handover</title><link rel="alternate" href="a/1.html"/>
<updated>2024-08-06T09:00:00Z</updated></entry></feed>"""

# Pieces of markup worth dropping into a feed: structure, entities, encodings, bad values.
FRAGMENTS = [
    b"<item>",
    b"</item>",
    b"<entry>",
    b"</channel>",
    b"<rss version='2.0'>",
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"&bogus;",
    b"&#0;",
    b"&#xD800;",
    b"<?xml version='1.0' encoding='utf-16'?>",
    b"<?xml version='1.0' encoding='x-nope'?>",
    b'<!DOCTYPE r [<!ENTITY e "&e;">]>',
    b"<link>http://[::1/x</link>",
    b"<link>javascript:alert(1)</link>",
    b"<guid></guid>",
    b"<guid>g1</guid>",
    b"<pubDate>Mon, 99 Foo 99999 99:99:99</pubDate>",
    b"<updated>0000-00-00T99:99:99Z</updated>",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xc3\x28",
    "\u2028".encode(),
]


@st.composite
def mutated_feed(draw: st.DrawFn) -> bytes:
    """A valid RSS or Atom document with a few random cuts, insertions and flips."""
    data = bytearray(draw(st.sampled_from([VALID_RSS, VALID_ATOM])))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["delete", "insert", "flip", "truncate", "repeat"]))
        if op == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "insert":
            data[at:at] = draw(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=16)))
        elif op == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[at:]
        elif op == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 200))] * draw(st.integers(2, 5))
    return bytes(data)


ANY_FEED_BYTES = st.one_of(mutated_feed(), st.binary(max_size=600))


def assert_sane(content: bytes) -> None:
    """parse_feed gives a FeedError of one line, or items that the rest of watcher can use."""
    try:
        feed = parse_feed(content, url="http://feeds.test/feed.xml", source="s")
    except FeedError as exc:
        assert one_line(str(exc)), str(exc)
        return
    ids = [i.item_id for i in feed.items]
    assert len(ids) == len(set(ids)) and all(ids)
    assert all(i.link is None or i.link.startswith(("http://", "https://")) for i in feed.items)
    assert feed.problem is None or one_line(feed.problem)


@settings(max_examples=60, deadline=None)
@given(mutated_feed())
# Found by this test: feedparser raised ValueError on a NUL in the declared encoding.
@example(b'<?xml version="1.0" encoding="\x00utf-8"?><rss version="2.0"><channel/></rss>')
def test_parse_feed_survives_mutated_feeds(content: bytes) -> None:
    assert_sane(content)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000))
def test_parse_feed_survives_arbitrary_bytes(content: bytes) -> None:
    assert_sane(content)


@pytest.fixture(scope="module")
def stories(tmp_path_factory: pytest.TempPathFactory) -> list[Story]:
    """The shipped story, its baseline derived once: every example reuses it."""
    config = load_config(
        write_config(tmp_path_factory.mktemp("baseline"), {"x": "http://feeds.test/"})
    )
    return load_stories(config)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(content=ANY_FEED_BYTES)
def test_pass_survives_any_feed_bytes(
    server: LoopbackServer,
    tmp_path: Path,
    stories: list[Story],
    content: bytes,
) -> None:
    """Whatever the hostile feed holds, the good source's article is read and stored."""
    url = server.route("/hostile.xml", content, headers=RSS_TYPE)
    # The hostile feed's relative links lead to pages that exist on this server.
    server.route("/a/1.html", article("Hostile one"))
    server.route("/a/2.html", b"<html><body>too short</body></html>")
    config = load_config(write_config(tmp_path, {"good": serve_good(server), "hostile": url}))
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        store = open_store(f"sqlite:///{folder}/state.db")
        try:
            checker = Checker(config, store, stories=stories)
            report = asyncio.run(checker.run())
            with store.engine.connect() as conn:
                saved = conn.execute(select(articles.c.source, articles.c.title)).all()
        finally:
            store.close()
    by_name = {s.name: s for s in report.sources}
    good, hostile = by_name["good"], by_name["hostile"]
    assert good.status == "new" and [a.title for a in good.articles] == ["Good story"]
    assert ("good", "Good story") in saved
    if hostile.status == "failed":
        assert one_line(hostile.error) and hostile.error.startswith(f"{url}: ")
        assert "internal error" not in hostile.error, hostile.error
    assert hostile.feed_problem is None or one_line(hostile.feed_problem)
    assert all(one_line(f.reason) for f in hostile.failures)
