"""Hostile sources: feeds and pages to serve, a good source beside them, and a TCP
server for replies no HTTP server would send (the fixtures are in conftest.py)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

import watcher
from tests.support.loopback import LoopbackServer
from watcher.store import articles, open_store

ARTICLE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<meta property="article:published_time" content="{date}"></head>
<body><nav>Home | World</nav><article><h1>{title}</h1>
<p>{title}. The United States military said its forces in Niger continued to pack equipment
at the bases this week, officials said on condition of anonymity.</p>
<p>Further reporting followed from the capital, where ministers met diplomats.</p>
</article><footer>Share. All rights reserved.</footer></body></html>"""

WATCHER_DIR = Path(watcher.__file__).parent

RSS_TYPE = {"Content-Type": "application/rss+xml; charset=utf-8"}


def item(link: str, title: str, guid: str | None = None, extra: str = "") -> str:
    guid_tag = f"<guid>{guid}</guid>" if guid else ""
    return f"<item><title>{title}</title><link>{link}</link>{guid_tag}{extra}</item>"


def rss(*items: str, declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    return (
        f'{declaration}<rss version="2.0"><channel><title>Wire</title>'
        f"{''.join(items)}</channel></rss>"
    )


def article(title: str, date: str = "2024-08-01T10:00:00Z") -> bytes:
    return ARTICLE.format(title=title, date=date).encode()


class RawServer:
    """A TCP server on 127.0.0.1 handing each connection, request read, to ``reply``."""

    def __init__(self, reply: Callable[[socket.socket], None]) -> None:
        self._reply = reply
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(5)
                request = b""
                while b"\r\n\r\n" not in request:
                    data = conn.recv(4096)
                    if not data:
                        return
                    request += data
                self._reply(conn)
            except OSError:  # the client gave up; that is the point of most of these
                pass

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        self._thread.join(timeout=2)


FAST_HTTP = {
    "allow_private_addresses": True,
    "per_host_delay": 0,
    "retries": 0,
    "backoff": 0.05,
    "read_timeout": 2,
    "total_timeout": 10,
}


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value) if isinstance(value, str) else str(value)


def write_config(
    tmp_path: Path,
    sources: dict[str, str],
    http: dict[str, Any] | None = None,
    articles_settings: dict[str, Any] | None = None,
) -> Path:
    settings = {**FAST_HTTP, **(http or {})}
    lines = ['[state]\npath = "state.db"', "[http]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    if articles_settings:
        lines.append("[articles]")
        lines += [f"{key} = {value}" for key, value in articles_settings.items()]
    for name, url in sources.items():
        # Made-up titles: every item is fetched (see test_relevance.py for the pre-filter).
        lines.append(f'[[sources]]\nname = "{name}"\nurl = "{url}"\nfetch = "all"')
    config = tmp_path / "watcher.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def serve_good(server: LoopbackServer) -> str:
    link = server.url("/good/story.html")
    server.route("/good.xml", rss(item(link, "Good story", "good-1")), headers=RSS_TYPE)
    server.route("/good/story.html", article("Good story"))
    return server.url("/good.xml")


def stored(tmp_path: Path) -> dict[str, list[str]]:
    """Titles of the stored articles, by source."""
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(select(articles.c.source, articles.c.title)).all()
    finally:
        store.close()
    found: dict[str, list[str]] = {}
    for source, title in rows:
        found.setdefault(source, []).append(title)
    return found


def one_line(text: str | None) -> bool:
    return bool(text) and len(str(text).splitlines()) == 1


def assert_failed(hostile: dict[str, Any], url: str, *phrases: str) -> str:
    """The hostile source failed, on one line naming its URL and saying what went wrong."""
    assert hostile["status"] == "failed"
    error = hostile["error"]
    assert one_line(error), error
    assert error.startswith(f"{url}: "), error
    for phrase in phrases:
        assert phrase in error, error
    return error
