"""The guard against fetching private addresses, and the transport that keeps to it.

Each new connection goes to an address the guard approved: the host is resolved
once, each address is checked, and the socket is opened to that address, never
to a second lookup of the name that could answer differently (DNS rebinding).
TLS and the Host header still carry the name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import select
import socket
import ssl
from collections.abc import Iterable
from contextlib import suppress
from typing import Any

import httpcore
import httpx

from watcher.config import HttpSettings
from watcher.ingest.fetch.results import Refused, Retry

_ALLOW_HINT = "set http.allow_private_addresses = true to allow"


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
    """The addresses of ``host``, all of them public, or Refused / Retry saying why not."""
    try:
        addresses = await resolve_host(host, port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise Retry(f"cannot resolve {host} ({reason})", "connection") from None
    for address in addresses:
        problem = address_problem(address)
        if problem is None:
            continue
        what = f"{_article(problem)} {problem} address"
        if address == host.strip("[]"):
            raise Refused(f"refused: {address} is {what} ({_ALLOW_HINT})", "private_address")
        raise Refused(
            f"refused: {host} resolves to {address}, {what} ({_ALLOW_HINT})",
            "private_address",
        )
    return addresses


def _readable(sock: socket.socket | None) -> bool:
    """Whether ``sock`` has something to read (or is closed), without waiting: what
    httpcore asks of an idle connection to see that the server closed it."""
    if sock is None or sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class _Stream(httpcore.AsyncNetworkStream):
    """An anyio stream that answers httpcore's "is the socket readable?" from its socket.

    httpcore's pool asks it of every idle pooled connection each time a request
    starts or ends; anyio finds the socket by building a dict of all the stream's
    attributes, which was a third of the CPU time of a pass of 200 answers 304.
    """

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket: socket.socket | None = stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _readable(self._socket)
        return self._stream.get_extra_info(info)


class _Backend(httpcore.AsyncNetworkBackend):
    """Opens connections with anyio, as httpx does, as :class:`_Stream` s.

    With the guard on (``pinned``), each connection goes to an address the guard
    approved, not to the name: httpcore hands over the host name of the URL;
    this backend resolves it once, refuses it if any address is not public, and
    connects to the approved addresses themselves. TLS (SNI, certificate check)
    and the Host header are made from the URL above this layer, so they keep the
    name.
    """

    def __init__(self, *, pinned: bool) -> None:
        self._sockets = httpcore.AnyIOBackend()
        self._pinned = pinned

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await approved_addresses(host, port) if self._pinned else [host]
        for address in addresses[:-1]:
            with suppress(httpcore.ConnectError, httpcore.ConnectTimeout):
                return _Stream(
                    await self._sockets.connect_tcp(
                        address, port, timeout, local_address, socket_options
                    )
                )
        return _Stream(
            await self._sockets.connect_tcp(
                addresses[-1], port, timeout, local_address, socket_options
            )
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise Refused("unix sockets are never fetched", "scheme")

    async def sleep(self, seconds: float) -> None:
        await self._sockets.sleep(seconds)


def guarded_transport(settings: HttpSettings) -> httpx.AsyncHTTPTransport:
    """httpx's transport, over a pool that opens its connections with :class:`_Backend`
    (pinned to approved addresses unless private ones are allowed).

    httpx takes no network backend of its own, so the pool it built is
    replaced by one built the same way with ours.
    """
    limits = httpx.Limits(
        max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency
    )
    # One context for both pools: loading the CA certificates takes 17 ms.
    ssl_context = httpx.create_ssl_context()
    transport = httpx.AsyncHTTPTransport(verify=ssl_context, limits=limits)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_Backend(pinned=not settings.allow_private_addresses),
    )
    return transport


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
