"""`watcher check` reading facts: loopback feeds carry updates and traps."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import feedparser
import pytest

from tests.support.checks import (
    EARLY_COMPLETION,
    FRANCE,
    HANDOVER,
    RESTATEMENT,
    publish,
    run,
    write_config,
)
from tests.support.loopback import LoopbackServer
from watcher.cli.main import main

DRAWDOWN = (
    "US troop numbers in Niger fall",
    "2024-07-20",
    [
        "NIAMEY — About 600 US troops remain in Niger, the Pentagon said on Tuesday, as the "
        "withdrawal proceeds.",
    ],
)


def changes(report: dict) -> dict[str, dict]:
    return {c["key"]: c for c in report["changes"]}


@pytest.mark.slow
def test_update_article_is_reported_once_with_its_quote(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(server, {"restatement": RESTATEMENT, "france": FRANCE})
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    code, report = run(config, capsys)
    # New articles, but the baseline restated and France leaving move no US fact.
    assert code == 1
    assert report["new_articles"] == 2
    assert report["changes"] == []

    publish(server, {"restatement": RESTATEMENT, "france": FRANCE, "handover": HANDOVER})
    code, report = run(config, capsys)
    assert code == 1
    found = changes(report)
    # The base handed over, and with it the withdrawal under way.
    assert set(found) == {"bases.air_base_201.status", "us_forces.withdrawal_status"}
    assert (
        found["us_forces.withdrawal_status"]["old"],
        found["us_forces.withdrawal_status"]["new"],
    ) == (
        "agreed",
        "in progress",
    )
    change = found["bases.air_base_201.status"]
    assert (change["old"], change["new"], change["status"]) == (
        "operating",
        "handed over",
        "reported",
    )
    assert change["as_of"] == "2024-08-05"
    [evidence] = change["evidence"]
    assert evidence["quote"].startswith("AGADEZ, Niger — The United States military handed over")
    assert evidence["url"] == server.url("/a/handover.html")

    code, report = run(config, capsys)
    assert code == 0
    assert report["changes"] == []


@pytest.mark.slow
def test_exit_on_changes_tells_a_fact_change_from_new_articles(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(server, {"france": FRANCE})
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    code, report = run(config, capsys, "--exit-on", "changes")
    assert (code, report["new_articles"], report["changes"]) == (0, 1, [])
    publish(server, {"france": FRANCE, "restatement": RESTATEMENT})
    assert run(config, capsys)[0] == 1  # the default: anything new, like diff
    publish(server, {"france": FRANCE, "restatement": RESTATEMENT, "handover": HANDOVER})
    code, report = run(config, capsys, "--exit-on", "changes")
    assert code == 1 and "bases.air_base_201.status" in changes(report)
    assert main(["check", "--config", str(config), "--exit-on", "changes"]) == 0
    with pytest.raises(SystemExit) as usage:
        main(["check", "--config", str(config), "--exit-on", "sometimes"])
    assert usage.value.code == 2
    assert "invalid choice: 'sometimes'" in capsys.readouterr().err


@pytest.mark.slow
def test_base_handover_and_early_completion_are_the_two_changes(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(server, {"handover": HANDOVER, "done": EARLY_COMPLETION, "france": FRANCE})
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    code, report = run(config, capsys)
    assert code == 1
    found = changes(report)
    # The withdrawal completed implies every base handed over, Air Base 101 included,
    # and none of the roughly 1,000 troops left.
    assert set(found) == {
        "bases.air_base_201.status",
        "bases.air_base_101.status",
        "us_forces.withdrawal_status",
        "us_forces.troop_count",
    }
    assert (found["us_forces.troop_count"]["old"], found["us_forces.troop_count"]["new"]) == (
        "about 1,000",
        "0",
    )
    steps = [
        (c["old"], c["new"]) for c in report["changes"] if c["key"] == "us_forces.withdrawal_status"
    ]
    assert steps == [("agreed", "in progress"), ("in progress", "completed")]
    # The deadline was restated, not changed.
    assert "us_forces.withdrawal_deadline" not in found


@pytest.mark.slow
def test_knowledge_and_changes_are_stored(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(server, {"handover": HANDOVER})
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    run(config, capsys)
    assert main(["facts", "--config", str(config), "--json"]) == 0
    facts = {f["key"]: f for f in json.loads(capsys.readouterr().out)["facts"]}
    base = facts["bases.air_base_201.status"]
    assert (base["value"], base["origin"]) == ("handed_over", "observed")
    assert [r["value"] for r in base["history"]] == ["operating"]
    assert facts["us_forces.withdrawal_deadline"]["origin"] == "seeds"

    with sqlite3.connect(tmp_path / "state.db") as db:
        # The base handed over, and the withdrawal under way.
        assert db.execute("select count(*) from changes").fetchone() == (2,)
        assert db.execute("select count(*) from observations").fetchone()[0] >= 1
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)


@pytest.mark.slow
def test_facts_text_shows_history(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(server, {"handover": HANDOVER})
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    run(config, capsys)
    assert main(["facts", "--config", str(config), "bases.air_base_201.status"]) == 0
    text = capsys.readouterr().out
    assert "Air Base 201 (Agadez) (bases.air_base_201.status): handed over" in text
    assert "before:" in text and "operating" in text
    # Only the fact asked for: no other fact, known or not.
    assert "us_forces." not in text and "unknown" not in text
    assert main(["facts", "--config", str(config), "bases.air_base_101.status"]) == 0
    assert capsys.readouterr().out == "Air Base 101 (Niamey) (bases.air_base_101.status): unknown\n"
    assert main(["facts", "--config", str(config), "no.such.fact"]) == 2
    assert "not a fact of topic" in capsys.readouterr().err


@pytest.mark.slow
def test_text_report_lists_the_change_with_its_source(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(server, {"handover": HANDOVER})
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    assert main(["check", "--config", str(config)]) == 1
    text = capsys.readouterr().out
    assert "* Air Base 201 (Agadez): operating -> handed over [reported by 1 source; new]" in text
    assert server.url("/a/handover.html") in text
    assert "* US withdrawal: agreed -> in progress [reported by 1 source; new]" in text
    assert "2 fact change(s)" in text


@pytest.mark.slow
def test_changes_in_json_carry_machine_values_beside_the_display_text(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(server, {"handover": HANDOVER, "drawdown": DRAWDOWN})
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    _, report = run(config, capsys)
    assert main(["facts", "--config", str(config), "--json"]) == 0
    stored = {c["key"]: c for c in json.loads(capsys.readouterr().out)["changes"]}
    for found in (changes(report), stored):
        count = found["us_forces.troop_count"]
        assert (count["old"], count["new"]) == ("about 1,000", "about 600")
        assert (count["old_value"], count["old_qualifier"]) == (1000, "about")
        assert (count["new_value"], count["new_qualifier"]) == (600, "about")
        base = found["bases.air_base_201.status"]
        assert (base["old"], base["new"]) == ("operating", "handed over")
        assert (base["old_value"], base["new_value"]) == ("operating", "handed_over")


@pytest.mark.slow
def test_a_relative_atom_path_is_written_in_the_state_folder(
    tmp_path: Path,
    server: LoopbackServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As under the shipped unit: the config in /etc/watcher (read-only there), no
    # [state] path, and systemd's $STATE_DIRECTORY for what watcher writes.
    etc, state = tmp_path / "etc", tmp_path / "state"
    etc.mkdir()
    monkeypatch.setenv("STATE_DIRECTORY", str(state))
    publish(server, {"handover": HANDOVER})
    config = write_config(etc, server, {"wire": "/feed.xml"})
    config.write_text(
        config.read_text().replace('[state]\npath = "state.db"\n', "")
        + '[notify]\natom = "changes.atom"\n'
    )
    assert main(["check", "--config", str(config)]) == 1
    assert "cannot write the Atom feed" not in capsys.readouterr().err
    assert sorted(p.name for p in etc.iterdir()) == ["watcher.toml"]
    feed = feedparser.parse(state / "changes.atom")
    [entry] = [e for e in feed.entries if e.title.startswith("Air Base 201")]
    assert entry.link == server.url("/a/handover.html")
    # No notify.atom_url: the feed's own address is the file.
    own = f'rel="self" href="{(state / "changes.atom").as_uri()}"'
    assert own in (state / "changes.atom").read_text()
    assert (state / "watcher.db").exists()
