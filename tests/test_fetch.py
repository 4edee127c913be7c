"""watcher.ingest.fetch against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import brotli
import pytest

from tests.support.loopback import LoopbackServer, Request, Response
from watcher.config import HttpSettings
from watcher.ingest.fetch import (
    Fetcher,
    FetchError,
    FetchResult,
    address_problem,
    guard,
    parse_retry_after,
)

FAST = {
    "allow_private_addresses": True,
    "connect_timeout": 2,
    "read_timeout": 2,
    "retries": 2,
    "backoff": 0.05,
    "max_retry_after": 5,
    "per_host_delay": 0,
}


def settings(**overrides: Any) -> HttpSettings:
    return HttpSettings(**{**FAST, **overrides})


def get(
    url: str, etag: str | None = None, last_modified: str | None = None, **http: Any
) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(settings(**http)) as fetcher:
            return await fetcher.get(url, etag=etag, last_modified=last_modified)

    return asyncio.run(go())


def get_all(urls: list[str], **http: Any) -> list[FetchResult]:
    async def go() -> list[FetchResult]:
        async with Fetcher(settings(**http)) as fetcher:
            return list(await asyncio.gather(*(fetcher.get(u) for u in urls)))

    return asyncio.run(go())


def fails(url: str, **http: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        get(url, **http)
    return caught.value


def sequence(*responses: Response) -> Callable[[Request], Response]:
    """A route answering with each response in turn, then the last one forever."""
    calls = iter(range(len(responses)))

    def handler(request: Request) -> Response:
        return responses[min(next(calls, len(responses) - 1), len(responses) - 1)]

    return handler


# -- the basics ------------------------------------------------------------------


def test_plain_get_returns_body_and_metadata(server: LoopbackServer) -> None:
    url = server.route(
        "/feed.xml",
        b"<rss/>",
        headers={"Content-Type": "application/rss+xml", "X-Extra": "yes"},
    )
    result = get(url, user_agent="watcher-test/1")
    assert result.status == 200
    assert not result.not_modified
    assert result.content == b"<rss/>"
    assert result.url == url
    assert result.content_type == "application/rss+xml"
    assert result.headers["x-extra"] == "yes"
    assert result.elapsed >= 0
    sent = server.requests[0].headers
    assert sent["user-agent"] == "watcher-test/1"
    assert {"gzip", "deflate", "br"} <= {e.strip() for e in sent["accept-encoding"].split(",")}
    assert "if-none-match" not in sent and "if-modified-since" not in sent


# -- conditional GET -----------------------------------------------------------------


def test_etag_gives_304_on_second_request(server: LoopbackServer) -> None:
    def feed(request: Request) -> Response:
        if request.headers.get("if-none-match") == '"v1"':
            return Response(status=304)
        return Response(b"<rss>one</rss>", headers={"ETag": '"v1"'})

    url = server.route("/feed.xml", feed)
    first = get(url)
    assert (first.status, first.etag, first.content) == (200, '"v1"', b"<rss>one</rss>")
    second = get(url, etag=first.etag)
    assert second.not_modified
    assert second.status == 304
    assert second.content == b""
    assert second.etag == '"v1"'  # kept although the 304 did not repeat it
    assert server.requests[1].headers["if-none-match"] == '"v1"'


def test_connections_are_reused_after_304s_redirects_and_errors(server: LoopbackServer) -> None:
    """Answers without a body to read (304, a redirect, a 404) leave the connection open
    for the next request to the host: a warm pass over many feeds on one site opens
    one connection, not one per feed."""
    server.route("/feed.xml", Response(status=304, headers={"ETag": '"v1"'}))
    server.route("/moved", Response(b"see /page", status=301, headers={"Location": "/page"}))
    server.route("/page", b"<html>page</html>")
    server.route("/gone", Response(b"no such page", status=404))

    async def go() -> None:
        async with Fetcher(settings(per_host_concurrency=1)) as fetcher:
            for _ in range(3):
                assert (await fetcher.get(server.url("/feed.xml"), etag='"v1"')).not_modified
            assert (await fetcher.get(server.url("/moved"))).content == b"<html>page</html>"
            with pytest.raises(FetchError):
                await fetcher.get(server.url("/gone"))
            assert (await fetcher.get(server.url("/page"))).status == 200

    asyncio.run(go())
    assert len(server.requests) == 7
    assert len({r.peer for r in server.requests}) == 1


def test_a_connection_the_server_closed_while_idle_is_not_used_again() -> None:
    """The pool sees that the server closed a kept-alive connection (its socket reads
    as at end) and opens another, rather than sending the next request into it."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    peers: list[int] = []

    def serve() -> None:
        for _ in range(2):
            conn, peer = listener.accept()
            peers.append(peer[1])
            with conn:
                conn.recv(65536)
                conn.sendall(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n')
                # Kept alive as far as the client knows; then closed without a word.
                time.sleep(0.1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/feed.xml"

    async def go() -> list[FetchResult]:
        async with Fetcher(settings(retries=0)) as fetcher:
            first = await fetcher.get(url, etag='"v1"')
            await asyncio.sleep(0.3)
            return [first, await fetcher.get(url, etag='"v1"')]

    try:
        results = asyncio.run(go())
    finally:
        thread.join(5)
        listener.close()
    assert [r.status for r in results] == [304, 304]
    assert len(set(peers)) == 2


def test_last_modified_gives_304_on_second_request(server: LoopbackServer) -> None:
    stamp = "Wed, 01 May 2024 10:00:00 GMT"

    def feed(request: Request) -> Response:
        if request.headers.get("if-modified-since") == stamp:
            return Response(status=304, headers={"Last-Modified": stamp})
        return Response(b"<rss/>", headers={"Last-Modified": stamp})

    url = server.route("/feed.xml", feed)
    first = get(url)
    assert first.last_modified == stamp and first.etag is None
    second = get(url, last_modified=first.last_modified)
    assert second.not_modified and second.last_modified == stamp


# -- size cap --------------------------------------------------------------------


def test_content_length_over_the_cap_is_refused(server: LoopbackServer) -> None:
    url = server.route("/big", b"x" * 5000)
    error = fails(url, max_bytes=1000)
    assert error.kind == "too_large"
    assert str(error) == f"{url}: response larger than 1000 bytes (Content-Length 5000)"
    assert server.hits("/big") == 1  # not retried


def test_streamed_body_is_cut_off_at_the_cap(server: LoopbackServer) -> None:
    def endless() -> Iterator[bytes]:
        while True:
            yield b"y" * 4096

    url = server.route("/endless", lambda request: Response(stream=endless()))
    started = time.monotonic()
    error = fails(url, max_bytes=50_000)
    assert error.kind == "too_large"
    assert str(error) == f"{url}: response larger than 50000 bytes (cut off)"
    assert time.monotonic() - started < 5


def test_streamed_body_under_the_cap_is_read_whole(server: LoopbackServer) -> None:
    url = server.route("/chunks", Response(stream=[b"a" * 300, b"b" * 300]))
    assert get(url, max_bytes=600).content == b"a" * 300 + b"b" * 300


def test_cap_counts_decoded_bytes(server: LoopbackServer) -> None:
    bomb = gzip.compress(b"\0" * 200_000)
    assert len(bomb) < 1000
    url = server.route("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    error = fails(url, max_bytes=100_000)
    assert error.kind == "too_large" and "(cut off)" in str(error)


# -- compression -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("br", brotli.compress)],
)
def test_compressed_bodies_are_decoded(
    server: LoopbackServer, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    text = b"<rss>Niamey, Agadez</rss>" * 50
    url = server.route("/feed.xml", compress(text), headers={"Content-Encoding": encoding})
    assert get(url).content == text


def test_corrupt_compressed_body_fails_clearly(server: LoopbackServer) -> None:
    url = server.route("/bad", b"not gzip at all", headers={"Content-Encoding": "gzip"})
    error = fails(url)
    assert error.kind == "decoding"
    assert server.hits("/bad") == 1


# -- redirects ------------------------------------------------------------------


def test_redirect_is_followed(server: LoopbackServer) -> None:
    server.route("/old", Response(status=301, headers={"Location": "/new"}))
    new = server.route("/new", b"moved here")
    result = get(server.url("/old"))
    assert result.url == new
    assert result.content == b"moved here"


def test_redirect_loop_is_refused(server: LoopbackServer) -> None:
    server.route("/a", Response(status=302, headers={"Location": "/b"}))
    server.route("/b", Response(status=302, headers={"Location": "/a"}))
    error = fails(server.url("/a"))
    assert error.kind == "redirects"
    assert str(error) == f"{server.url('/a')}: redirect loop (back to {server.url('/a')})"
    assert server.hits("/a") == 1 and server.hits("/b") == 1


def test_too_many_redirects(server: LoopbackServer) -> None:
    for hop in range(4):
        server.route(f"/r{hop}", Response(status=307, headers={"Location": f"/r{hop + 1}"}))
    server.route("/r4", b"end")
    error = fails(server.url("/r0"), max_redirects=2)
    assert error.kind == "redirects"
    assert str(error) == f"{server.url('/r0')}: too many redirects (2)"
    assert server.hits("/r3") == 0
    assert get(server.url("/r0"), max_redirects=4).content == b"end"


def test_redirect_to_another_scheme_is_refused(server: LoopbackServer) -> None:
    server.route("/ftp", Response(status=302, headers={"Location": "ftp://127.0.0.1/feed"}))
    error = fails(server.url("/ftp"))
    assert error.kind == "scheme"
    assert "redirected to ftp://127.0.0.1/feed: unsupported scheme 'ftp'" in str(error)


# -- retries ---------------------------------------------------------------------


def test_500_then_200_succeeds_on_retry(server: LoopbackServer) -> None:
    url = server.route("/flaky", sequence(Response(b"oops", 500), Response(b"ok")))
    result = get(url, retries=2)
    assert result.content == b"ok"
    assert server.hits("/flaky") == 2


def test_500_forever_fails_after_all_attempts(server: LoopbackServer) -> None:
    url = server.route("/down", Response(b"oops", 500))
    error = fails(url, retries=2)
    assert server.hits("/down") == 3
    assert error.kind == "http_status" and error.status == 500
    assert str(error) == f"{url}: HTTP 500 Internal Server Error after 3 attempts"


@pytest.mark.slow
def test_backoff_grows_between_attempts(server: LoopbackServer) -> None:
    url = server.route("/down", Response(b"oops", 502))
    fails(url, retries=2, backoff=0.2)
    starts = [r.at for r in server.requests]
    assert starts[1] - starts[0] >= 0.18
    assert starts[2] - starts[1] >= 0.38  # 0.2 * 2**1


def test_404_fails_at_once(server: LoopbackServer) -> None:
    error = fails(server.url("/missing"), retries=2)
    assert server.hits("/missing") == 1
    assert error.kind == "http_status" and error.status == 404
    assert str(error) == f"{server.url('/missing')}: HTTP 404 Not Found"


@pytest.mark.slow
def test_429_waits_for_retry_after(server: LoopbackServer) -> None:
    url = server.route(
        "/busy",
        sequence(Response(status=429, headers={"Retry-After": "1"}), Response(b"ok")),
    )
    started = time.monotonic()
    result = get(url, backoff=0.01)
    assert result.content == b"ok"
    assert time.monotonic() - started >= 0.95
    first, second = server.requests
    assert second.at - first.at >= 0.95


def test_retry_after_beyond_the_cap_fails_fast(server: LoopbackServer) -> None:
    url = server.route("/busy", Response(status=503, headers={"Retry-After": "3600"}))
    started = time.monotonic()
    error = fails(url, max_retry_after=2)
    assert time.monotonic() - started < 1
    assert server.hits("/busy") == 1
    assert error.kind == "http_status" and error.status == 503
    assert "asks to retry after 3600s, more than http.max_retry_after (2s)" in str(error)


def test_parse_retry_after() -> None:
    now = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Wed, 01 May 2024 10:00:30 GMT", now) == 30
    assert parse_retry_after("Wed, 01 May 2024 09:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


# -- timeouts and connections ------------------------------------------------------


@pytest.mark.slow
def test_read_timeout(server: LoopbackServer) -> None:
    url = server.route("/slow", Response(b"late", delay=1.0))
    error = fails(url, read_timeout=0.3, retries=1)
    assert error.kind == "timeout"
    assert str(error) == f"{url}: timed out reading (0.3s) after 2 attempts"
    assert server.hits("/slow") == 2


def test_connection_refused(server: LoopbackServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = fails(f"http://127.0.0.1:{port}/feed", retries=1)
    assert error.kind == "connection"
    assert str(error).startswith(f"http://127.0.0.1:{port}/feed: cannot connect (")
    assert str(error).endswith("after 2 attempts")


# -- the guard -----------------------------------------------------------------------


def test_loopback_is_refused_unless_allowed(server: LoopbackServer) -> None:
    url = server.route("/feed.xml", b"<rss/>")
    error = fails(url, allow_private_addresses=False)
    assert error.kind == "private_address"
    assert str(error) == (
        f"{url}: refused: 127.0.0.1 is a loopback address "
        "(set http.allow_private_addresses = true to allow)"
    )
    assert server.hits("/feed.xml") == 0


def test_host_name_resolving_to_loopback_is_refused(server: LoopbackServer) -> None:
    url = f"http://localhost:{server.base_url.rsplit(':', 1)[1]}/feed.xml"
    error = fails(url, allow_private_addresses=False)
    assert error.kind == "private_address"
    assert "refused: localhost resolves to" in str(error)


def test_every_redirect_hop_is_checked(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first hop passes as public; its redirect to a loopback name is refused."""
    real = guard.address_problem

    def problem(address: str) -> str | None:
        # Only what the guard thinks changes: the connection still goes to 127.0.0.1.
        return None if address == "127.0.0.1" else real(address)

    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.2"] if host == "localhost" else [host]

    monkeypatch.setattr(guard, "address_problem", problem)
    monkeypatch.setattr(guard, "resolve_host", resolve)
    port = server.base_url.rsplit(":", 1)[1]
    server.route("/go", Response(status=302, headers={"Location": f"http://localhost:{port}/in"}))
    server.route("/in", b"internal")
    error = fails(server.url("/go"), allow_private_addresses=False)
    assert error.kind == "private_address"
    assert f"redirected to http://localhost:{port}/in: refused: localhost resolves to" in str(error)
    assert server.hits("/go") == 1 and server.hits("/in") == 0


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
        ("10.0.0.1", "private"),
        ("192.168.1.1", "private"),
        ("172.16.0.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),
        # 6to4 carries an IPv4 address: judged by that address.
        ("2002:7f00:1::", "loopback"),
        ("2002:a00:1::1", "private"),
        ("2002:808:808::", None),
        ("fec0::1", "site-local"),
        ("feff:ffff::1", "site-local"),
        # Teredo and NAT64 are not ranges a news site lives in.
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "private"),
        ("64:ff9b::7f00:1", "reserved"),
    ],
)
def test_address_classifier(address: str, problem: str | None) -> None:
    assert address_problem(address) == problem


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/feed", "file:///etc/passwd"])
def test_unsupported_scheme(url: str) -> None:
    error = fails(url)
    assert error.kind == "scheme"
    assert str(error) == f"{url}: unsupported scheme '{url.split(':')[0]}'"


def test_relative_url_is_refused() -> None:
    error = fails("/feed.xml")
    assert error.kind == "invalid_url"
    assert str(error) == "/feed.xml: not an absolute URL"


# -- politeness --------------------------------------------------------------------


@pytest.mark.slow
def test_per_host_delay_spaces_request_starts(server: LoopbackServer) -> None:
    for n in range(3):
        server.route(f"/p{n}", b"ok")
    get_all([server.url(f"/p{n}") for n in range(3)], per_host_delay=0.3, per_host_concurrency=3)
    starts = sorted(r.at for r in server.requests)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(gaps) == 2 and min(gaps) >= 0.25


def test_different_hosts_are_not_held_back(server: LoopbackServer) -> None:
    """127.0.0.1 and localhost are two hosts to the fetcher, both served here."""
    port = server.base_url.rsplit(":", 1)[1]
    server.route("/one", b"ok")
    urls = [f"http://127.0.0.1:{port}/one", f"http://localhost:{port}/one"]
    get_all(urls, per_host_delay=2)
    first, second = sorted(r.at for r in server.requests)
    assert second - first < 1.5


@pytest.mark.slow
def test_per_host_concurrency_limit(server: LoopbackServer) -> None:
    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    def slow(request: Request) -> Response:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.15)
        with lock:
            state["now"] -= 1
        return Response(b"ok")

    server.route("/slow", slow)
    get_all([server.url("/slow")] * 5, per_host_concurrency=2)
    assert server.hits("/slow") == 5
    assert state["most"] == 2


def test_fetcher_must_be_entered() -> None:
    with pytest.raises(RuntimeError):
        asyncio.run(Fetcher(settings()).get("http://127.0.0.1/"))
