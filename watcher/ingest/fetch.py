"""Fetching feeds and pages over HTTP, politely and defensively.

One httpx transport per :class:`Fetcher`. Every request goes through the
same steps: the URL is checked (scheme and host), a place is taken in the
per-host queue (concurrency limit and minimum spacing between request
starts), the response is streamed under a size cap and a deadline for the
whole request, and redirects come back here to be checked hop by hop
instead of being followed inside httpx. Each new connection goes to an
address the guard approved: the host is resolved once, each address is
checked, and the socket is opened to that address, never to a second
lookup of the name that could answer differently (DNS rebinding). TLS and
the Host header still carry the name. The body is
decompressed here, not by httpx, a bounded step at a time: httpx inflates a
whole network chunk at once, and a few kilobytes of brotli or stacked gzip
inflate to gigabytes before any size cap can look at them. Failures worth
another try (timeouts, broken connections, 5xx, 429) are retried with
exponential backoff or the server's Retry-After; everything else fails at
once with a :class:`FetchError` whose ``str()`` is one line naming the URL
and what went wrong.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import socket
import time
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from typing import Literal, Protocol

import httpcore
import httpx

try:
    import brotli
except ImportError:  # httpx[brotli] installs brotlicffi instead on PyPy
    brotli = None

from watcher.config import HttpSettings

log = logging.getLogger(__name__)

FetchErrorKind = Literal[
    "timeout",
    "http_status",
    "too_large",
    "redirects",
    "private_address",
    "scheme",
    "connection",
    "invalid_url",
    "decoding",
]

ALLOWED_SCHEMES = ("http", "https")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Decompression hands out at most this many bytes at a time, so the size cap
# is checked before a compression bomb can fill memory.
DECODE_STEP = 65536
# The body of an answer that is not read (a 304, a redirect, an error page) is
# drained up to this many bytes, so its connection can serve the next request to
# the host; a longer one closes the connection instead.
DRAIN_LIMIT = 65536
DRAIN_SECONDS = 1.0


def _brotli_can_bound() -> bool:
    """Whether the installed brotli can stop decompressing at a given output size."""
    if brotli is None:
        return False
    try:
        brotli.Decompressor().process(b"", output_buffer_limit=DECODE_STEP)
    except (TypeError, brotli.error):  # brotli < 1.2 has no output_buffer_limit
        return False
    return True


BROTLI = _brotli_can_bound()
_DECODING_ERRORS: tuple[type[Exception], ...] = (zlib.error,) + (
    (brotli.error,) if brotli is not None else ()
)
# Only encodings that can be decoded a bounded step at a time are asked for.
ACCEPT_ENCODING = "gzip, deflate, br" if BROTLI else "gzip, deflate"
_ALLOW_HINT = "set http.allow_private_addresses = true to allow"


class FetchError(Exception):
    """A URL that could not be fetched; ``str()`` is ``"<url>: <reason>"``.

    ``kind`` tells callers what sort of failure it was without parsing the
    message; ``status`` is the HTTP status when there was one.
    """

    def __init__(
        self,
        url: str,
        reason: str,
        kind: FetchErrorKind = "connection",
        *,
        status: int | None = None,
    ) -> None:
        super().__init__(url, reason)
        self.url = url
        self.reason = reason
        self.kind: FetchErrorKind = kind
        self.status = status

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}"


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A successful fetch (a 2xx with its body, or a 304)."""

    url: str  # after redirects
    status: int
    content: bytes  # decoded (gzip, deflate, brotli); b"" on 304
    etag: str | None
    last_modified: str | None
    content_type: str | None
    headers: httpx.Headers
    elapsed: float  # seconds, for the whole call: redirects, retries and waits included

    @property
    def not_modified(self) -> bool:
        return self.status == 304


# -- address guard -------------------------------------------------------------


