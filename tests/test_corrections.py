"""A person in the loop: a change rejected, a value set, pins, each undoable.

Real loopback feeds and a real Slack webhook on loopback; every command runs
as `watcher` does, and "across restarts" means a new command each time.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.support.alerting import WEBHOOK_ENV, Webhook
from tests.support.checks import page
from tests.support.loopback import LoopbackServer
from watcher.cli.main import main

BASE_201 = "bases.air_base_201.status"
DEADLINE = "us_forces.withdrawal_deadline"

# A wrong reading: the article misreports the deadline.
WRONG_DEADLINE = (
    "Niger deal: US forces to leave by October",
    "2024-06-01",
    [
        "NIAMEY — US forces will withdraw from Niger by October 15, the Pentagon said, "
        "under the agreement reached with the junta.",
    ],
)
HANDOVER = (
    "US hands over Agadez drone base",
    "2024-08-05",
    [
        "AGADEZ, Niger — The United States military handed over Air Base 201 near Agadez "
        "to Niger's army on Monday, a joint statement said.",
    ],
)
LATER_DEADLINE = (
    "US pullout from Niger pushed back",
    "2024-09-01",
    ["NIAMEY — US forces will now withdraw from Niger by November 30, the Pentagon said."],
)


def publish(server: LoopbackServer, stories: dict[str, tuple[str, str, list[str]]]) -> None:
    items = ""
    for slug, story in stories.items():
        server.route(f"/a/{slug}.html", page(story))
        items += (
            f"<item><title>{slug}</title><link>{server.url(f'/a/{slug}.html')}</link>"
            f"<guid>{slug}</guid></item>"
        )
    server.route(
        "/feed.xml",
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{items}</channel></rss>',
    )


def write_config(tmp_path: Path, server: LoopbackServer, pins: str = "") -> Path:
    config = tmp_path / "watcher.toml"
    config.write_text(
        '[state]\npath = "state.db"\n'
        "[http]\nallow_private_addresses = true\nper_host_delay = 0\nretries = 0\n"
        "[notify]\nretry_backoff = 60\n"
        f'[notify.slack]\nwebhook_env = "{WEBHOOK_ENV}"\nimmediate = "all"\ntimeout = 2\n'
        + (f"[facts.pins]\n{pins}" if pins else "")
        # Made-up titles: every item is fetched (see test_relevance.py for the pre-filter).
        + f'\n[[sources]]\nname = "wire"\nurl = "{server.url("/feed.xml")}"\nfetch = "all"\n'
    )
    return config


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Any:
    webhook = Webhook()
    monkeypatch.setenv(WEBHOOK_ENV, webhook.url)
    monkeypatch.setenv("WATCHER_USER", "ana")
    yield webhook
    webhook.stop()


def run(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = main([*args, "--config", str(config), "--json"])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    return json.loads(captured.out)


def facts(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    return run(config, capsys, "facts")


def texts(hook: Webhook) -> list[str]:
    return [p["text"] for p in hook.delivered]


@pytest.mark.slow
def test_a_rejected_change_never_alerts_again_and_its_notice_goes_once(
    tmp_path: Path, server: LoopbackServer, hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(server, {"wrong": WRONG_DEADLINE})
    config = write_config(tmp_path, server)
    report = run(config, capsys, "check")
    [change] = [c for c in report["changes"] if c["key"] == DEADLINE]
    assert change["new"] == "2024-10-15" and change["alerts"] == ["slack"]
    assert sum("2024-10-15" in t for t in texts(hook)) == 1

    rejected = run(config, capsys, "facts", "reject", str(change["change_id"]), "--why", "misread")
    assert rejected["notices"] == ["slack"]
    assert rejected["fact"]["value"] == "2024-09-15"  # the seeds' deadline again
    notices = [t for t in texts(hook) if "Correction" in t]
    assert len(notices) == 1 and "rejected by ana: misread" in notices[0]

    known = facts(config, capsys)
    deadline = {f["key"]: f for f in known["facts"]}[DEADLINE]
    assert (deadline["value"], deadline["origin"]) == ("2024-09-15", "seeds")
    [shown] = [c for c in known["changes"] if c["change_id"] == change["change_id"]]
    assert shown["status"] == "rejected"
    [correction] = known["corrections"]
    assert (correction["kind"], correction["by"], correction["why"]) == ("reject", "ana", "misread")
    assert correction["change_id"] == change["change_id"] and correction["undone_at"] is None

    # The same article again (a feed that re-publishes it under a new id), later
    # passes, new commands: nothing about it is alerted, the notice is not resent.
    server.route(
        "/feed.xml",
        f'<?xml version="1.0"?><rss version="2.0"><channel><item><title>again</title>'
        f"<link>{server.url('/a/wrong.html')}</link><guid>wrong-again</guid></item>"
        "</channel></rss>",
    )
    delivered = len(hook.delivered)
    for _ in range(2):
        again = run(config, capsys, "check")
        assert [c for c in again["changes"] if c["key"] == DEADLINE] == []
    assert run(config, capsys, "outbox", "retry")["requeued"] == 0
    assert len(hook.delivered) == delivered
    assert sum("Correction" in t for t in texts(hook)) == 1
    # Rejecting it again is refused; the notice stays the one sent.
    assert main(["facts", "reject", str(change["change_id"]), "--config", str(config)]) == 2
    assert "already rejected" in capsys.readouterr().err


@pytest.mark.slow
def test_rejecting_before_the_alert_went_cancels_it_and_sends_no_notice(
    tmp_path: Path, server: LoopbackServer, hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(server, {"wrong": WRONG_DEADLINE})
    config = write_config(tmp_path, server)
    report = run(config, capsys, "check", "--no-send")
    [change] = [c for c in report["changes"] if c["key"] == DEADLINE]
    rejected = run(config, capsys, "facts", "reject", str(change["change_id"]))
    assert rejected["notices"] == []
    run(config, capsys, "outbox", "retry")
    assert not any("2024-10-15" in t for t in texts(hook))
    with sqlite3.connect(tmp_path / "state.db") as conn:
        states = conn.execute(
            "SELECT state FROM alerts WHERE change_id = ?", (change["change_id"],)
        ).fetchall()
    assert states == [("cancelled",)]


@pytest.mark.slow
def test_undo_of_a_rejection_restores_the_change_without_alerting_it_again(
    tmp_path: Path, server: LoopbackServer, hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(server, {"wrong": WRONG_DEADLINE})
    config = write_config(tmp_path, server)
    report = run(config, capsys, "check")
    [change] = [c for c in report["changes"] if c["key"] == DEADLINE]
    rejected = run(config, capsys, "facts", "reject", str(change["change_id"]))
    delivered = len(hook.delivered)
    undone = run(config, capsys, "facts", "undo", str(rejected["correction_id"]))
    assert undone["fact"]["value"] == "2024-10-15"
    known = facts(config, capsys)
    [shown] = [c for c in known["changes"] if c["change_id"] == change["change_id"]]
    assert shown["status"] == "reported"
    assert known["corrections"][0]["undone_by"] == "ana"
    run(config, capsys, "check")
    assert len(hook.delivered) == delivered
    assert main(["facts", "undo", str(rejected["correction_id"]), "--config", str(config)]) == 2
    assert "already undone" in capsys.readouterr().err


@pytest.mark.slow
def test_a_value_set_wins_until_a_later_article_reports_a_further_change(
    tmp_path: Path, server: LoopbackServer, hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(server, {"wrong": WRONG_DEADLINE})
    config = write_config(tmp_path, server)
    run(config, capsys, "check")
    # A person knows the deadline did not move: 15 September, as of 10 June.
    done = run(
        config,
        capsys,
        "facts",
        "set",
        DEADLINE,
        "2024-09-15",
        "--as-of",
        "2024-06-10",
        "--why",
        "the agreement says so",
    )
    assert done["fact"]["value"] == "2024-09-15" and done["fact"]["origin"] == "set"
    shown = facts(config, capsys)
    assert {f["key"]: f["value"] for f in shown["facts"]}[DEADLINE] == "2024-09-15"
    [correction] = shown["corrections"]
    assert (correction["kind"], correction["value"], correction["as_of"]) == (
        "set",
        "2024-09-15",
        "2024-06-10",
    )
    main(["facts", "--config", str(config)])
    text = capsys.readouterr().out
    assert "set by a person" in text and "the agreement says so" in text

    # An article older than the set value does not move it; a later one does.
    publish(server, {"wrong": WRONG_DEADLINE, "later": LATER_DEADLINE})
    report = run(config, capsys, "check")
    [moved] = [c for c in report["changes"] if c["key"] == DEADLINE]
    assert (moved["old"], moved["new"]) == ("2024-09-15", "2024-11-30")
    assert {f["key"]: f["value"] for f in facts(config, capsys)["facts"]}[DEADLINE] == "2024-11-30"

    # Undone: the fact is what the articles alone give.
    run(config, capsys, "facts", "undo", str(done["correction_id"]))
    assert {f["key"]: f["value"] for f in facts(config, capsys)["facts"]}[DEADLINE] == "2024-11-30"


def test_set_checks_the_value_and_names_the_problem(
    tmp_path: Path, server: LoopbackServer, hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(server, {})
    config = write_config(tmp_path, server)
    for args, problem in (
        ([BASE_201, "demolished"], "value must be one of operating, withdrawing, handed_over"),
        (["no.such.fact", "1"], "no.such.fact: not a fact of topic"),
        (["us_forces.troop_count", "many"], "'many' is not a whole number"),
        ([DEADLINE, "2024-09-15", "--as-of", "2999-01-01"], "in the future"),
    ):
        assert main(["facts", "set", *args, "--config", str(config)]) == 2
        assert problem in capsys.readouterr().err


@pytest.mark.slow
def test_a_pin_behaves_like_a_value_set_and_is_recorded(
    tmp_path: Path, server: LoopbackServer, hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pinning the deadline after a wrong reading corrects what `watcher facts` shows (it
    used to change only the baseline, under the observed value)."""
    publish(server, {"wrong": WRONG_DEADLINE})
    config = write_config(tmp_path, server)
    run(config, capsys, "check")
    assert {f["key"]: f["value"] for f in facts(config, capsys)["facts"]}[DEADLINE] == "2024-10-15"
    config = write_config(
        tmp_path, server, pins=f'"{DEADLINE}" = {{ value = 2024-09-15, as_of = 2024-06-10 }}\n'
    )
    shown = facts(config, capsys)
    deadline = {f["key"]: f for f in shown["facts"]}[DEADLINE]
    assert (deadline["value"], deadline["origin"]) == ("2024-09-15", "pinned")
    assert [(c["kind"], c["by"]) for c in shown["corrections"]] == [("pin", "config")]
    # A pin is undone by taking it out of the config, not by hand.
    pin_id = shown["corrections"][0]["id"]
    assert main(["facts", "undo", str(pin_id), "--config", str(config)]) == 2
    assert "remove it from the config" in capsys.readouterr().err
    config = write_config(tmp_path, server)
    shown = facts(config, capsys)
    assert {f["key"]: f["value"] for f in shown["facts"]}[DEADLINE] == "2024-10-15"
    assert shown["corrections"][0]["undone_by"] == "config"


def test_baseline_no_longer_lists_the_pinned_value_as_also_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "watcher.toml"
    config.write_text(f'[facts.pins]\n"{DEADLINE}" = 2024-09-15\n')
    assert main(["baseline", "--config", str(config)]) == 0
    text = capsys.readouterr().out
    deadline = text.split(f"({DEADLINE})")[1].split("\n(")[0]
    assert "pinned in config" in deadline
    assert "also reported: 2024-09-15" not in text
