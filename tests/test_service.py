"""`watcher run` as a real subprocess against feeds on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support import WATCHER
from tests.support.checks import ARTICLE, rss, write_config
from tests.support.daemon import Daemon, NotifyListener, fast_config, status, wait_for
from tests.support.loopback import LoopbackServer, Response
from watcher.service.leases import jitter_for


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[NotifyListener]:
    listener = NotifyListener(tmp_path / "notify.sock")
    yield listener
    listener.close()


@pytest.mark.slow
def test_daemon_polls_reports_ready_and_stops_cleanly(
    tmp_path: Path, server: LoopbackServer, notify_socket: NotifyListener
) -> None:
    server.route("/feed.xml", rss(server.base_url, "one"))
    server.route("/a/one.html", ARTICLE.format(title="Story one", day=1))
    server.route("/a/two.html", ARTICLE.format(title="Story two", day=2))
    config = fast_config(tmp_path, server)
    daemon = Daemon(config, notify_socket.path)
    try:
        wait_for(lambda: server.hits("/a/one.html"), 15, "the first poll")
        # An article added to the feed is fetched within about one interval.
        server.route("/feed.xml", rss(server.base_url, "two", "one"))
        wait_for(lambda: server.hits("/a/two.html"), 6, "the new article")
        wait_for(lambda: (status(config)["daemon"] or {}).get("passes", 0) >= 2, 10, "status")
    finally:
        code, err = daemon.stop()
    assert code == 0, err
    notes = "\n".join(notify_socket.messages)
    assert "READY=1" in notes and "STATUS=1 sources" in notes and "WATCHDOG=1" in notes
    assert "0 pending alerts" in notes
    state = status(config)
    assert state["sources"][0]["items_seen"] == 2
    assert state["daemon"]["stopped"]
    assert server.hits("/a/one.html") == 1


@pytest.mark.slow
def test_sigterm_mid_job_still_exits_0(
    tmp_path: Path, server: LoopbackServer, notify_socket
) -> None:
    server.route("/feed.xml", rss(server.base_url, "slow"))
    server.route("/a/slow.html", Response(ARTICLE.format(title="Slow", day=1).encode(), delay=0.8))
    config = fast_config(tmp_path, server)
    daemon = Daemon(config, notify_socket.path)
    wait_for(lambda: server.hits("/a/slow.html"), 15, "the slow article to be requested")
    started = time.monotonic()
    code, err = daemon.stop()
    assert code == 0, err
    assert time.monotonic() - started < 8


def _blocked_signals(task: Path) -> int:
    status = (task / "status").read_text()
    return int(re.search(r"^SigBlk:\s*([0-9a-f]+)$", status, re.M).group(1), 16)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_every_daemon_thread_blocks_the_signals_it_waits_for(
    tmp_path: Path, server: LoopbackServer, notify_socket
) -> None:
    """A thread that does not block SIGTERM is killed by it (exit -15, nothing shut down)
    whenever the kernel hands the signal to that thread rather than the main one."""
    server.route("/feed.xml", rss(server.base_url))
    daemon = Daemon(fast_config(tmp_path, server), notify_socket.path)
    try:
        wait_for(lambda: server.hits("/feed.xml"), 15, "the first poll")
        pid = daemon.process.pid
        # The main thread unblocks them only while it waits in sigtimedwait.
        tasks = [t for t in Path(f"/proc/{pid}/task").iterdir() if t.name != str(pid)]
        assert tasks  # the network loop, the scheduler, the writer...
        wanted = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
        for task in tasks:
            blocked = _blocked_signals(task)
            assert all(blocked & (1 << (sig - 1)) for sig in wanted), task.name
    finally:
        code, err = daemon.stop()
    assert code == 0, err


@pytest.mark.slow
def test_sighup_with_bad_config_keeps_running(
    tmp_path: Path, server: LoopbackServer, notify_socket
) -> None:
    server.route("/feed.xml", rss(server.base_url))
    config = fast_config(tmp_path, server)
    daemon = Daemon(config, notify_socket.path)
    try:
        wait_for(lambda: server.hits("/feed.xml"), 15, "the first poll")
        good = config.read_text()
        config.write_text(good + "nonsense = 1\n")
        daemon.process.send_signal(signal.SIGHUP)
        before = server.hits("/feed.xml")
        wait_for(lambda: server.hits("/feed.xml") >= before + 2, 10, "polls after a bad reload")
        assert daemon.process.poll() is None
        # A good config with a new source takes effect on the next SIGHUP.
        server.route("/other.xml", rss(server.base_url))
        config.write_text(
            good
            + f'[[sources]]\nname = "other"\ninterval = 1\nurl = "{server.url("/other.xml")}"\n'
        )
        daemon.process.send_signal(signal.SIGHUP)
        wait_for(lambda: server.hits("/other.xml"), 10, "the added source to be polled")
    finally:
        code, err = daemon.stop()
    assert code == 0
    assert "reload refused" in err and "nonsense: unknown key" in err


@pytest.mark.slow
def test_a_poll_still_running_is_skipped_in_plain_words(
    tmp_path: Path, server: LoopbackServer, notify_socket: NotifyListener
) -> None:
    server.route("/feed.xml", Response(rss(server.base_url).encode(), delay=2.5))
    config = fast_config(tmp_path, server)
    # Each poll takes 2.5 s (not cut short by the read timeout); its interval is 1 s.
    config.write_text(config.read_text().replace("read_timeout = 1\n", "read_timeout = 5\n"))
    daemon = Daemon(config, notify_socket.path)
    try:
        wait_for(lambda: "skipped" in daemon.log.read_text(), 15, "a skipped turn")
    finally:
        code, err = daemon.stop()
    assert code == 0
    assert re.search(r"poll wire: still running at its next turn; skipped (one|\d+) turns?", err)
    assert "maximum number of running instances" not in err


@pytest.mark.slow
def test_run_with_no_enabled_source_is_refused_like_check(tmp_path: Path) -> None:
    config = tmp_path / "watcher.toml"
    config.write_text(
        '[state]\npath = "s.db"\n[[sources]]\nname = "a"\nurl = "https://a.example/f"\n'
        "enabled = false\n"
    )
    result = subprocess.run(
        [*WATCHER, "run", "--config", str(config)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr == f"watcher: error: {config}: sources: no enabled source to poll\n"


@pytest.mark.slow
def test_a_topic_edited_before_sighup_is_read_with_its_new_facts(
    tmp_path: Path, server: LoopbackServer
) -> None:
    from tests.support.alerting import BASE_101, publish
    from watcher.config import load_config
    from watcher.resources import resource_path
    from watcher.service.daemon import Service
    from watcher.service.sdnotify import Notifier

    shipped = (resource_path("config") / "topics" / "niger-us-withdrawal.toml").read_text()
    topic = tmp_path / "story.toml"
    topic.write_text(shipped)
    publish(server, BASE_101)
    config = fast_config(tmp_path, server)
    # A topic of one's own needs seeds of its own: the shipped ones, by path.
    seeds = resource_path("seeds")
    config.write_text(f'topic = "story.toml"\n[facts]\nseeds = "{seeds}"\n' + config.read_text())
    service = Service(str(config), load_config(config), Notifier(""))
    try:
        # Air Base 101 is dropped from the topic file, which keeps its path; then SIGHUP.
        blocks = shipped.split("\n\n")
        kept = [b for b in blocks if not b.startswith('[[bases]]\nid = "air_base_101"')]
        assert len(kept) == len(blocks) - 1
        topic.write_text("\n\n".join(kept))
        assert service.reload()
        [source] = service.poll(service.config.sources[0]).sources
    finally:
        service.close()
    # Read with the old topic, the article's Air Base 101 was a fact the new one does
    # not know, and the source failed as "internal error" until a restart.
    assert (source.status, source.error) == ("new", None)
    assert "bases.air_base_101.status" not in {c.change.key for c in source.changes}


@pytest.mark.slow
def test_polls_at_the_same_moment_share_the_per_host_limits(
    tmp_path: Path, server: LoopbackServer
) -> None:
    from watcher.config import load_config
    from watcher.service.daemon import Service
    from watcher.service.sdnotify import Notifier

    feeds = {name: f"/{name}.xml" for name in ("one", "two", "three")}
    for path in feeds.values():
        server.route(path, Response(rss(server.base_url).encode(), delay=0.2))
    config = write_config(tmp_path, server, feeds, per_host_delay=0.5, per_host_concurrency=1)
    service = Service(str(config), load_config(config), Notifier(""))
    try:
        # Three scheduler threads fire at once, as three jobs due together do.
        polls = [
            threading.Thread(target=service.poll, args=(source,))
            for source in service.config.sources
        ]
        for poll in polls:
            poll.start()
        for poll in polls:
            poll.join(timeout=30)
    finally:
        service.close()
    starts = sorted(r.at for r in server.requests)
    assert len(starts) == 3
    # One at a time (each answer takes 0.2 s) and half a second apart, as one pass would.
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert all(gap >= 0.45 for gap in gaps), gaps


@pytest.mark.slow
def test_a_write_waiting_for_another_process_holds_up_no_fetch(
    tmp_path: Path, server: LoopbackServer
) -> None:
    import sqlite3

    from watcher.config import load_config
    from watcher.service.check import Checker
    from watcher.store import open_store

    server.route("/fast.xml", rss(server.base_url, "one"))
    server.route("/slow.xml", Response(rss(server.base_url, "two").encode(), delay=0.3))
    server.route("/a/one.html", ARTICLE.format(title="Story one", day=1))
    server.route("/a/two.html", ARTICLE.format(title="Story two", day=2))
    config_path = write_config(tmp_path, server, {"fast": "/fast.xml", "slow": "/slow.xml"})
    config = load_config(config_path)
    store = open_store(config.database_url())
    checker = Checker(config, store)
    asyncio.run(checker.run([]))  # the baseline is in place; nothing else is written yet

    locked, released = threading.Event(), []

    def another_writer() -> None:
        with sqlite3.connect(tmp_path / "state.db", isolation_level=None) as other:
            other.execute("BEGIN IMMEDIATE")
            locked.set()
            time.sleep(1.5)
            released.append(time.monotonic())
            other.execute("COMMIT")

    holder = threading.Thread(target=another_writer)
    holder.start()
    locked.wait(5)
    try:
        report = asyncio.run(checker.run())
    finally:
        holder.join()
        store.close()
    # The fast source's write waited for the lock; meanwhile the slow source went on.
    [second_article] = [r.at for r in server.requests if r.path == "/a/two.html"]
    assert second_article < released[0] - 0.5
    assert report.new_articles == 2 and not report.failed_sources


@pytest.mark.slow
def test_the_log_says_what_changed_what_was_sent_and_what_a_reload_changed(
    tmp_path: Path,
    server: LoopbackServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.support.alerting import WEBHOOK_ENV, Webhook
    from tests.support.checks import HANDOVER, publish
    from watcher.config import load_config
    from watcher.service.daemon import Service
    from watcher.service.sdnotify import Notifier

    hook = Webhook()
    monkeypatch.setenv(WEBHOOK_ENV, hook.url)
    publish(server, {"handover": HANDOVER})
    config = fast_config(tmp_path, server)
    config.write_text(
        config.read_text()
        + f'[notify.slack]\nwebhook_env = "{WEBHOOK_ENV}"\nimmediate = "all"\ndigest = "none"\n'
    )
    service = Service(str(config), load_config(config), Notifier(""))
    caplog.set_level(logging.INFO, logger="watcher")
    try:
        service._schedule_sources()
        service.poll(service.config.sources[0])
        readers = service.prepared.readers
        config.write_text(config.read_text().replace("interval = 1\n", 'interval = "2m"\n'))
        assert service.reload()
        assert service.prepared.readers is readers  # the same topic: its workers stay
    finally:
        service.close()
        hook.stop()
    lines = [r.getMessage() for r in caplog.records]
    change = "Air Base 201 (Agadez): operating -> handed over"
    assert f"wire: {change} (reported, new)" in lines
    assert f"alert 1 sent on slack: {change} (reported)" in lines
    assert "polling wire every 120s now (was 1s)" in lines


@pytest.mark.slow
def test_status_shows_readable_times_and_no_schedule_for_a_stopped_daemon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from freezegun import freeze_time

    from watcher.cli.main import main
    from watcher.config import load_config
    from watcher.store import open_store

    config = tmp_path / "watcher.toml"
    config.write_text(
        '[state]\npath = "s.db"\n[[sources]]\nname = "a"\nurl = "https://a.example/f"\n'
    )
    running = {
        "pid": 4242,
        "started": "2024-08-05T11:00:00.123456+00:00",
        "updated": "2024-08-05T12:00:00.654321+00:00",
        "last_pass": "2024-08-05T11:59:30.111111+00:00",
        "passes": 3,
        "errors": 0,
        "next_runs": {"poll:a": "2024-08-05T12:14:00.999999+00:00"},
    }

    def status_at(moment: str, daemon: dict) -> str:
        store = open_store(load_config(config).database_url())
        store.set_meta("daemon", json.dumps(daemon))
        store.close()
        with freeze_time(moment):
            assert main(["status", "--config", str(config)]) == 0
        return capsys.readouterr().out

    live = status_at("2024-08-05 12:00:05", running)
    assert "daemon: pid 4242, started 2024-08-05 11:00:00 UTC (1.0 h ago)" in live
    assert "last pass 2024-08-05 11:59:30 UTC (35 s ago)" in live
    assert "next poll:a: 2024-08-05 12:14:00 UTC (in 14 min)" in live
    assert not re.search(r"\d\.\d{6}", live)  # no microseconds anywhere
    stopped = status_at("2024-08-05 13:00:00", {**running, "stopped": "2024-08-05T12:01:00+00:00"})
    assert "daemon: stopped 2024-08-05 12:01:00 UTC (59 min ago)" in stopped
    assert "next" not in stopped
    gone = status_at("2024-08-05 13:00:00", running)  # killed: it never said it stopped
    assert "not running" in gone and "next" not in gone


def test_jitter_is_a_tenth_of_the_interval_capped_at_a_minute() -> None:
    assert jitter_for(30) == 3
    assert jitter_for(3600) == 60


def test_digest_jobs_fire_at_local_time_across_daylight_saving(tmp_path: Path) -> None:
    from datetime import timedelta

    from freezegun import freeze_time

    from watcher.config import load_config
    from watcher.service.daemon import Service
    from watcher.service.sdnotify import Notifier

    config_path = tmp_path / "watcher.toml"
    config_path.write_text(
        '[state]\npath = "s.db"\n'
        '[[sources]]\nname = "a"\nurl = "https://a.example/feed"\n'
        '[notify]\ntimezone = "Europe/Paris"\n'
        '[notify.slack]\ndigest = "daily"\ndigest_at = 08:00:00\n'
        '[notify.email]\nhost = "mail.example"\nsender = "w@example.org"\n'
        'to = ["a@example.org"]\ndigest = "weekly"\ndigest_day = "fri"\n'
        '[[notify.apprise]]\nname = "ntfy"\nurl_env = "NTFY_URL"\ndigest = "none"\n'
    )
    with freeze_time("2024-03-30 12:00:00"):
        service = Service(str(config_path), load_config(config_path), Notifier(""))
        service.scheduler.start(paused=True)
        service._schedule_notifications()
        jobs = {job.id: job for job in service.scheduler.get_jobs()}
        assert {"dispatch", "digest:slack", "digest:email"} <= set(jobs)
        assert "digest:apprise:ntfy" not in jobs
        daily = jobs["digest:slack"].trigger
        # 08:00 in Paris is 07:00 UTC before the spring change and 06:00 UTC after it.
        first = daily.get_next_fire_time(None, datetime(2024, 3, 30, 12, tzinfo=UTC))
        second = daily.get_next_fire_time(first, first + timedelta(seconds=1))
        assert first.astimezone(UTC) == datetime(2024, 3, 31, 6, tzinfo=UTC)
        assert second.astimezone(UTC) == datetime(2024, 4, 1, 6, tzinfo=UTC)
        before = daily.get_next_fire_time(None, datetime(2024, 3, 29, 12, tzinfo=UTC))
        assert before.astimezone(UTC) == datetime(2024, 3, 30, 7, tzinfo=UTC)
        weekly = jobs["digest:email"].trigger
        friday = weekly.get_next_fire_time(None, datetime(2024, 3, 30, 12, tzinfo=UTC))
        assert friday.astimezone(UTC) == datetime(2024, 4, 5, 6, tzinfo=UTC)
        service.scheduler.shutdown(wait=False)
        service.close()


@pytest.mark.slow
def test_daemon_alerts_a_fact_change_within_one_interval(
    tmp_path: Path, server: LoopbackServer, notify_socket: NotifyListener
) -> None:
    from tests.support.alerting import WEBHOOK_ENV, Webhook
    from tests.support.checks import HANDOVER, RESTATEMENT, publish

    hook = Webhook()
    publish(server, {"restatement": RESTATEMENT})
    config = fast_config(tmp_path, server)
    config.write_text(
        config.read_text()
        + f'[notify.slack]\nwebhook_env = "{WEBHOOK_ENV}"\nimmediate = "all"\ndigest = "none"\n'
    )
    os.environ[WEBHOOK_ENV] = hook.url
    try:
        daemon = Daemon(config, notify_socket.path)
        wait_for(lambda: server.hits("/a/restatement.html"), 15, "the first poll")
        publish(server, {"restatement": RESTATEMENT, "handover": HANDOVER})
        wait_for(lambda: hook.posts, 8, "the alert")
        time.sleep(2.5)  # two more polls: nothing is sent twice
        code, err = daemon.stop()
    finally:
        os.environ.pop(WEBHOOK_ENV, None)
        hook.stop()
    assert code == 0, err
    # The base handed over, and the withdrawal under way: one alert each, once.
    texts = sorted(post["text"] for post in hook.posts)
    assert len(texts) == 2
    assert texts[0].startswith(
        "Air Base 201 (Agadez): operating → handed over (reported by 1 source)"
    )
    assert texts[1].startswith("US withdrawal: agreed → in progress (reported by 1 source)")
    assert "pending alerts" in "\n".join(notify_socket.messages)


@pytest.mark.slow
def test_daemon_stops_when_its_database_is_deleted(
    tmp_path: Path, server: LoopbackServer, notify_socket: NotifyListener
) -> None:
    """It would go on writing into the unlinked file; it stops with status 2 instead, so
    that systemd's Restart=on-failure starts it again on whatever file is there now."""
    server.route("/feed.xml", rss(server.base_url, "one"))
    server.route("/a/one.html", ARTICLE.format(title="Story one", day=1))
    config = fast_config(tmp_path, server)
    daemon = Daemon(config, notify_socket.path)
    try:
        wait_for(lambda: server.hits("/a/one.html"), 15, "the first poll")
        (tmp_path / "state.db").unlink()
        daemon.process.wait(timeout=20)
    finally:
        if daemon.process.poll() is None:
            daemon.stop()
    log = daemon.log.read_text()
    assert daemon.process.returncode == 2, log
    assert any(
        line.endswith(
            "stopping: "
            f"{tmp_path / 'state.db'}: the state database was deleted or replaced while "
            "watcher was using it; nothing more was written to it"
        )
        for line in log.splitlines()
    ), log
    assert "Traceback" not in log