def address_problem(address: str) -> str | None:
    """Why ``address`` must not be fetched by default, or None when it is public.

    The answer is the adjective for the message: ``"loopback"``, ``"private"``,
    ``"link-local"`` (which covers the cloud metadata service at
    169.254.169.254), ``"site-local"``, ``"multicast"``, ``"reserved"``, ``"unspecified"`` or
    ``"non-public"`` for the other ranges that are not globally routable
    (shared address space, documentation and benchmark networks, ...).
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    site_local = False
    if isinstance(ip, ipaddress.IPv6Address):
        site_local = ip.is_site_local  # fec0::/10, deprecated but still routed inside sites
        # ::ffff:127.0.0.1 reaches 127.0.0.1, and 6to4's 2002:7f00:1:: is 127.0.0.1 too;
        # Python 3.11 calls both global. Judge the IPv4 address they carry.
        ip = ip.ipv4_mapped or ip.sixtofour or ip
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("site-local", site_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("non-public", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to; the lookup runs in a worker thread."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def approved_addresses(host: str, port: int) -> list[str]:
    """The addresses of ``host``, all of them public, or _Refused / _Retry saying why not."""
    try:
        addresses = await resolve_host(host, port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _Retry(f"cannot resolve {host} ({reason})", "connection") from None
    for address in addresses:
        problem = address_problem(address)
        if problem is None:
            continue
        what = f"{_article(problem)} {problem} address"
        if address == host.strip("[]"):
            raise _Refused(f"refused: {address} is {what} ({_ALLOW_HINT})", "private_address")
        raise _Refused(
            f"refused: {host} resolves to {address}, {what} ({_ALLOW_HINT})",
            "private_address",
        )
    return addresses


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens each connection to an address the guard approved, not to the name.

    httpcore hands over the host name of the URL; this backend resolves it
    once, refuses it if any address is not public, and connects to the
    approved addresses themselves. TLS (SNI, certificate check) and the Host
    header are made from the URL above this layer, so they keep the name.
    """

    def __init__(self) -> None:
        self._sockets = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await approved_addresses(host, port)
        for address in addresses[:-1]:
            with suppress(httpcore.ConnectError, httpcore.ConnectTimeout):
                return await self._sockets.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
        return await self._sockets.connect_tcp(
            addresses[-1], port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise _Refused("unix sockets are never fetched", "scheme")

    async def sleep(self, seconds: float) -> None:
        await self._sockets.sleep(seconds)


def _transport(settings: HttpSettings) -> httpx.AsyncHTTPTransport:
    """httpx's transport; with the address guard on, over a pool that uses _PinnedBackend.

    httpx takes no network backend of its own, so the pool it built is
    replaced by one built the same way with the pinning backend.
    """
    limits = httpx.Limits(
        max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency
    )
    transport = httpx.AsyncHTTPTransport(limits=limits)
    if not settings.allow_private_addresses:
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinnedBackend(),
        )
    return transport


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


# -- Retry-After -------------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date.

    None when there is no usable value; a date in the past gives 0.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# -- bounded decompression ---------------------------------------------------------


class _ZlibLayer:
    """gzip or deflate; deflate is zlib-wrapped or, from some servers, raw (as httpx allows)."""

    def __init__(self, encoding: str) -> None:
        gzip = encoding in ("gzip", "x-gzip")
        self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
        self._may_be_raw = not gzip  # until the first bytes decode

    def _step(self, data: bytes) -> bytes:
        try:
            out = self._inflate.decompress(data, DECODE_STEP)
        except zlib.error:
            if not self._may_be_raw:
                raise
            self._may_be_raw = False
            self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._inflate.decompress(data, DECODE_STEP)
        if data:
            self._may_be_raw = False
        return out

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            out = self._step(data)
            if out:
                yield out
            data = self._inflate.unconsumed_tail
            if not data and len(out) < DECODE_STEP:
                return

    def flush(self) -> Iterator[bytes]:
        if out := self._inflate.flush():
            yield out


class _BrotliLayer:
    def __init__(self) -> None:
        assert brotli is not None
        self._decompressor = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        out = self._decompressor.process(data, output_buffer_limit=DECODE_STEP)
        while True:
            if out:
                yield out
            if self._decompressor.can_accept_more_data() or not out:
                return
            out = self._decompressor.process(b"", output_buffer_limit=DECODE_STEP)

    def flush(self) -> Iterator[bytes]:
        return iter(())


_Layer = _ZlibLayer | _BrotliLayer


