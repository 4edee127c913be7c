"""``watcher demo``: the whole pipeline, offline.

The bundled sample site (``watcher/demo_site``: two news sites, each with a
feed) is served on 127.0.0.1 by a real HTTP server that honours conditional
GET, and checks run against it with a throw-away state database.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

from watcher.check import run_check
from watcher.config import Config, parse_config
from watcher.report import format_check
from watcher.store import open_store

SITE = Path(__file__).resolve().parent / "demo_site"

FEEDS = {
    "sahel-wire": "/sahel-wire/feed.xml",
    "desert-dispatch": "/desert-dispatch/atom.xml",
}

_TYPES = {".xml": "application/xml", ".html": "text/html; charset=utf-8"}


class DemoSite:
    """Serves ``demo_site`` with ``{base}`` replaced by the server's own address.

    Until :meth:`publish_more` is called, the Sahel Wire feed shows only its
    first item, so a second pass has something new to find.
    """

    def __init__(self, root: Path = SITE) -> None:
        self.root = root
        self.early = True
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                body = site.body(self.path.split("?")[0])
                if body is None:
                    self._send(404, b"not found", "text/plain")
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, b"", None, etag)
                    return
                self._send(200, body, _TYPES.get(Path(self.path).suffix, "text/plain"), etag)

            def _send(self, status: int, body: bytes, kind: str | None, etag: str = "") -> None:
                self.send_response(status)
                if kind:
                    self.send_header("Content-Type", kind)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def body(self, path: str) -> bytes | None:
        if self.early and path == FEEDS["sahel-wire"]:
            path = "/sahel-wire/feed-initial.xml"
        file = (self.root / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            return None
        return file.read_text(encoding="utf-8").replace("{base}", self.base_url).encode("utf-8")

    def publish_more(self) -> None:
        self.early = False

    @contextmanager
    def serving(self) -> Iterator[DemoSite]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def demo_config(base_url: str, state_dir: Path) -> Config:
    data: dict[str, Any] = {
        "state": {"path": str(state_dir / "watcher.db")},
        # The sample site is on loopback, which watcher refuses by default.
        "http": {"allow_private_addresses": True, "per_host_delay": 0, "retries": 0},
        "sources": [{"name": name, "url": base_url + path} for name, path in FEEDS.items()],
    }
    return parse_config(data, state_dir / "watcher.toml")


def run_demo(out: TextIO, *, as_json: bool = False) -> int:
    passes: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="watcher-demo-") as tmp, DemoSite().serving() as site:
        config = demo_config(site.base_url, Path(tmp))
        store = open_store(config.database_url())
        steps = [
            ("first pass: everything is new", None),
            ("second pass: the Sahel Wire feed has published more", site.publish_more),
            ("third pass: nothing new, the servers answer 304 Not Modified", None),
        ]
        if not as_json:
            out.write(f"Serving the sample feeds on {site.base_url}; state in {tmp}\n")
        try:
            for title, before in steps:
                if before:
                    before()
                report = run_check(config, store)
                if as_json:
                    passes.append({"pass": title, **report.to_json(with_text=False)})
                else:
                    out.write(f"\n== {title}\n")
                    format_check(report, out)
        finally:
            store.close()
    if as_json:
        json.dump({"passes": passes}, out, indent=2, ensure_ascii=False)
        out.write("\n")
    return 0
