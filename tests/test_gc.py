"""`watcher gc`: old article text goes; facts, observations, changes and seen items stay."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from tests.support.checks import HANDOVER, RESTATEMENT, page, publish, run, write_config
from tests.support.loopback import LoopbackServer
from watcher.cli.main import main


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]


@pytest.mark.slow
def test_gc_prunes_text_but_keeps_facts_changes_and_seen_items(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(server, {"handover": HANDOVER})
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    run(config, capsys)
    db = tmp_path / "state.db"
    assert count(db, "articles") == 1 and count(db, "observations") >= 1

    # Within the retention (90 days by default) nothing goes.
    with freeze_time(datetime.now(UTC) + timedelta(days=30)):
        assert main(["gc", "--config", str(config), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"]["articles"] == 0
    assert count(db, "articles") == 1

    with freeze_time(datetime.now(UTC) + timedelta(days=91)):
        assert main(["gc", "--config", str(config), "--vacuum", "--json"]) == 0
    removed = json.loads(capsys.readouterr().out)["removed"]
    assert removed["articles"] == 1 and "observations" not in removed
    # Observations stay: knowledge is folded from them when an older article arrives late.
    assert count(db, "articles") == 0 and count(db, "observations") >= 1
    # The base handed over and the withdrawal under way: both kept.
    assert count(db, "changes") == 2 and count(db, "knowledge") > 0

    # The pruned article is not fetched again; only the new one is.
    server.route("/a/restatement.html", page(RESTATEMENT))
    publish(server, {"handover": HANDOVER, "restatement": RESTATEMENT})
    before = server.hits("/a/handover.html")
    _, report = run(config, capsys)
    assert [a["title"] for a in report["sources"][0]["articles"]] == [RESTATEMENT[0]]
    assert server.hits("/a/handover.html") == before
    assert main(["facts", "--config", str(config), "--json"]) == 0
    facts = {f["key"]: f for f in json.loads(capsys.readouterr().out)["facts"]}
    assert facts["bases.air_base_201.status"]["value"] == "handed_over"
    assert "handed over Air Base 201" in facts["bases.air_base_201.status"]["quote"]


@pytest.mark.slow
def test_check_prunes_once_a_day_as_the_daemon_does(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(server, {"handover": HANDOVER})
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    start = datetime.now(UTC)
    _, first = run(config, capsys)
    assert first["pruned"] and set(first["pruned"].values()) == {0}
    db = tmp_path / "state.db"
    changes = count(db, "changes")
    with freeze_time(start + timedelta(days=91), real_asyncio=True):
        _, later = run(config, capsys)
    assert later["pruned"]["articles"] == 1 and count(db, "articles") == 0
    with freeze_time(start + timedelta(days=91, hours=5), real_asyncio=True):
        _, same_day = run(config, capsys)
    assert same_day["pruned"] is None
    assert count(db, "changes") == changes > 0
