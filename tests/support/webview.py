"""A database filled by a real replay, and the web view serving it, for the web tests.

Two loopback news sites publish the demo's articles, plus one hostile page
(a `<script>` title, `<!channel>`, a 10,000-character quote) and a link
that is gone; a third source's feed is missing. `watcher check` runs three
times as a real process (after each, more is published: the withdrawal
completed, then a count that disputes it), alerts go to a
loopback webhook (Slack) and to a mail server that is down (email), and
`watcher serve` then serves the database as a real process.
"""

from __future__ import annotations

import html
import json
import os
import queue
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import WATCHER
from tests.support.alerting import (
    AGADEZ,
    BASE_101,
    COMPLETED,
    FRANCE,
    WEBHOOK_ENV,
    Webhook,
    email_channel,
    free_port,
    news_sites,
    publish,
    slack_channel,
    write_config,
)
from tests.support.loopback import LoopbackServer

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "web"

HOSTILE_TITLE = '<script>alert("pwned")</script> <!channel> About 600 US troops remain in Niger'
HOSTILE_MARKUP = "<img src=x onerror=alert(1)>"
FILLER = " ".join(["and officials in Niamey said the drawdown of the contingent went on"] * 140)
HOSTILE_SENTENCE = (
    "WASHINGTON (Wire Report) - The United States has withdrawn roughly 400 of its troops "
    f"from Niger since May, leaving about 600 in the country {HOSTILE_MARKUP} {FILLER}."
)
HOSTILE_PATH = "wire/2024/07/us-troops-600.html"

HOSTILE_PAGE = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{html.escape(HOSTILE_TITLE)}</title>
<meta property="og:title" content="{html.escape(HOSTILE_TITLE)}">
<meta property="article:published_time" content="2024-07-20T09:00:00Z"></head>
<body><article><h1>{html.escape(HOSTILE_TITLE)}</h1>
<p>{html.escape(HOSTILE_SENTENCE)}</p>
<p>The withdrawal is under way in Niger, a US defense official said on Friday.</p>
</article></body></html>"""


@dataclass
class Replay:
    """The replayed state: its config, and what each `watcher check` reported."""

    config: Path
    checks: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # source name: what it holds

    @property
    def changes(self) -> list[dict[str, Any]]:
        return [c for check in self.checks for c in check["changes"]]


def replay(folder: Path) -> Replay:
    """Fill a database in ``folder`` the way a user's checks would."""
    hook = Webhook()
    try:
        with news_sites() as (wire, dispatch):
            missing = LoopbackServer("127.0.0.3").start()
            try:
                return _replay(folder, wire, dispatch, missing, hook)
            finally:
                missing.stop()
    finally:
        hook.stop()


GONE = ("wire/2024/07/gone.html", "<html></html>")
# A count on the same day as the one the fact holds, from another site: a dispute.
DISPUTE = (
    "dispatch/2024/08/us-troops-still-in-niger.html",
    """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>About 100 US troops still in Niger, official says</title>
<meta property="article:published_time" content="2024-08-06T15:00:00Z"></head>
<body><article><h1>About 100 US troops still in Niger, official says</h1>
<p>NIAMEY, Aug. 6 (Wire Report) - About 100 US troops remain in Niger, a Nigerien defense
official said on Tuesday, disputing reports that the last American forces had left.</p>
<p>The official did not say where in Niger the troops were.</p>
</article></body></html>""",
)


def _publish_wire(site: LoopbackServer, *pages: str | tuple[str, str]) -> str:
    """The wire's feed: ``pages``, the hostile page, and a link whose page is gone (404)."""
    feed = publish(site, *pages, (HOSTILE_PATH, HOSTILE_PAGE), GONE)
    site.routes.pop("/" + GONE[0])
    return feed


def _replay(
    folder: Path,
    wire: LoopbackServer,
    dispatch: LoopbackServer,
    missing: LoopbackServer,
    hook: Webhook,
) -> Replay:
    wire_feed = _publish_wire(wire, BASE_101, FRANCE)
    dispatch_feed = publish(dispatch)
    config = write_config(
        folder,
        [wire_feed, dispatch_feed, missing.url("/feed.xml")],
        # Nothing listens there: email alerts wait in the outbox with the error.
        email=email_channel(free_port()),
        slack=slack_channel(),
    )
    result = Replay(config, sources={"site0": "wire", "site1": "dispatch", "site2": "missing"})
    env = {**os.environ, WEBHOOK_ENV: hook.url}
    result.checks.append(check(config, env))
    _publish_wire(wire, BASE_101, FRANCE, COMPLETED)
    publish(dispatch, AGADEZ)
    result.checks.append(check(config, env))
    publish(dispatch, AGADEZ, DISPUTE)
    result.checks.append(check(config, env))
    return result


def check(config: Path, env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(
        [*WATCHER, "check", "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


class Served:
    """`watcher serve` as a real process, on a free loopback port."""

    def __init__(self, config: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [*WATCHER, "serve", "--config", str(config), "--listen", "127.0.0.1:0", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.url = read_url(self.process, "serving ")

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=15)
        return self.process.returncode, err


def read_url(process: subprocess.Popen[str], after: str, timeout: float = 60) -> str:
    """The URL a child prints on the line containing ``after``; fails with its stderr."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            process.kill()
            raise AssertionError(f"no line with {after!r} within {timeout}s") from None
        if not line:
            process.wait(timeout=5)
            err = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"exited {process.returncode} before serving: {err}")
        if after in line:
            return line.split(after, 1)[1].split()[0].rstrip("/")


# Screenshots saved in this session, listed at the end of the run (see conftest.py).
written_artifacts: list[Path] = []


def save_screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot under test-artifacts/web/ (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    written_artifacts.append(path)
    return path
