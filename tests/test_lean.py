"""What a pass loads and keeps: nothing it does not need.

A check where every feed answers 304 reads no page, so it must not import the
extractor (trafilatura, lxml), the templates (jinja2), feedparser or the
worker machinery, nor on SQLite the PostgreSQL dialect; `watcher --version`
imports nothing of the library.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event

from tests.support.checks import rss, serve_articles, with_etag, write_config
from tests.support.loopback import LoopbackServer
from watcher.alerts.health import HealthEvent
from watcher.alerts.outbox import enqueue_health
from watcher.cli.main import main
from watcher.cli.parser import EVAL_SPLITS
from watcher.config import load_config
from watcher.facts.corpus import Split
from watcher.service.check import run_check
from watcher.store import open_store

HEAVY = (
    "trafilatura",
    "lxml",
    "jinja2",
    "feedparser",
    "watcher.service.workers",
    "sqlalchemy.dialects.postgresql",
)


def loaded_after(argv: list[str], cwd: Path) -> tuple[int, list[str]]:
    """Run ``watcher ARGV`` in a fresh interpreter; its exit status and which of
    HEAVY it imported."""
    script = (
        "import json, sys\n"
        "from watcher.cli.main import main\n"
        "try:\n"
        f"    code = main({argv!r})\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        f"print(json.dumps([code, [m for m in {HEAVY!r} if m in sys.modules]]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, timeout=120
    )
    code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    return code, loaded


@pytest.mark.slow
@pytest.mark.parametrize("conditional", [True, False], ids=["304", "same-body"])
def test_a_pass_where_every_feed_is_unchanged_imports_no_parser_extractor_nor_templates(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str], conditional: bool
) -> None:
    """Unchanged is a 304, or the same bytes as last time (a server that ignores
    conditional GET): neither is parsed, so no parser is imported to tell what they are."""
    feed = rss(server.base_url, "one")
    server.route("/feed.xml", with_etag(feed) if conditional else feed)
    serve_articles(server, "one")
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    assert main(["check", "--config", str(config)]) == 1  # reads the article
    capsys.readouterr()

    code, loaded = loaded_after(["check", "--config", str(config)], tmp_path)
    assert code == 0
    assert loaded == []
    assert server.hits("/feed.xml") == 2


def test_version_imports_nothing_of_the_library(tmp_path: Path) -> None:
    code, loaded = loaded_after(["--version"], tmp_path)
    assert code == 0
    assert loaded == []


def test_the_parser_offers_the_corpus_splits() -> None:
    assert tuple(split.value for split in Split) == EVAL_SPLITS


def test_templates_load_when_there_is_something_to_send_and_a_broken_one_stops_it(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pass with nothing to send never reads the templates; one with an alert due
    finds the broken template, exits 2 naming it, and keeps the alert for later."""
    server.route("/feed.xml", with_etag(rss(server.base_url)))
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    (tmp_path / "mytemplates").mkdir()
    (tmp_path / "mytemplates" / "alert.txt.j2").write_text("{{ change.label }\n")
    with config.open("a") as file:
        file.write(
            '[notify]\ntemplates = "mytemplates"\n'
            '[notify.slack]\nwebhook_env = "WATCHER_TEST_WEBHOOK"\nimmediate = "all"\n'
        )
    assert main(["check", "--config", str(config)]) == 0  # nothing to send: no template read

    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    now = datetime.now(UTC)
    event = HealthEvent("wire", server.url("/feed.xml"), "failing", "HTTP 500", now)
    with store.transaction() as conn:
        assert enqueue_health(conn, event, load_config(config).notify.channels(), at=now)
    capsys.readouterr()
    assert main(["check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("watcher: error: templates: ") and "alert.txt.j2:1" in err, err
    assert store.alert_counts() == {"pending": 1}
    store.close()


@pytest.mark.slow
def test_sources_with_nothing_new_are_recorded_in_one_transaction(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bookkeeping of a warm pass (validators, last success, counters, health) is
    one transaction for all its unchanged sources, not one per source."""
    feeds = {f"feed-{n}": f"/feed-{n}.xml" for n in range(30)}
    for path in feeds.values():
        server.route(path, with_etag(rss(server.base_url)))
    config = load_config(write_config(tmp_path, server, feeds))
    store = open_store(config.database_url())
    commits: list[int] = []
    event.listen(store.engine, "commit", lambda conn: commits.append(1))
    try:
        first = run_check(config, store)
        assert {s.status for s in first.sources} == {"nothing_new"}
        commits.clear()
        second = run_check(config, store)
        assert {s.status for s in second.sources} == {"not_modified"}
        # the baseline is in place: the sources' batch, then the pass's duration
        assert len(commits) <= 3, len(commits)
        states = store.all_sources()
        assert len(states) == 30
        assert all(s.last_success is not None and s.etag == '"v1"' for s in states)
    finally:
        store.close()
