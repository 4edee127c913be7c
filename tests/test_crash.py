"""Crash safety: `watcher check` killed at random moments loses nothing and repeats nothing."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.support.alerting import WEBHOOK_ENV, Webhook
from tests.support.checks import EARLY_COMPLETION, FRANCE, HANDOVER, RESTATEMENT, feed, page
from tests.support.loopback import LoopbackServer

pytestmark = pytest.mark.slow


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.stop()


def texts(webhook: Webhook, since: int = 0) -> list[str]:
    """The text of every message the webhook took, from post ``since`` on."""
    return [post["text"] for post in webhook.posts[since:]]


def serve(server: LoopbackServer) -> None:
    wire = {"handover": HANDOVER, "france": FRANCE}
    dispatch = {"done": EARLY_COMPLETION, "restatement": RESTATEMENT}
    for slug, story in {**wire, **dispatch}.items():
        server.route(f"/a/{slug}.html", page(story))
    server.route("/wire.xml", feed(server.base_url, list(wire)))
    server.route("/dispatch.xml", feed(server.base_url, list(dispatch)))


def make_config(folder: Path, server: LoopbackServer, database: str | None = None) -> Path:
    """A config for a run of its own: an SQLite file in ``folder``, or ``database``."""
    folder.mkdir()
    config = folder / "watcher.toml"
    state = f'url = "{database}"' if database else 'path = "state.db"'
    config.write_text(
        f"[state]\n{state}\n"
        "[http]\nallow_private_addresses = true\nper_host_delay = 0\nretries = 0\n"
        f'[notify.slack]\nwebhook_env = "{WEBHOOK_ENV}"\nimmediate = "all"\ndigest = "none"\n'
        f'[[sources]]\nname = "wire"\nurl = "{server.url("/wire.xml")}"\nfetch = "all"\n'
        f'[[sources]]\nname = "dispatch"\nurl = "{server.url("/dispatch.xml")}"\nfetch = "all"\n'
    )
    return config


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def new_database(request: pytest.FixtureRequest) -> Iterator[Callable[[], str | None]]:
    """Gives a new, empty state database for each run: None for an SQLite file beside the
    config, else a PostgreSQL database of its own."""
    if request.param == "sqlite":
        yield lambda: None
        return
    cluster = request.getfixturevalue("postgres")
    made: list[str] = []

    def new() -> str:
        made.append(cluster.create_database())
        return cluster.url(made[-1])

    yield new
    for name in made:
        cluster.drop_database(name)


def check(config: Path, webhook: Webhook) -> subprocess.Popen[str]:
    env = {**os.environ, WEBHOOK_ENV: webhook.url}
    return subprocess.Popen(
        [sys.executable, "-m", "watcher", "check", "--config", str(config), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def settle(config: Path, webhook: Webhook) -> None:
    """Run checks until one finds nothing new, as a user (or the timer) would."""
    for _ in range(5):
        process = check(config, webhook)
        _, err = process.communicate(timeout=60)
        assert process.returncode in (0, 1), err
        if process.returncode == 0:
            return
    raise AssertionError("checks never settled")


def _fact(data: dict) -> tuple:
    """What a fact says, whatever order its sources arrived in."""
    change = data["change"]
    return (
        data["value"],
        data["qualifier"],
        data["as_of"],
        data["origin"],
        sorted(e["url"] for e in data["sources"]),
        (change["identity"], change["status"]) if change else None,
        sorted((c["identity"], c["status"]) for c in data["conflicts"]),
    )


def database_url(config: Path) -> str:
    text = config.read_text()
    found = re.search(r'^\[state\]\nurl = "(.*)"$', text, re.MULTILINE)
    return found.group(1) if found else f"sqlite:///{config.parent / 'state.db'}"


def state(config: Path) -> dict[str, object]:
    url = database_url(config)
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            if url.startswith("sqlite"):
                assert db.exec_driver_sql("pragma integrity_check").one() == ("ok",)
            knowledge = {
                key: _fact(json.loads(data))
                for key, data in db.exec_driver_sql("select key, data from knowledge")
            }
            # Changes an older article, arriving later, redrew the path around (superseded)
            # depend on arrival order; the path itself does not.
            changes = db.exec_driver_sql(
                "select identity, status from changes where status != 'superseded'"
            ).all()
            return {
                "articles": sorted(r[0] for r in db.exec_driver_sql("select url from articles")),
                "changes": sorted(tuple(row) for row in changes),
                "knowledge": knowledge,
                "alerts": sorted(
                    _news(*row) for row in db.exec_driver_sql("select channel, payload from alerts")
                ),
                "alert_states": dict(
                    tuple(row)
                    for row in db.exec_driver_sql("select idempotency_key, state from alerts")
                ),
            }
    finally:
        engine.dispose()


def _news(channel: str, payload: str) -> tuple:
    """What an alert tells: which fact now has which value, how sure. Which value it moved
    from depends on which article arrived first; each piece of news is sent once."""
    change = json.loads(payload)
    return (channel, change["key"], change["new"], change["status"])


def test_check_killed_at_random_moments_ends_like_an_uninterrupted_run(
    tmp_path: Path, server: LoopbackServer, webhook: Webhook, new_database: Callable[[], str | None]
) -> None:
    serve(server)
    reference_config = make_config(tmp_path / "reference", server, new_database())
    started = time.monotonic()
    settle(reference_config, webhook)
    full_run = time.monotonic() - started
    reference = state(reference_config)
    assert reference["changes"] and set(reference["alert_states"].values()) == {"sent"}
    assert len(texts(webhook)) == len(reference["alerts"])

    chance = random.Random(20240805)
    for attempt in range(8):
        start = len(webhook.posts)
        config = make_config(tmp_path / f"run{attempt}", server, new_database())
        process = check(config, webhook)
        time.sleep(chance.uniform(0.2, full_run))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        settle(config, webhook)
        after = state(config)
        # Nothing lost: the same articles, changes, knowledge and alerts.
        for part in ("articles", "changes", "knowledge", "alerts"):
            assert after[part] == reference[part], (attempt, part)
        # Nothing twice: no message arrived more than once; every sent alert arrived.
        received = texts(webhook, start)
        assert max(Counter(received).values(), default=1) == 1, received
        states = Counter(after["alert_states"].values())
        assert states["sent"] <= len(received) <= states["sent"] + states["sending"]
        assert set(states) <= {"sent", "sending"}


def test_two_checks_at_once_share_the_database_safely(
    tmp_path: Path, server: LoopbackServer, webhook: Webhook, new_database: Callable[[], str | None]
) -> None:
    serve(server)
    config = make_config(tmp_path / "both", server, new_database())
    first, second = check(config, webhook), check(config, webhook)
    for process in (first, second):
        _, err = process.communicate(timeout=60)
        assert process.returncode in (0, 1), err
        assert "Traceback" not in err
    settle(config, webhook)
    after = state(config)
    assert set(after["alert_states"].values()) == {"sent"}
    # Each change reported once, each alert delivered once, whoever found it.
    received = texts(webhook)
    assert len(received) == len(after["alerts"]) == len(set(received))
    identities = [identity for identity, _ in after["changes"]]
    assert len(identities) == len(set(identities))
