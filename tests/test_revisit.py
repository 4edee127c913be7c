"""Articles that change after publication: revisited on a falling schedule with
conditional GET, a changed text read again, and a moved fact alerted once, as a revision."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from freezegun import freeze_time

from tests.support.alerting import Webhook
from tests.support.checks import feed, page
from tests.support.loopback import LoopbackServer
from tests.support.revisits import (
    DEADLINE,
    EDITED,
    FIRST,
    WEBHOOK_ENV,
    EditedPage,
    make_config,
    story,
)
from tests.support.stories import write_chad
from watcher.alerts.render import load_templates
from watcher.cli.main import main
from watcher.config import ArticleSettings
from watcher.models import FactChange
from watcher.service.revisits import next_revisit

START = datetime(2024, 8, 6, 12, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"

REWORDED = "The US had agreed in April to pull its forces out of Niger by September 15."


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.stop()


def check(config: Path, capsys: pytest.CaptureFixture[str], at: datetime) -> tuple[int, dict]:
    with freeze_time(at, real_asyncio=True):
        code = main(["check", "--config", str(config), "--json"])
    return code, json.loads(capsys.readouterr().out)


# -- the schedule ------------------------------------------------------------------------


def test_revisits_fall_off_with_age_and_stop_after_the_window() -> None:
    settings = ArticleSettings()  # revisit 48h, first after 1h
    hours, after = [], START
    while (when := next_revisit(START, settings, after=after)) is not None:
        hours.append((when - START) / timedelta(hours=1))
        after = when
    assert hours == [1, 2, 4, 8, 16, 32]
    # A pass that comes late skips the times already gone instead of catching up.
    late = next_revisit(START, settings, after=START + timedelta(hours=20))
    assert late == START + timedelta(hours=32)
    short = ArticleSettings(revisit="6h", revisit_after="30m")
    assert next_revisit(START, short, after=START + timedelta(hours=3)) == START + timedelta(
        hours=4
    )
    assert next_revisit(START, short, after=START + timedelta(hours=4)) is None
    assert next_revisit(START, ArticleSettings(revisit=0), after=START) is None
    assert next_revisit(START, ArticleSettings(revisit="0"), after=START) is None


# -- a count edited after the first pass ---------------------------------------------------


@pytest.mark.slow
def test_an_edited_count_raises_one_change_marked_as_a_revision(
    tmp_path: Path,
    server: LoopbackServer,
    webhook: Webhook,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(WEBHOOK_ENV, webhook.url)
    article = EditedPage(story(FIRST, DEADLINE))
    server.route("/a/troops.html", article)
    server.route("/feed.xml", feed(server.base_url, ["troops"]))
    config = make_config(tmp_path, server)

    code, report = check(config, capsys, START)
    assert code == 1
    counts = [c for c in report["changes"] if c["key"] == "us_forces.troop_count"]
    assert [(c["new"], c["revision"]) for c in counts] == [("about 600", False)]
    posts = len(webhook.posts)

    # Not due yet: the page is not asked for again.
    article.edit(story(EDITED, DEADLINE))
    code, report = check(config, capsys, START + timedelta(minutes=50))
    assert (code, report["sources"][0]["revisited"]) == (0, 0)
    assert server.hits("/a/troops.html") == 1

    # Due: fetched again conditionally; the edited count is one change, a revision.
    code, report = check(config, capsys, START + timedelta(hours=1, minutes=5))
    assert code == 1
    assert server.requests[-1].headers["if-none-match"] == '"v1"'
    [source] = report["sources"]
    assert (source["revisited"], [a["url"] for a in source["revised"]]) == (
        1,
        [server.url("/a/troops.html")],
    )
    [change] = report["changes"]  # the restated deadline and status are no change
    assert (change["key"], change["old"], change["new"]) == (
        "us_forces.troop_count",
        "about 600",
        "24",
    )
    assert change["revision"] is True
    assert [e["quote"] for e in change["evidence"]] == [EDITED]
    assert [e["quote"] for e in change["revised_from"]] == [FIRST]
    assert change["evidence"][0]["revision"] == 1

    # Slack: one alert, marked, with the old quote kept.
    [slack] = webhook.posts[posts:]
    assert "Updated article: about 600 → 24" in slack["text"]
    assert f"Before the edit: {FIRST}" in slack["text"]
    blocks = json.dumps(slack["blocks"], ensure_ascii=False)
    assert "Updated article: about 600 → 24" in blocks and "Before the edit" in blocks
    # Email: subject, text and HTML.
    mail = load_templates().alert(FactChange.from_json(change))
    assert mail.subject.endswith("about 600 → 24 (updated article)")
    text = " ".join(mail.text.split())  # quotes are wrapped at 72 columns
    assert "Updated article: about 600 → 24" in text
    assert f'Before the edit, the article said: "{FIRST}"' in text
    assert "Updated article: about 600 → 24" in mail.html and FIRST in mail.html
    # Atom.
    atom = (tmp_path / "changes.atom").read_text()
    assert "about 600 → 24 (updated article)" in atom and f'Before the edit: "{FIRST}"' in atom

    # The knowledge follows the article's newest word.
    main(["facts", "us_forces.troop_count", "--json", "--config", str(config)])
    [fact] = json.loads(capsys.readouterr().out)["facts"]
    assert (fact["value"], fact["qualifier"]) == (24, "exact")

    # Reworded without a new fact: read again, no change; then unchanged: a 304.
    article.edit(story(EDITED, REWORDED))
    code, report = check(config, capsys, START + timedelta(hours=2, minutes=5))
    assert (code, len(report["sources"][0]["revised"]), report["changes"]) == (1, 1, [])
    code, report = check(config, capsys, START + timedelta(hours=4, minutes=5))
    assert (code, report["sources"][0]["revisited"], report["changes"]) == (0, 1, [])
    assert server.requests[-1].headers["if-none-match"] == '"v3"'
    assert len(webhook.posts) == posts + 1

    # A late pass does the one revisit due, not every one missed; after the window, none.
    check(config, capsys, START + timedelta(days=1, hours=20))
    hits = server.hits("/a/troops.html")
    check(config, capsys, START + timedelta(days=1, hours=21))
    assert server.hits("/a/troops.html") == hits
    check(config, capsys, START + timedelta(days=4))
    assert server.hits("/a/troops.html") == hits


@pytest.mark.slow
def test_revisits_off_fetch_nothing_again(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/a/troops.html", EditedPage(story(FIRST, DEADLINE)))
    server.route("/feed.xml", feed(server.base_url, ["troops"]))
    config = make_config(tmp_path, server, revisit="0")
    check(config, capsys, START)
    check(config, capsys, START + timedelta(hours=1, minutes=5))
    assert server.hits("/a/troops.html") == 1


# -- crash safety: killed between the re-fetch and the alert -----------------------------------


def _run(config: Path, webhook: Webhook) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "watcher", "check", "--config", str(config), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, WEBHOOK_ENV: webhook.url},
    )


def _settle(config: Path, webhook: Webhook) -> None:
    for _ in range(5):
        process = _run(config, webhook)
        _, err = process.communicate(timeout=60)
        assert process.returncode in (0, 1), err
        if process.returncode == 0:
            return
    raise AssertionError("checks never settled")


def _revision_alerts(config: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(config.parent / "state.db") as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
        rows = db.execute("select payload, state from alerts where kind = 'change'").fetchall()
    return [(p, s) for p, s in rows if json.loads(p).get("revision")]


@pytest.mark.slow
def test_killed_between_refetch_and_alert_a_revision_is_sent_at_most_once(
    tmp_path: Path, server: LoopbackServer, webhook: Webhook
) -> None:
    chance = random.Random(20240806)
    for attempt in range(4):
        article = EditedPage(story(FIRST, DEADLINE))
        slug = f"troops-{attempt}"
        server.route(f"/a/{slug}.html", article)
        server.route("/feed.xml", feed(server.base_url, [slug]))
        config = make_config(tmp_path / f"run{attempt}", server, revisit_after="1s")
        _settle(config, webhook)
        article.edit(story(EDITED, DEADLINE))
        time.sleep(1.2)
        start = len(webhook.posts)
        process = _run(config, webhook)
        time.sleep(chance.uniform(0.3, 2.0))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        _settle(config, webhook)

        [(payload, state)] = _revision_alerts(config)
        received = [p["text"] for p in webhook.posts[start:] if "Updated article" in p["text"]]
        assert len(received) <= 1, (attempt, received)
        assert len(received) == 1 or state == "uncertain", (attempt, state)
        assert json.loads(payload)["new"] == "24"


# -- several stories: an edited article is read again for each ----------------------------------

NIGER_FIRST = "NIAMEY — About 600 US troops remain in Niger, the Pentagon said on Tuesday."
NIGER_EDITED = "NIAMEY — Only 24 US troops remain in Niger, the Pentagon said on Tuesday."
CHAD_FIRST = (
    "In Chad, about 100 US troops remain at the Adji Kossei air base in N'Djamena, officials said."
)
CHAD_EDITED = (
    "In Chad, only 10 US troops remain at the Adji Kossei air base in N'Djamena, officials said."
)


def both(*paragraphs: str) -> str:
    return page(("US troops in Niger and Chad", "2024-08-06", list(paragraphs)))


@pytest.mark.slow
def test_an_edited_article_is_read_again_for_each_story(
    tmp_path: Path,
    server: LoopbackServer,
    webhook: Webhook,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One article about two stories, edited: each story compares its own readings of the
    new text, and each change carries its story and is marked as a revision."""
    monkeypatch.setenv(WEBHOOK_ENV, webhook.url)
    write_chad(tmp_path)
    article = EditedPage(both(NIGER_FIRST, CHAD_FIRST))
    server.route("/a/troops.html", article)
    server.route("/feed.xml", feed(server.base_url, ["troops"]))
    config = make_config(tmp_path, server)
    config.write_text(
        config.read_text()
        + '[[stories]]\nname = "niger"\ntopic = "niger-us-withdrawal"\n'
        + '[[stories]]\nname = "chad"\ntopic = "chad/topic.toml"\nseeds = "chad/seeds"\n'
    )

    code, report = check(config, capsys, START)
    assert code == 1
    counts = {c["story"]: c for c in report["changes"] if c["key"] == "us_forces.troop_count"}
    # Niger's count moves from the seeds' about 1,000; Chad's about 100 is restated.
    assert set(counts) == {"niger"} and counts["niger"]["revision"] is False
    posts = len(webhook.posts)

    article.edit(both(NIGER_EDITED, CHAD_EDITED))
    code, report = check(config, capsys, START + timedelta(hours=1, minutes=5))
    assert code == 1
    assert report["sources"][0]["revisited"] == 1
    moved = {c["story"]: c for c in report["changes"]}
    assert set(moved) == {"niger", "chad"}
    for name, old, new, first, edited in (
        ("niger", "about 600", "24", NIGER_FIRST, NIGER_EDITED),
        ("chad", "about 100", "10", CHAD_FIRST, CHAD_EDITED),
    ):
        change = moved[name]
        assert (change["key"], change["old"], change["new"]) == ("us_forces.troop_count", old, new)
        assert change["revision"] is True
        assert [e["quote"] for e in change["evidence"]] == [edited]
        assert [e["quote"] for e in change["revised_from"]] == [first]

    # Both stories' alerts are marked; the Atom feed of several stories names each.
    texts = [p["text"] for p in webhook.posts[posts:]]
    assert sorted(t.split(" (")[0].split(": ", 1)[1] for t in texts) == [
        "about 100 → 10",
        "about 600 → 24",
    ]
    assert all("Updated article:" in t and "Before the edit:" in t for t in texts)
    entries = ElementTree.parse(tmp_path / "changes.atom").getroot().findall(f"{ATOM}entry")
    marked = {
        entry.findtext(f"{ATOM}title", ""): entry.findtext(f"{ATOM}content", "")
        for entry in entries
        if "(updated article)" in entry.findtext(f"{ATOM}title", "")
    }
    assert sorted(title.split(" ", 1)[0] for title in marked) == ["[chad]", "[niger]"]
    for title, content in marked.items():
        name = title[1:].split("]", 1)[0]
        assert content.startswith(f"Story: {name}\n") and "Before the edit:" in content

    # Each story's knowledge follows the article's newest word, and no other story's.
    for name, value in (("niger", 24), ("chad", 10)):
        main(["facts", "us_forces.troop_count", "--story", name, "--json", "--config", str(config)])
        [fact] = json.loads(capsys.readouterr().out)["facts"]
        assert (fact["story"], fact["value"], fact["qualifier"]) == (name, value, "exact")
