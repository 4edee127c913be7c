"""Serving the web view with uvicorn: alone (``watcher serve``) or beside the daemon.

The listening socket is bound here, before uvicorn starts, so that a port in
use or an address that is not ours is one line at start-up rather than a
log line from a thread. uvicorn runs in a thread of its own; the main thread
keeps the signals (the daemon's loop, or :func:`serve_until_stopped`).

An address other than loopback is refused unless a token is configured
(``web.token_env``): the view is read-only, but what a newsroom follows is
not for everyone to read.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import uvicorn

from watcher.config import Config, is_loopback, parse_listen
from watcher.facts.stories import Story
from watcher.logs import register_secret
from watcher.store import Store
from watcher.web.app import WebApp
from watcher.web.pages import Site

log = logging.getLogger(__name__)

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


class WebError(Exception):
    """The web view cannot start as configured; ``str()`` is one line."""


def web_token(config: Config, listen: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The token requests must carry, from ``web.token_env``; None on loopback without one.

    Listening beyond loopback without a token is refused.
    """
    environ = os.environ if environ is None else environ
    host, _ = parse_listen(listen)
    name = config.web.token_env
    if name is None:
        if not is_loopback(host):
            raise WebError(
                f"web: {listen} is not a loopback address; set web.token_env to the name of "
                "an environment variable holding a token, so that every request needs it"
            )
        return None
    token = environ.get(name, "").strip()
    if not token:
        raise WebError(f"web.token_env: environment variable {name} is not set, or empty")
    register_secret(token)
    return token


def bind(listen: str) -> socket.socket:
    """A listening TCP socket on HOST:PORT (port 0: any free port)."""
    host, port = parse_listen(listen)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise WebError(f"web: {listen}: cannot listen: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise WebError(f"web: {listen}: cannot listen: {exc.strerror or exc}") from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


class WebServer:
    """uvicorn serving ``app`` on ``sock`` in a thread, from :meth:`start` to :meth:`stop`."""

    def __init__(self, app: WebApp, sock: socket.socket, listen: str) -> None:
        self.app = app
        self.sock = sock
        self.listen = listen  # as configured (the URL has the port actually bound)
        self.url = url_of(sock)
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=int(STOP_TIMEOUT),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="web", daemon=True
        )

    def start(self) -> WebServer:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.sock.close()
                raise WebError(f"web: {self.url}: the server did not start")
            time.sleep(0.01)
        return self

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(STOP_TIMEOUT + 1)
        self.sock.close()


def prepare_web(site: Site, *, listen: str, token: str | None) -> WebServer:
    """Bind ``listen`` for the view of ``site``; :meth:`WebServer.start` serves it."""
    return WebServer(WebApp(site, token=token), bind(listen), listen)


def start_web(
    config: Config,
    store: Store,
    stories: list[Story],
    *,
    listen: str,
    environ: Mapping[str, str] | None = None,
) -> WebServer:
    """Check the address and token, bind, and serve the view of ``config``'s database."""
    token = web_token(config, listen, environ)
    return prepare_web(Site(config, store, stories), listen=listen, token=token).start()


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def stop_signals_blocked() -> Iterator[None]:
    """Keep SIGINT and SIGTERM for :func:`wait_for_stop` while the block runs.

    Threads started inside inherit the mask, so the server's thread never
    takes a stop signal (whose default action would end the process at once).
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def wait_for_stop(server: WebServer) -> None:
    """Serve until SIGINT or SIGTERM (blocked by the caller), then stop cleanly."""
    while server.running:
        if signal.sigtimedwait(STOP_SIGNALS, 0.5) is not None:
            break
    server.stop()
