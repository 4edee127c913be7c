"""``watcher demo``: the whole pipeline, offline.

The bundled sample site (``watcher/cli/demo_site``: two news sites, each with a
feed) is served on 127.0.0.1 by a real HTTP server that honours conditional
GET, and checks run against it with a throw-away state database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

from watcher.alerts.digest import digest_for
from watcher.alerts.notify import Dispatcher
from watcher.alerts.render import Renderer, load_templates
from watcher.cli.main import CommandError
from watcher.cli.report import format_check
from watcher.config import Config, parse_config, parse_listen
from watcher.facts import knowledge
from watcher.facts.stories import Story
from watcher.service.check import Checker
from watcher.store import Store, open_store, utcnow
from watcher.terminal import safe

SITE = Path(__file__).resolve().parent / "demo_site"

FEEDS = {
    "sahel-wire": "/sahel-wire/feed.xml",
    "desert-dispatch": "/desert-dispatch/atom.xml",
}

# Each sample site on its own loopback address: sources are independent when
# their sites differ, and a change is confirmed by two of them.
SITE_HOSTS = {"sahel-wire": "127.0.0.1", "desert-dispatch": "127.0.0.2"}
WEBHOOK_ENV = "WATCHER_DEMO_WEBHOOK"
WEBHOOK_HOST = "127.0.0.1"

_TYPES = {".xml": "application/xml", ".html": "text/html; charset=utf-8"}


@contextmanager
def _serving(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    """Serve in a background thread until the block ends."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class DemoSite:
    """Serves ``demo_site`` with ``{base}`` replaced by the server's own address.

    Until :meth:`publish_more` is called, the Sahel Wire feed shows only its
    first item, so a second pass has something new to find.
    """

    def __init__(self, root: Path = SITE, host: str = "127.0.0.1") -> None:
        self.root = root
        self.host = host
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

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.server.server_port}"

    def body(self, path: str) -> bytes | None:
        if self.early and path == FEEDS["sahel-wire"]:
            path = "/sahel-wire/feed-initial.xml"
        file = (self.root / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            return None
        return file.read_text(encoding="utf-8").replace("{base}", self.base_url).encode("utf-8")

    def publish_more(self) -> None:
        self.early = False

    def serving(self) -> contextlib.AbstractContextManager[ThreadingHTTPServer]:
        return _serving(self.server)


class WebhookReceiver:
    """A Slack-style incoming webhook on 127.0.0.1 that keeps what it is sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((WEBHOOK_HOST, 0), Handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://{WEBHOOK_HOST}:{self.server.server_port}/services/demo"

    def serving(self) -> contextlib.AbstractContextManager[ThreadingHTTPServer]:
        return _serving(self.server)


class DemoError(Exception):
    """The demo cannot go on; ``str()`` is one line."""


def demo_config(urls: dict[str, str], state_dir: Path) -> Config:
    data: dict[str, Any] = {
        "state": {"path": str(state_dir / "watcher.db")},
        # The sample sites are on loopback, which watcher refuses by default.
        "http": {"allow_private_addresses": True, "per_host_delay": 0, "retries": 0},
        "notify": {
            "atom": str(state_dir / "changes.atom"),
            # Every change at once, so the demo shows alerts as they happen.
            "slack": {"webhook_env": WEBHOOK_ENV, "immediate": "all"},
        },
        "sources": [{"name": name, "url": url} for name, url in urls.items()],
    }
    return parse_config(data, state_dir / "watcher.toml")


def _save_rendered(
    output: Path, config: Config, store: Store, renderer: Renderer, story: Story
) -> list[Path]:
    """Each alert as the email it would be (text and HTML), and the digest, as files."""
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for change in knowledge.stored_changes(store, story):
        rendered = renderer.alert(change)
        for suffix, body in (("txt", rendered.text), ("html", rendered.html)):
            path = output / f"alert-{change.change_id}.{suffix}"
            path.write_text(f"Subject: {rendered.subject}\n\n{body}" if suffix == "txt" else body)
            written.append(path)
    routing = config.notify.channels()["slack"]
    digest = digest_for(config, store, story, routing, end=utcnow())
    rendered = renderer.digest(digest)
    (output / "digest.txt").write_text(f"Subject: {rendered.subject}\n\n{rendered.text}")
    (output / "digest.html").write_text(rendered.html)
    written += [output / "digest.txt", output / "digest.html"]
    atom = config.atom_path()
    if atom and atom.exists():
        shutil.copy(atom, output / "changes.atom")
        written.append(output / "changes.atom")
    return written


def run_demo(
    out: TextIO, *, as_json: bool = False, output: Path | None = None, serve: str | None = None
) -> int:
    """Three passes against the sample sites; alerts go to a loopback Slack webhook.

    With ``serve`` (HOST:PORT), the web view of the demo's database is then
    served there until SIGINT or SIGTERM.
    """
    output = output or Path("demo-output")
    passes: list[dict[str, Any]] = []
    sites = {name: DemoSite(host=host) for name, host in SITE_HOSTS.items()}
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="watcher-demo-"))
        for site in sites.values():
            stack.enter_context(site.serving())
        slack = WebhookReceiver()
        stack.enter_context(slack.serving())
        urls = {name: site.base_url + FEEDS[name] for name, site in sites.items()}
        config = demo_config(urls, Path(tmp))
        store = open_store(config.database_url())
        stack.callback(store.close)
        renderer = load_templates()
        checker = Checker(config, store)
        dispatcher = stack.enter_context(
            Dispatcher(config, store, renderer, environ={WEBHOOK_ENV: slack.url})
        )
        steps = [
            ("first pass: everything is new", None),
            ("second pass: Sahel Wire has published more", sites["sahel-wire"].publish_more),
            ("third pass: nothing new, the servers answer 304 Not Modified", None),
        ]
        if not as_json:
            for name, url in urls.items():
                out.write(f"Serving {name} on {url}\n")
            out.write(f"State in {tmp}; Slack alerts go to {slack.url}\n")
        for title, before in steps:
            if before:
                before()
            report = asyncio.run(checker.run())
            already = len(slack.received)
            dispatch = dispatcher.send_due()
            messages = [m["text"] for m in slack.received[already:]]
            if as_json:
                passes.append(
                    {
                        "pass": title,
                        **report.to_json(with_text=False),
                        "alerts": dispatch.to_json(),
                        "slack_messages": messages,
                    }
                )
                continue
            out.write(f"\n== {title}\n")
            format_check(report, out)
            for message in messages:
                out.write(f"  slack <- {safe(message.splitlines()[0])}\n")
        written = _save_rendered(output, config, store, renderer, checker.stories[0])
        if as_json:
            json.dump(
                {"passes": passes, "rendered": [str(p) for p in written]},
                out,
                indent=2,
                ensure_ascii=False,
            )
            out.write("\n")
        else:
            out.write(f"\nRendered alerts, the digest and the Atom feed are in {output}/:\n")
            for path in written:
                out.write(f"  {path}\n")
            out.write("\n" + (output / "digest.txt").read_text())
        if serve is None:
            if not as_json:
                out.write("\nTo look at it all in a browser: watcher demo --serve\n")
            return 0
        _serve(config, store, checker, serve, out)
    return 0


def _serve(config: Config, store: Store, checker: Checker, listen: str, out: TextIO) -> None:
    """The web view of the demo's database, until SIGINT or SIGTERM."""
    from watcher.web.server import WebError, start_web, stop_signals_blocked, wait_for_stop

    with stop_signals_blocked():
        try:
            server = start_web(config, store, checker.stories, listen=listen)
        except WebError as exc:
            raise DemoError(str(exc)) from None
        out.write(f"\nWeb view of the demo: {server.url} (Ctrl-C to stop)\n")
        out.flush()
        wait_for_stop(server)


def cmd_demo(args: argparse.Namespace, config: Config | None, out: TextIO) -> int:
    serve = args.listen if args.serve else None
    if serve is not None:
        try:
            parse_listen(serve)
        except ValueError as exc:
            raise CommandError(f"--listen: {exc}") from None
    try:
        return run_demo(out, as_json=args.json, output=Path(args.output), serve=serve)
    except DemoError as exc:
        raise CommandError(str(exc)) from None
