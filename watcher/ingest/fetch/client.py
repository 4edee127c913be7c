"""Fetching feeds and pages over HTTP, politely and defensively.

One httpx transport per :class:`Fetcher`. Every request goes through the
same steps: the URL is checked (scheme and host), a place is taken in the
per-host queue (concurrency limit and minimum spacing between request
starts), the response is streamed under a size cap and a deadline for the
whole request, and redirects come back here to be checked hop by hop
instead of being followed inside httpx. Connections open only to addresses
the guard approved (:mod:`watcher.ingest.fetch.guard`), and the body is
decompressed a bounded step at a time (:mod:`watcher.ingest.fetch.decoding`).
Failures worth another try (timeouts, broken connections, 5xx, 429) are
retried with exponential backoff or the server's Retry-After; everything
else fails at once with a :class:`FetchError` whose ``str()`` is one line
naming the URL and what went wrong.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from typing import Protocol

import httpx

from watcher.config import HttpSettings
from watcher.ingest.fetch.decoding import ACCEPT_ENCODING, DECODING_ERRORS, BodyDecoder
from watcher.ingest.fetch.guard import guarded_transport
from watcher.ingest.fetch.results import FetchError, FetchResult, Refused, Retry

log = logging.getLogger("watcher.ingest.fetch")

ALLOWED_SCHEMES = ("http", "https")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# The body of an answer that is not read (a 304, a redirect, an error page) is
# drained up to this many bytes, so its connection can serve the next request to
# the host; a longer one closes the connection instead.
DRAIN_LIMIT = 65536
DRAIN_SECONDS = 1.0


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


# -- the fetcher ---------------------------------------------------------------


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
        self._transport = guarded_transport(self.settings)
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
            except Refused as refused:
                raise FetchError(
                    url, where + refused.reason, refused.kind, status=refused.status
                ) from None
            except Retry as retry:
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
        """One request to one URL; raises Retry or Refused.

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
                raise Refused(
                    f"timed out: no complete response within {_seconds(total)} "
                    "(http.total_timeout)",
                    "timeout",
                ) from None

    def _failure(self, exc: httpx.HTTPError) -> Retry | Refused:
        """What an exception from httpx means for this attempt."""
        s = self.settings
        detail = _one_line(exc)
        if isinstance(exc, httpx.ConnectTimeout):
            return Retry(f"timed out connecting ({_seconds(s.connect_timeout)})", "timeout")
        if isinstance(exc, httpx.ReadTimeout):
            return Retry(f"timed out reading ({_seconds(s.read_timeout)})", "timeout")
        if isinstance(exc, httpx.WriteTimeout):
            return Retry(f"timed out sending ({_seconds(s.read_timeout)})", "timeout")
        if isinstance(exc, httpx.PoolTimeout):
            wait = _seconds(s.connect_timeout)
            return Retry(f"timed out waiting for a connection ({wait})", "timeout")
        if isinstance(exc, httpx.DecodingError):
            return Refused(f"cannot decode the response body ({detail})", "decoding")
        if isinstance(exc, httpx.ConnectError):
            return Retry(f"cannot connect ({detail})", "connection")
        if isinstance(exc, httpx.TransportError):
            return Retry(f"connection failed ({detail})", "connection")
        return Refused(f"request failed ({detail})", "connection")

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
                raise Refused(
                    f"{text}, and the server asks to retry after {_seconds(wait)}, "
                    f"more than http.max_retry_after ({_seconds(self.settings.max_retry_after)})",
                    "http_status",
                    status=status,
                )
            raise Retry(text, "http_status", status=status, delay=wait)
        if status >= 500:
            raise Retry(text, "http_status", status=status)
        raise Refused(text, "http_status", status=status)

    async def _read_capped(self, response: httpx.Response) -> bytes:
        """The decoded body, read and decoded no further than ``max_bytes``.

        The cap holds for the bytes on the wire and for the decoded bytes,
        which are counted as each bounded piece comes out of the decoder.
        """
        cap = self.settings.max_bytes
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise Refused(
                f"response larger than {cap} bytes (Content-Length {declared})", "too_large"
            )
        too_large = Refused(f"response larger than {cap} bytes (cut off)", "too_large")
        decoder = BodyDecoder(response.headers.get_list("content-encoding", split_commas=True))
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
        except DECODING_ERRORS as exc:
            raise Refused(
                f"cannot decode the response body ({_one_line(exc)})", "decoding"
            ) from None
        return b"".join(chunks)

    # -- the guard and the per-host queue --------------------------------------------

    @staticmethod
    def _check_destination(url: httpx.URL) -> None:
        """Refuse other schemes. The addresses are checked as the connection opens."""
        if not url.scheme:
            raise Refused("not an absolute URL", "invalid_url")
        if url.scheme not in ALLOWED_SCHEMES:
            raise Refused(f"unsupported scheme {url.scheme!r}", "scheme")
        if not url.host:
            raise Refused("URL has no host", "invalid_url")

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
