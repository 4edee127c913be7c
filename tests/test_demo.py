"""The offline demo, end to end, as `make demo` runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def _demo(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watcher", "demo", "--output", str(tmp_path / "out"), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


@pytest.fixture(scope="module")
def passes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path = tmp_path_factory.mktemp("demo")
    result = _demo(tmp_path, "--json")
    assert result.returncode == 0, result.stderr
    return {**json.loads(result.stdout), "out": tmp_path / "out"}


def _changes(one_pass: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(c["key"], c["new"], c["status"], c["event"]) for c in one_pass["changes"]}


def test_demo_runs_three_passes_offline(passes: dict[str, Any]) -> None:
    first, second, third = passes["passes"]
    assert first["new_articles"] >= 3
    assert all(s["status"] != "failed" for p in passes["passes"] for s in p["sources"])
    assert 0 < second["new_articles"] < first["new_articles"] + second["new_articles"]
    assert third["new_articles"] == 0
    assert {s["status"] for s in third["sources"]} == {"not_modified"}
    # A 304 says nothing about how many items the feed holds.
    assert [s["items_in_feed"] for s in third["sources"]] == [None, None]


def test_demo_finds_exactly_the_real_changes(passes: dict[str, Any]) -> None:
    first, second, third = passes["passes"]
    # The traps (France leaving Niger, US forces in Chad, Nigeria's army) move nothing.
    # The Niamey handover puts the withdrawal in progress; both sites report it.
    assert _changes(first) == {
        ("bases.air_base_101.status", "handed over", "reported", "new"),
        ("bases.air_base_101.status", "handed over", "confirmed", "confirmed"),
        ("us_forces.withdrawal_status", "in progress", "reported", "new"),
        ("us_forces.withdrawal_status", "in progress", "confirmed", "confirmed"),
        ("bases.air_base_201.status", "handed over", "reported", "new"),
        ("us_forces.withdrawal_status", "completed", "reported", "new"),
        # The withdrawal completed: none of the troops are left.
        ("us_forces.troop_count", "0", "reported", "new"),
    }
    # A second site reporting the same changes confirms them; it creates none.
    confirmed = {(k, n, s) for k, n, s, e in _changes(second) if e == "confirmed"}
    assert confirmed == {
        ("bases.air_base_201.status", "handed over", "confirmed"),
        ("us_forces.withdrawal_status", "completed", "confirmed"),
        ("us_forces.troop_count", "0", "confirmed"),
    }
    assert not [c for c in second["changes"] if c["event"] == "new"]
    assert third["changes"] == []


def test_demo_sends_each_alert_once_to_slack(passes: dict[str, Any]) -> None:
    first, second, third = passes["passes"]
    assert len(first["slack_messages"]) == 7  # five changes, two of them confirmed at once
    assert len(second["slack_messages"]) == 3  # the three confirmations
    assert all("confirmed" in m for m in second["slack_messages"])
    assert third["slack_messages"] == []


def test_demo_writes_rendered_alerts_digest_and_feed(passes: dict[str, Any]) -> None:
    out: Path = passes["out"]
    html = sorted(out.glob("alert-*.html"))
    assert len(html) == 5
    assert any("Air Base 201" in p.read_text() for p in html)
    digest = (out / "digest.txt").read_text()
    assert "CURRENT FACTS" in digest and "US withdrawal deadline: 2024-09-15" in digest
    assert (out / "changes.atom").read_text().count("<entry>") == 5


def test_demo_text_output_names_each_pass(tmp_path: Path) -> None:
    result = _demo(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("== ") == 3
    assert "Serving sahel-wire on http://127.0.0.1:" in result.stdout
    assert "slack <- Air Base 201 (Agadez): operating → handed over" in result.stdout
    second = result.stdout.split("== second pass")[1].split("== third pass")[0]
    # One source had new articles; a restatement from the same site is not a fact change.
    changes, restated = second.split("More sources for earlier changes (not new):")
    assert "Air Base 101" not in changes and "= Air Base 101 (Niamey)" in restated
    listed = changes.count("\n* ")
    assert f"2 new article(s) from 1 of 2 source(s), {listed} fact change(s)" in restated
