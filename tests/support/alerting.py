"""Loopback news sites, a mail server and a webhook for the alert tests (notify, digest).

Two news sites on different loopback addresses (127.0.0.1 and 127.0.0.2)
count as independent sources, so a change reported by one and repeated by
the other becomes confirmed. Their pages are the demo's sample articles.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tests.support.loopback import LoopbackServer, QuietHTTPServer
from watcher.alerts.notify import Dispatcher
from watcher.alerts.render import load_templates
from watcher.cli.demo import SITE as DEMO_SITE
from watcher.config import load_config
from watcher.store import Store, open_store

# Demo articles, by what they report.
BASE_101 = "sahel-wire/2024/07/air-base-101-handover.html"  # Air Base 101 handed over
COMPLETED = "sahel-wire/2024/08/us-completes-niger-withdrawal.html"  # 201, 101, completed
AGADEZ = "desert-dispatch/2024/08/agadez-drone-base-handed-over.html"  # 201 and completed
FRANCE = "sahel-wire/2023/12/france-completes-niger-withdrawal.html"  # a trap: changes nothing

PASSWORD_ENV = "WATCHER_TEST_SMTP_PASSWORD"
WEBHOOK_ENV = "WATCHER_TEST_SLACK_WEBHOOK"
APPRISE_ENV = "WATCHER_TEST_APPRISE_URL"
SENDER = "watcher <alerts@watcher.example>"
SECRET_PATH = "/services/T0001/B0002/xoxSECRETwebhookTOKEN"


# -- news sites ------------------------------------------------------------------


def publish(site: LoopbackServer, *pages: str | tuple[str, str]) -> str:
    """Serve ``pages`` (demo article paths, or (path, html) pairs) and an RSS feed of them.

    Returns the feed's URL. Publishing again replaces the feed.
    """
    items = []
    for number, page in enumerate(pages):
        path, html = page if isinstance(page, tuple) else (page, None)
        if html is None:
            html = (DEMO_SITE / path).read_text(encoding="utf-8")
        url = site.route(
            "/" + path,
            html.replace("{base}", site.base_url),
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        items.append(
            f"<item><title>Story {number}</title><link>{url}</link>"
            f"<guid isPermaLink='false'>{path}</guid></item>"
        )
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
        + "".join(items)
        + "</channel></rss>"
    )
    return site.route("/feed.xml", feed, headers={"Content-Type": "application/rss+xml"})


@contextmanager
def news_sites() -> Iterator[tuple[LoopbackServer, LoopbackServer]]:
    first = LoopbackServer("127.0.0.1").start()
    second = LoopbackServer("127.0.0.2").start()
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


# -- SMTP -----------------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps every message; QUIT can be held back on request."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.received = threading.Event()
        self.quitting = threading.Event()
        # While set, QUIT is not answered: the client has handed over its message and
        # heard "250 accepted", but waits here before it can record the delivery.
        self.hold_quit = False
        self.release = threading.Event()

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        self.received.set()
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.quitting.set()
        while self.hold_quit and not self.release.is_set():
            await asyncio.sleep(0.01)
        return "221 Bye"

    def messages(self) -> list[EmailMessage]:
        return [
            message_from_bytes(e.original_content or b"", policy=policy.default)  # type: ignore[misc]
            for e in self.envelopes
        ]


def smtp_server(inbox: Inbox, port: int, **kwargs: Any) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller


def parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}


USER, PASSWORD = "watcher", "s3cret-Pa55word"


def authenticate(
    server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- webhooks (Slack, Apprise's json://) ------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Webhook:
    """Keeps each posted JSON document with its path and the status it was answered with.

    ``replies`` are used one per request, in order; after them, ``reply``.
    """

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.times: list[float] = []  # time.monotonic() of each post
        self.paths: list[str] = []
        self.statuses: list[int] = []
        self.replies: list[Reply] = []
        self.reply = Reply()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                reply = hook.replies.pop(0) if hook.replies else hook.reply
                hook.posts.append(json.loads(body))
                hook.times.append(time.monotonic())
                hook.paths.append(self.path)
                hook.statuses.append(reply.status)
                time.sleep(reply.delay)
                data = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    for name, value in {"Content-Length": str(len(data)), **reply.headers}.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up waiting

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return self.base_url + SECRET_PATH

    @property
    def delivered(self) -> list[dict[str, Any]]:
        """The posts answered with success: what the channel shows its readers."""
        return [p for p, s in zip(self.posts, self.statuses, strict=True) if s < 300]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def mrkdwn_texts(payload: dict[str, Any]) -> list[str]:
    """The fallback text and every mrkdwn text object of a Slack payload."""
    found = [payload["text"]]
    for block in payload["blocks"]:
        if "text" in block and block["text"]["type"] == "mrkdwn":
            found.append(block["text"]["text"])
        found += [e["text"] for e in block.get("elements", []) if e["type"] == "mrkdwn"]
    return found


# Whatever is in angle brackets must be a link watcher made: an http(s) URL and a title.
OUR_LINK = re.compile(r"<https?://[^\s<>|]+\|[^<>]*>")


def assert_inert(payload: dict[str, Any]) -> None:
    """No mrkdwn control character is left but our links and the blockquote markers."""
    for text in mrkdwn_texts(payload):
        rest = re.sub(r"^>", "", OUR_LINK.sub("", text), flags=re.MULTILINE)
        assert "<" not in rest and ">" not in rest, text


# -- config ----------------------------------------------------------------------------


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    # A JSON string or list of strings is a valid TOML basic string or array.
    return json.dumps(value)


def _table(name: str, values: dict[str, Any]) -> list[str]:
    return [f"[{name}]", *(f"{k} = {_toml(v)}" for k, v in values.items())]


def email_channel(port: int, **overrides: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": SENDER,
        "to": ["ana@example.org"],
        "timeout": 2,
        "immediate": "all",
        **overrides,
    }


def slack_channel(**overrides: Any) -> dict[str, Any]:
    return {"webhook_env": WEBHOOK_ENV, "timeout": 2, "immediate": "all", **overrides}


def write_config(
    tmp_path: Path,
    feeds: Sequence[str],
    *,
    email: dict[str, Any] | None = None,
    slack: dict[str, Any] | None = None,
    apprise: Sequence[dict[str, Any]] = (),
    **notify: Any,
) -> Path:
    """A config file watching ``feeds`` (one source each) and alerting on the given channels."""
    lines = _table("state", {"path": "state.db"})
    lines += _table(
        "http",
        {
            "allow_private_addresses": True,
            "per_host_delay": 0,
            "retries": 0,
            "read_timeout": 2,
        },
    )
    lines += _table("notify", {"retry_backoff": 60, "retry_max": 3600, "max_attempts": 5, **notify})
    if email is not None:
        lines += _table("notify.email", email)
    if slack is not None:
        lines += _table("notify.slack", slack)
    for channel in apprise:
        lines += ["[[notify.apprise]]", *(f"{k} = {_toml(v)}" for k, v in channel.items())]
    for number, url in enumerate(feeds):
        # The feeds' titles are made up: every item is fetched (the pre-filter of
        # fetch = "relevant" has tests of its own in test_relevance.py).
        lines += ["[[sources]]", f'name = "site{number}"', f"url = {_toml(url)}", 'fetch = "all"']
    path = tmp_path / "watcher.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def open_state(config_path: Path) -> Store:
    return open_store(load_config(config_path).database_url())


@contextmanager
def dispatcher(config_path: Path, environ: dict[str, str] | None = None) -> Iterator[Dispatcher]:
    """The dispatcher `watcher check` uses, on the same state database."""
    config = load_config(config_path)
    store = open_store(config.database_url())
    try:
        renderer = load_templates(config.templates_path(), with_story=config.several_stories)
        with Dispatcher(config, store, renderer, environ=environ) as sender:
            yield sender
    finally:
        store.close()
