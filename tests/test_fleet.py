"""Several `watcher run` workers on one PostgreSQL database, as real processes: nothing
polled, stored or sent twice when a worker is killed, or the database goes away."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support import WATCHER
from tests.support.alerting import WEBHOOK_ENV, Webhook
from tests.support.checks import EARLY_COMPLETION, HANDOVER, feed, page
from tests.support.daemon import wait_for
from tests.support.loopback import LoopbackServer, Response
from tests.support.pgcluster import Cluster, Unavailable
from watcher.alerts.notify import Dispatcher
from watcher.alerts.render import load_templates
from watcher.config import load_config
from watcher.service.upkeep import queue_due_digests
from watcher.store import open_store

FILLER = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>F{n}</title>{items}</channel></rss>'
)


def filler_feed(number: int) -> str:
    """A feed of a few items without articles: polling it is cheap, but still a poll."""
    items = "".join(
        f"<item><title>Note {number}-{i}</title>"
        f'<guid isPermaLink="false">{number}-{i}</guid></item>'
        for i in range(3)
    )
    return FILLER.format(n=number, items=items)


def news_feed(server: LoopbackServer, slug: str) -> Response:
    return Response(feed(server.base_url, [slug]).encode(), delay=0.1)


def write_config(
    folder: Path,
    url: str,
    server: LoopbackServer,
    feeds: int,
    *,
    interval: float,
    lease: float,
    digest_at: str | None = None,
    empty_digest: bool = False,
) -> Path:
    digest = f'digest = "daily"\ndigest_at = {digest_at}\n' if digest_at else 'digest = "none"\n'
    if empty_digest:
        digest += "empty_digest = true\n"
    lines = [
        f'[state]\nurl = "{url}"',
        f"[daemon]\nlease = {lease}\npolls_at_once = 8",
        "[http]\nallow_private_addresses = true\nper_host_delay = 0\nper_host_concurrency = 16",
        "retries = 0\nread_timeout = 5\nconnect_timeout = 2",
        "[articles]\nworkers = 1",
        f'[notify.slack]\nwebhook_env = "{WEBHOOK_ENV}"\nimmediate = "all"\n{digest}',
    ]
    for number in range(feeds):
        # The news items are titled with slugs, which name nothing of the story: every
        # item is fetched (fetch = "relevant" would skip them; test_relevance.py tests it).
        lines.append(
            f'[[sources]]\nname = "f{number:03}"\nurl = "{server.url(f"/f/{number}.xml")}"\n'
            f'interval = {interval}\nfetch = "all"'
        )
    config = folder / "watcher.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


class Worker:
    def __init__(self, config: Path, name: str, webhook: Webhook) -> None:
        self.name = name
        self.log = config.parent / f"{name}.log"
        env = {**os.environ, WEBHOOK_ENV: webhook.url}
        env.pop("NOTIFY_SOCKET", None)
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*WATCHER, "run", "--config", str(config), "--name", name, "--log-format", "text"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=40)

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()


def query(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def fetches(server: LoopbackServer, feeds: int) -> dict[int, list[float]]:
    found: dict[int, list[float]] = {n: [] for n in range(feeds)}
    for request in list(server.requests):
        match = re.fullmatch(r"/f/(\d+)\.xml", request.path)
        if match:
            found[int(match.group(1))].append(request.at)
    return found


def polls_recorded(url: str) -> dict[str, int]:
    rows = query(url, "SELECT labels, value FROM counters WHERE name = 'watcher_polls'")
    recorded: Counter[str] = Counter()
    for labels, value in rows:
        recorded[json.loads(labels)["source"]] += int(value)
    return dict(recorded)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.stop()


@pytest.mark.slow
@pytest.mark.postgresql
def test_three_workers_300_feeds_one_killed_each_turn_once_each_alert_once(
    tmp_path: Path, server: LoopbackServer, postgres: Cluster, webhook: Webhook
) -> None:
    feeds, interval, lease = 300, 10.0, 3.0
    for number in range(feeds):
        # Each poll takes a moment, so a worker always has some under way.
        server.route(f"/f/{number}.xml", Response(filler_feed(number).encode(), delay=0.1))
    url = postgres.url(postgres.create_database())
    # The digest is due 25 s in: every worker's schedule fires it.
    digest_at = (datetime.now(UTC) + timedelta(seconds=25)).strftime("%H:%M:%S")
    config = write_config(
        tmp_path, url, server, feeds, interval=interval, lease=lease, digest_at=digest_at
    )
    clock_offset = time.time() - time.monotonic()
    started = time.monotonic()
    workers = [Worker(config, f"w{n}", webhook) for n in (1, 2, 3)]
    victim = workers[0]
    try:
        # News, on two feeds: a base handed over, then confirmed elsewhere with more.
        time.sleep(1.5 * interval)
        news = ((7, "handover", HANDOVER), (150, "done", EARLY_COMPLETION))
        for number, slug, story in news:
            server.route(f"/a/{slug}.html", page(story))
            server.route(f"/f/{number}.xml", news_feed(server, slug))
        time.sleep(0.5 * interval)
        server.route("/a/handover-2.html", page(HANDOVER))
        server.route("/f/151.xml", news_feed(server, "handover-2"))

        # Mid-pass: kill a worker while it holds leases.
        [(victim_id,)] = query(url, "SELECT id FROM workers WHERE name = 'w1'")

        def holding() -> list[str]:
            return [
                r[0]
                for r in query(url, f"SELECT source FROM schedule WHERE worker = '{victim_id}'")
            ]

        held = wait_for(holding, 10, "the worker to be polling")
        victim.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        victim.process.wait(timeout=10)
        time.sleep(started + 5.5 * interval - time.monotonic())
        codes = [worker.stop() for worker in workers[1:]]
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.kill()
    logs = {w.name: w.log.read_text() for w in workers}
    assert codes == [0, 0], logs
    assert not any("Traceback" in log for log in logs.values()), logs

    # Every source polled in every interval, none twice: each turn of a source (turns
    # follow each other at the interval) holds one fetch of its feed, but where the
    # killed worker's poll was under way: its fetch was never recorded, and another
    # worker polled the source again once the lease ran out.
    turns = dict(query(url, "SELECT source, turn_at FROM schedule"))
    recorded = polls_recorded(url)
    doubled = set()
    for number, times in fetches(server, feeds).items():
        name = f"f{number:03}"
        next_turn = turns[name].timestamp() - clock_offset
        windows = Counter(int((next_turn - at) // interval) for at in times if at < next_turn)
        assert all(windows[w] in (1, 2) for w in range(max(windows) + 1)), (name, windows)
        twice = [w for w in windows if windows[w] == 2]
        if twice:
            [window] = twice
            start = next_turn - (window + 1) * interval
            assert name in held and start <= killed <= start + interval, (name, windows)
            doubled.add(name)
        assert recorded[name] == len(times) - len(twice), name
    assert len(doubled) <= 8  # polls_at_once: what one worker can have under way

    # Every change alerted once, every alert sent once; the digest once.
    states = dict(query(url, "SELECT state, count(*) FROM alerts GROUP BY state"))
    assert set(states) == {"sent"}, states
    texts = [post["text"] for post in webhook.posts]
    assert len(texts) == len(set(texts)) == states["sent"], texts
    assert sum("daily digest" in t for t in texts) == 1, texts
    keys = {
        json.loads(payload)["key"]
        for (payload,) in query(url, "SELECT payload FROM alerts WHERE kind = 'change'")
    }
    assert {"bases.air_base_201.status", "us_forces.withdrawal_status"} <= keys

    status = json.loads(
        subprocess.run(
            [*WATCHER, "status", "--config", str(config), "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert sorted((w["name"], w["state"]) for w in status["workers"]) == [
        ("w1", "gone"),
        ("w2", "stopped"),
        ("w3", "stopped"),
    ]


@pytest.fixture
def own_postgres() -> Iterator[Cluster]:
    """A PostgreSQL server of its own, for a test that stops it."""
    try:
        cluster = Cluster.start_new()
    except Unavailable as exc:
        pytest.skip(f"PostgreSQL: {exc}")
    if cluster.given:
        pytest.skip("PostgreSQL: a server given by WATCHER_TEST_POSTGRESQL is not stopped")
    yield cluster
    cluster.destroy()


@pytest.mark.slow
@pytest.mark.postgresql
def test_postgresql_away_for_30_seconds_mid_pass_loses_and_repeats_nothing(
    tmp_path: Path, server: LoopbackServer, own_postgres: Cluster, webhook: Webhook
) -> None:
    feeds, interval = 40, 4.0
    for number in range(feeds):
        server.route(f"/f/{number}.xml", Response(filler_feed(number).encode(), delay=0.2))
    server.route("/a/handover.html", page(HANDOVER))
    server.route("/f/3.xml", feed(server.base_url, ["handover"]))
    url = own_postgres.url(own_postgres.create_database())
    config = write_config(tmp_path, url, server, feeds, interval=interval, lease=3.0)
    workers = [Worker(config, f"w{n}", webhook) for n in (1, 2)]
    try:
        wait_for(lambda: len(webhook.posts) >= 1, 30, "the first alert")
        time.sleep(1.5)  # into the next pass
        own_postgres.stop("immediate")
        # News published while the database is away.
        server.route("/a/done.html", page(EARLY_COMPLETION))
        server.route("/f/20.xml", feed(server.base_url, ["done"]))
        time.sleep(30)
        own_postgres.start()
        back = time.monotonic()
        wait_for(lambda: len(webhook.posts) >= 2, 30, "the alert of the news")
        time.sleep(2 * interval)
        codes = [worker.stop() for worker in workers]
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.kill()
    logs = {w.name: w.lines() for w in workers}
    assert codes == [0, 0], logs
    for lines in logs.values():
        # One line when it went, one when it was back; no traceback, no line per poll.
        away = [line for line in lines if "state database unreachable" in line]
        assert len(away) == 1 and "waiting for it" in away[0], lines
        assert len([line for line in lines if "reachable again" in line]) == 1, lines
        assert not any("Traceback" in line for line in lines), lines
    states = dict(query(url, "SELECT state, count(*) FROM alerts GROUP BY state"))
    assert set(states) == {"sent"}, states
    texts = [post["text"] for post in webhook.posts]
    assert len(texts) == len(set(texts)) == states["sent"], texts
    assert any(t.startswith("US withdrawal: ") and "completed" in t for t in texts), texts
    # Every source was polled again once the database was back.
    for number, times in fetches(server, feeds).items():
        assert any(at > back for at in times), number


def test_every_worker_queuing_the_same_digest_sends_it_once(
    db_url: str, tmp_path: Path, server: LoopbackServer, webhook: Webhook
) -> None:
    """Each worker's schedule fires the digest at the same moment: one is queued, one sent."""
    server.route("/f/0.xml", filler_feed(0))
    digest_at = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%H:%M:%S")
    config_path = write_config(
        tmp_path, db_url, server, 1, interval=60, lease=30, digest_at=digest_at, empty_digest=True
    )
    config = load_config(config_path)
    open_store(db_url).close()
    from watcher.facts.stories import load_stories

    stories = load_stories(config)
    outcomes: list[object] = []

    def worker() -> None:
        store = open_store(db_url)
        try:
            environ = {WEBHOOK_ENV: webhook.url}
            with Dispatcher(config, store, load_templates(), environ=environ) as dispatcher:
                queue_due_digests(config, store, stories, datetime.now(UTC))
                outcomes.append(len(dispatcher.send_due().sent))
        except Exception as exc:
            outcomes.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes, key=str) == [0, 0, 0, 1], outcomes
    assert len(webhook.posts) == 1 and "daily digest" in webhook.posts[0]["text"]