def _through(layer: _Layer, chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        yield from layer.feed(chunk)


class _BodyDecoder:
    """Undoes a response's Content-Encoding, lazily, in pieces of at most DECODE_STEP bytes.

    Encodings are undone in the reverse of the order they are listed in;
    ``identity`` and names it does not know are passed over, as httpx does.
    """

    def __init__(self, encodings: list[str]) -> None:
        layers: list[_Layer] = []
        for name in (e.strip().lower() for e in reversed(encodings)):
            if name in ("gzip", "x-gzip", "deflate"):
                layers.append(_ZlibLayer(name))
            elif name == "br":
                if not BROTLI:
                    raise _Refused(
                        "cannot decode the response body (brotli without a bounded decoder; "
                        "install brotli >= 1.2)",
                        "decoding",
                    )
                layers.append(_BrotliLayer())
        self._layers = layers

    def _onward(self, start: int, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for layer in self._layers[start:]:
            chunks = _through(layer, chunks)
        return iter(chunks)

    def decode(self, data: bytes) -> Iterator[bytes]:
        return self._onward(0, (data,))

    def flush(self) -> Iterator[bytes]:
        for index, layer in enumerate(self._layers):
            yield from self._onward(index + 1, layer.flush())


# -- the fetcher ---------------------------------------------------------------


class _Retry(Exception):
    """One attempt failed in a way that another attempt might not."""

    def __init__(
        self,
        reason: str,
        kind: FetchErrorKind,
        *,
        status: int | None = None,
        delay: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind: FetchErrorKind = kind
        self.status = status
        self.delay = delay  # the server's Retry-After, when it gave one


class _Refused(Exception):
    """One hop must not be fetched (and retrying will not change that)."""

    def __init__(self, reason: str, kind: FetchErrorKind, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind: FetchErrorKind = kind
        self.status = status


@dataclass(slots=True)
class _Hop:
    """The answer to one request: the body is only read for 2xx."""

    url: httpx.URL
    status: int
    headers: httpx.Headers
    content: bytes = b""


@dataclass
class _HostGate:
    """Politeness toward one host: how many requests at once, how far apart they start."""

    semaphore: asyncio.Semaphore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0


async def _drain(response: httpx.Response) -> None:
    """Read what is left of a short body, so that closing the response returns its
    connection to the pool (httpcore closes a connection whose answer was not read
    to the end)."""
    if response.is_stream_consumed:
        return
    left = DRAIN_LIMIT
    with suppress(httpx.HTTPError, TimeoutError):
        async with asyncio.timeout(DRAIN_SECONDS):
            async for raw in response.aiter_raw():
                left -= len(raw)
                if left < 0:
                    return


def _checked_url(url: httpx.URL) -> httpx.URL:
    """``url``, once its host has been decoded: a malformed IDNA name raises here, not later."""
    _ = url.host
    return url


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (h11 and the ssl module can say more)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _status_text(status: int, phrase: str) -> str:
    with suppress(ValueError):
        phrase = HTTPStatus(status).phrase
    return f"HTTP {status} {phrase}".rstrip()


class HostTurnTaker(Protocol):
    """Turns at a host shared with other processes (several workers on one database)."""

    def reserve(self, host: str, delay: float) -> float:
        """Take the host's next turn, ``delay`` after the last one; seconds to wait."""
        ...


class Fetcher:
    """GETs URLs under the limits in :class:`HttpSettings`; use as ``async with``.

    Safe to share between concurrent tasks: limits are per host (by host
    name, whatever the port) and overall (``settings.concurrency``).
    """

    def __init__(self, settings: HttpSettings, turns: HostTurnTaker | None = None) -> None:
        self.settings = settings
        self.turns = turns
        self._transport: httpx.AsyncHTTPTransport | None = None
        self._timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        ).as_dict()
        self._headers = {"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING}
        self._hosts: dict[str, _HostGate] = {}
        self._all = asyncio.Semaphore(settings.concurrency)

    async def __aenter__(self) -> Fetcher:
        # The transport, not an httpx client: redirects are followed here, hop by
        # hop, and a client would parse each Location itself first (and raise
        # on a malformed one before the hop could be refused in one line).
        self._transport = _transport(self.settings)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._transport is not None:
            await self._transport.aclose()
            self._transport = None

    async def get(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET ``url``, conditionally when a validator is given; raise FetchError.

        ``etag`` and ``last_modified`` are the validators from the previous
        fetch; a 304 gives ``not_modified`` with those validators carried
        over when the server does not repeat them.
        """
        if self._transport is None:
            raise RuntimeError("use Fetcher as 'async with Fetcher(settings) as fetcher'")
        started = time.monotonic()
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        hop = await self._follow(url, headers)
        return FetchResult(
            url=str(hop.url),
            status=hop.status,
            content=hop.content,
            etag=hop.headers.get("etag") or (etag if hop.status == 304 else None),
            last_modified=hop.headers.get("last-modified")
            or (last_modified if hop.status == 304 else None),
            content_type=hop.headers.get("content-type"),
            headers=hop.headers,
            elapsed=time.monotonic() - started,
        )

    # -- redirects and retries -----------------------------------------------------

    async def _follow(self, url: str, headers: dict[str, str]) -> _Hop:
        """Fetch ``url``, following up to ``max_redirects`` redirects, checking each hop."""
        try:
            current = _checked_url(httpx.URL(url))
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(url, f"invalid URL ({_one_line(exc)})", "invalid_url") from None
        visited = {current}
        redirects = 0
        while True:
            hop = await self._with_retries(url, current, headers, redirected=redirects > 0)
            if hop.status not in REDIRECT_STATUSES:
                return hop
            target = self._redirect_target(url, hop)
            redirects += 1
            if target in visited:
                raise FetchError(url, f"redirect loop (back to {target})", "redirects")
            if redirects > self.settings.max_redirects:
                raise FetchError(
                    url, f"too many redirects ({self.settings.max_redirects})", "redirects"
                )
            visited.add(target)
            current = target

    def _redirect_target(self, url: str, hop: _Hop) -> httpx.URL:
        location = hop.headers.get("location")
        if not location:
            raise FetchError(
                url, f"HTTP {hop.status} redirect without a Location header", "redirects"
            )
        try:
            return _checked_url(hop.url.join(location.strip()))
        except (httpx.InvalidURL, ValueError) as exc:  # IDNA errors are ValueErrors
            raise FetchError(
                url, f"redirect to an invalid URL {location!r} ({_one_line(exc)})", "redirects"
            ) from None

    async def _with_retries(
        self, url: str, hop_url: httpx.URL, headers: dict[str, str], *, redirected: bool
    ) -> _Hop:
        """One hop, with ``settings.retries`` more attempts for failures that may pass.

        Errors name the URL asked for; a hop reached by redirect is named too.
        """
        where = f"redirected to {hop_url}: " if redirected else ""
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            try:
                return await self._attempt(hop_url, headers)
            except _Refused as refused:
                raise FetchError(
                    url, where + refused.reason, refused.kind, status=refused.status
                ) from None
            except _Retry as retry:
                if attempt + 1 == attempts:
                    tries = f" after {attempts} attempts" if attempts > 1 else ""
                    raise FetchError(
                        url, where + retry.reason + tries, retry.kind, status=retry.status
                    ) from None
                delay = retry.delay if retry.delay is not None else self._backoff(attempt)
                log.info("%s: %s; retrying in %.1fs", hop_url, retry.reason, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        # The jitter keeps sources that failed together from retrying in lockstep.
        base = self.settings.backoff * 2**attempt
        return base + random.uniform(0, base / 10)

    # -- one attempt -------------------------------------------------------------

    async def _attempt(self, url: httpx.URL, headers: dict[str, str]) -> _Hop:
        """One request to one URL; raises _Retry or _Refused.

        ``total_timeout`` runs from the moment the request may start (the
        wait in the per-host queue is not counted) to the body's last byte:
        read_timeout alone never ends a server that sends a byte every few
        seconds. It is not retried: a server that slow would only hold the
        pass up as long again.
        """
        assert self._transport is not None
        self._check_destination(url)
        request = httpx.Request(
            "GET", url, headers={**self._headers, **headers}, extensions={"timeout": self._timeout}
        )
        total = self.settings.total_timeout
        async with self._slot(url.host):
            try:
                async with asyncio.timeout(total):
                    response = await self._transport.handle_async_request(request)
                    response.request = request
                    try:
                        return await self._answer(response)
                    finally:
                        await _drain(response)
                        await response.aclose()
            except httpx.HTTPError as exc:
                raise self._failure(exc) from exc
            except TimeoutError:
                raise _Refused(
                    f"timed out: no complete response within {_seconds(total)} "
                    "(http.total_timeout)",
                    "timeout",
                ) from None

    def _failure(self, exc: httpx.HTTPError) -> _Retry | _Refused:
        """What an exception from httpx means for this attempt."""
        s = self.settings
        detail = _one_line(exc)
        if isinstance(exc, httpx.ConnectTimeout):
            return _Retry(f"timed out connecting ({_seconds(s.connect_timeout)})", "timeout")
        if isinstance(exc, httpx.ReadTimeout):
            return _Retry(f"timed out reading ({_seconds(s.read_timeout)})", "timeout")
        if isinstance(exc, httpx.WriteTimeout):
            return _Retry(f"timed out sending ({_seconds(s.read_timeout)})", "timeout")
        if isinstance(exc, httpx.PoolTimeout):
            wait = _seconds(s.connect_timeout)
            return _Retry(f"timed out waiting for a connection ({wait})", "timeout")
        if isinstance(exc, httpx.DecodingError):
            return _Refused(f"cannot decode the response body ({detail})", "decoding")
        if isinstance(exc, httpx.ConnectError):
            return _Retry(f"cannot connect ({detail})", "connection")
        if isinstance(exc, httpx.TransportError):
            return _Retry(f"connection failed ({detail})", "connection")
        return _Refused(f"request failed ({detail})", "connection")

    async def _answer(self, response: httpx.Response) -> _Hop:
        """Sort a response out by status; read the body only for a 2xx."""
        status = response.status_code
        hop = _Hop(response.url, status, response.headers)
        if status in REDIRECT_STATUSES or status == 304:
            return hop
        if 200 <= status < 300:
            hop.content = await self._read_capped(response)
            return hop
        text = _status_text(status, response.reason_phrase)
        if status in (429, 503):
            wait = parse_retry_after(response.headers.get("retry-after"))
            if wait is not None and wait > self.settings.max_retry_after:
                raise _Refused(
                    f"{text}, and the server asks to retry after {_seconds(wait)}, "
                    f"more than http.max_retry_after ({_seconds(self.settings.max_retry_after)})",
                    "http_status",
                    status=status,
                )
            raise _Retry(text, "http_status", status=status, delay=wait)
        if status >= 500:
            raise _Retry(text, "http_status", status=status)
        raise _Refused(text, "http_status", status=status)

    async def _read_capped(self, response: httpx.Response) -> bytes:
        """The decoded body, read and decoded no further than ``max_bytes``.

        The cap holds for the bytes on the wire and for the decoded bytes,
        which are counted as each bounded piece comes out of the decoder.
        """
        cap = self.settings.max_bytes
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise _Refused(
                f"response larger than {cap} bytes (Content-Length {declared})", "too_large"
            )
        too_large = _Refused(f"response larger than {cap} bytes (cut off)", "too_large")
        decoder = _BodyDecoder(response.headers.get_list("content-encoding", split_commas=True))
        chunks: list[bytes] = []
        size = received = 0

        def keep(pieces: Iterator[bytes]) -> None:
            nonlocal size
            for piece in pieces:
                size += len(piece)
                if size > cap:
                    raise too_large
                chunks.append(piece)

        try:
            async for raw in response.aiter_raw():
                received += len(raw)
                if received > cap:
                    raise too_large
                keep(decoder.decode(raw))
            keep(decoder.flush())
        except _DECODING_ERRORS as exc:
            raise _Refused(
                f"cannot decode the response body ({_one_line(exc)})", "decoding"
            ) from None
        return b"".join(chunks)

    # -- the guard and the per-host queue --------------------------------------------

    @staticmethod
    def _check_destination(url: httpx.URL) -> None:
        """Refuse other schemes. The addresses are checked as the connection opens."""
        if not url.scheme:
            raise _Refused("not an absolute URL", "invalid_url")
        if url.scheme not in ALLOWED_SCHEMES:
            raise _Refused(f"unsupported scheme {url.scheme!r}", "scheme")
        if not url.host:
            raise _Refused("URL has no host", "invalid_url")

    async def _shared_turn(self, host: str, own_wait: float) -> float:
        """The wait for this host's next turn among every process sharing ``turns``;
        this process's own spacing when they cannot be reached."""
        assert self.turns is not None
        try:
            return await asyncio.to_thread(self.turns.reserve, host, self.settings.per_host_delay)
        except Exception as exc:  # politeness must not fail a fetch the database cannot help
            log.debug("host turns unavailable, spacing this process's requests only: %s", exc)
            return own_wait

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        """Hold a place to send one request to ``host``.

        The host's semaphore bounds requests in flight to it; its lock makes
        starts take turns, each at least ``per_host_delay`` after the one
        before. The overall limit is taken last, so a host that must wait
        does not hold a place that another host could use.
        """
        gate = self._hosts.get(host)
        if gate is None:
            gate = self._hosts[host] = _HostGate(
                asyncio.Semaphore(self.settings.per_host_concurrency)
            )
        async with gate.semaphore:
            async with gate.lock:
                wait = gate.next_start - time.monotonic()
                if self.turns is not None and self.settings.per_host_delay:
                    wait = await self._shared_turn(host, wait)
                if wait > 0:
                    await asyncio.sleep(wait)
                await self._all.acquire()
                gate.next_start = time.monotonic() + self.settings.per_host_delay
            try:
                yield
            finally:
                self._all.release()
