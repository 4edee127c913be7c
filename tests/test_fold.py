"""The same articles give the same knowledge and changes, whatever order they arrive in.

Sources are written one at a time, in the order their network work ends,
and an article may arrive passes after a newer one: knowledge must be what
folding every observation from the baseline in date order gives. These
tests feed the fold through a real SQLite store, as `watcher check` does,
with observations made here (the fold must not depend on how they were
read), then run the whole pipeline over loopback feeds in both orders.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.checks import HANDOVER, page, write_config
from tests.support.loopback import LoopbackServer
from watcher.cli.main import main
from watcher.config import Config
from watcher.facts import knowledge
from watcher.facts.compare import Policy
from watcher.facts.stories import load_stories
from watcher.models import Evidence, Observation
from watcher.store import Store, open_store

STORY = load_stories(Config())[0]
POLICY = Policy()
AT = datetime(2024, 9, 1, tzinfo=UTC)

COUNT = "us_forces.troop_count"
DEADLINE = "us_forces.withdrawal_deadline"
WITHDRAWAL = "us_forces.withdrawal_status"
BASE_201 = "bases.air_base_201.status"
KINDS = {COUNT: "quantity", DEADLINE: "date"}

Article = tuple[str, date | None, list[tuple[str, str | int, str | None]]]

# Articles as (URL, date, the facts they state). Several of them only change the
# result if they come in the right order: the intermediate "withdrawing" and
# "in_progress", an older deadline, counts that disagree on one day, and the same
# article carried by two feeds.
ARTICLES: list[Article] = [
    ("https://alpha.example/1", date(2024, 7, 7), [(BASE_201, "withdrawing", None)]),
    (
        "https://alpha.example/2",
        date(2024, 8, 5),
        [(BASE_201, "handed_over", None), (WITHDRAWAL, "completed", None)],
    ),
    ("https://beta.example/3", date(2024, 8, 5), [(BASE_201, "handed_over", None)]),
    ("https://gamma.example/4", date(2024, 8, 5), [(BASE_201, "operating", None)]),
    ("https://beta.example/5", date(2024, 6, 15), [(WITHDRAWAL, "in_progress", None)]),
    ("https://alpha.example/6", date(2024, 7, 20), [(COUNT, 600, "about")]),
    ("https://beta.example/7", date(2024, 7, 20), [(COUNT, 400, "about")]),
    ("https://gamma.example/8", date(2024, 7, 20), [(COUNT, 410, "about")]),
    ("https://delta.example/9", date(2024, 7, 20), [(COUNT, 300, "vague")]),
    ("https://alpha.example/10", date(2024, 7, 1), [(DEADLINE, "2024-08-15", "exact")]),
    ("https://beta.example/11", date(2024, 7, 1), [(DEADLINE, "2024-09-15", "exact")]),
    ("https://undated.example/12", None, [(WITHDRAWAL, "completed", None)]),
    # The first article again, as a second feed carries it.
    ("https://alpha.example/1", date(2024, 7, 7), [(BASE_201, "withdrawing", None)]),
]


def observations(article: Article) -> list[Observation]:
    url, published, facts = article
    return [
        Observation(
            key,
            KINDS.get(key, "status"),
            value,
            qualifier,
            published,
            Evidence(
                f"{key} is {value} ({qualifier}), says {url}", url, f"Report {url}", published
            ),
        )
        for key, value, qualifier in facts
    ]


def write(store: Store, batch: list[Article]) -> None:
    """One source's articles written as `watcher check` writes them: stored, then folded."""
    found = [obs for article in batch for obs in observations(article)]
    with store.transaction() as conn:
        store.add_observations(conn, None, STORY.name, [o.to_json() for o in found], at=AT)
        knowledge.fold(conn, STORY, found, policy=POLICY, at=AT)


def outcome(batches: list[list[Article]]) -> tuple[dict[str, Any], set[tuple[Any, ...]]]:
    """Knowledge and the set of changes after writing ``batches`` in turn to a new store."""
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/state.db")
        try:
            knowledge.install_baseline(store, STORY, at=AT)
            for batch in batches:
                write(store, batch)
            known = knowledge.load(store, STORY.name).to_json()
            changes = {
                (
                    row["identity"],
                    row["status"],
                    tuple((e["url"], e["quote"]) for e in row["evidence"]),
                )
                for row in store.list_changes()
            }
        finally:
            store.close()
    return known, changes


EXPECTED = outcome([ARTICLES])


def test_all_at_once_passes_through_every_step() -> None:
    _, changes = EXPECTED
    steps = {identity.split("|")[0]: [] for identity, *_ in changes}
    for identity, *_ in changes:
        key, _, old, new = identity.split("|")
        steps[key].append((old, new))
    assert ("operating/None", "withdrawing/None") in steps[BASE_201]
    assert ("withdrawing/None", "handed_over/None") in steps[BASE_201]
    assert ("agreed/None", "in_progress/None") in steps[WITHDRAWAL]


@st.composite
def arrivals(draw: st.DrawFn) -> list[list[Article]]:
    """The articles in any order, split into writes (sources within passes, and passes)."""
    shuffled = draw(st.permutations(ARTICLES))
    cuts = sorted(draw(st.sets(st.integers(1, len(shuffled) - 1), max_size=len(shuffled) - 1)))
    bounds = [0, *cuts, len(shuffled)]
    return [shuffled[a:b] for a, b in itertools.pairwise(bounds)]


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals())
def test_any_arrival_order_gives_the_same_knowledge_and_changes(
    batches: list[list[Article]],
) -> None:
    known, changes = outcome(batches)
    assert changes == EXPECTED[1]
    assert json.dumps(known, sort_keys=True) == json.dumps(EXPECTED[0], sort_keys=True)


def test_newest_first_then_older_supersedes_and_does_not_realert() -> None:
    """Handed over (5 August) first, withdrawing (7 July) a pass later: the path is
    redrawn, and the change to 'handed over' is not news again."""
    newest, older = ARTICLES[1], ARTICLES[0]
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/state.db")
        try:
            knowledge.install_baseline(store, STORY, at=AT)
            events = []
            for article in (newest, older):
                found = observations(article)
                with store.transaction() as conn:
                    store.add_observations(
                        conn, None, STORY.name, [o.to_json() for o in found], at=AT
                    )
                    recorded = knowledge.fold(conn, STORY, found, policy=POLICY, at=AT)
                events.append(
                    {(r.change.identity, r.event) for r in recorded if r.change.key == BASE_201}
                )
            listed = {row["identity"] for row in store.list_changes() if row["key"] == BASE_201}
        finally:
            store.close()
    operating_handed = f"{BASE_201}|status_moved|operating/None|handed_over/None"
    operating_withdrawing = f"{BASE_201}|status_moved|operating/None|withdrawing/None"
    withdrawing_handed = f"{BASE_201}|status_moved|withdrawing/None|handed_over/None"
    assert events[0] == {(operating_handed, "new")}
    assert events[1] == {(operating_withdrawing, "new"), (withdrawing_handed, "corrected")}
    assert listed == {operating_withdrawing, withdrawing_handed}


# -- the whole pipeline ---------------------------------------------------------------------

WITHDRAWING = (
    "US begins leaving Agadez drone base",
    "2024-07-20",
    [
        "AGADEZ, Niger — US troops have begun withdrawing from Air Base 201 near Agadez, "
        "the Pentagon said on Saturday.",
        "The United States agreed in April to withdraw its forces from Niger, as Niamey demanded.",
    ],
)


def feed(server: LoopbackServer, slug: str | None) -> None:
    items = (
        f"<item><title>{slug}</title><link>{server.url(f'/a/{slug}.html')}</link>"
        f"<guid>{slug}</guid></item>"
        if slug
        else ""
    )
    server.route(
        "/feed.xml",
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{items}</channel></rss>',
    )


def changes_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], order: list[tuple[str | None, str | None]]
) -> set[str]:
    """Run one check per step, the wire and dispatch feeds publishing what the step says."""
    tmp_path.mkdir()
    wire, dispatch = LoopbackServer("127.0.0.1").start(), LoopbackServer("127.0.0.2").start()
    try:
        wire.route("/a/handover.html", page(HANDOVER))
        dispatch.route("/a/withdrawing.html", page(WITHDRAWING))
        config = write_config(tmp_path, wire, {"wire": "/feed.xml"})
        with config.open("a") as file:
            url = dispatch.url("/feed.xml")
            file.write(f'[[sources]]\nname = "dispatch"\nurl = "{url}"\nfetch = "all"\n')
        for on_wire, on_dispatch in order:
            feed(wire, on_wire)
            feed(dispatch, on_dispatch)
            assert main(["check", "--config", str(config), "--json"]) in (0, 1)
            capsys.readouterr()
        assert main(["facts", "--config", str(config), "--json"]) == 0
        facts = json.loads(capsys.readouterr().out)
    finally:
        wire.stop()
        dispatch.stop()
    return {f"{c['key']}: {c['old']} -> {c['new']}" for c in facts["changes"]}


@pytest.mark.slow
def test_check_gives_the_same_changes_whichever_source_comes_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The handover (5 August) and the start of the withdrawal (20 July), from two
    sites: together, newest first, or oldest first."""
    together = changes_after(tmp_path / "a", capsys, [("handover", "withdrawing")])
    newest_first = changes_after(
        tmp_path / "b", capsys, [("handover", None), ("handover", "withdrawing")]
    )
    oldest_first = changes_after(
        tmp_path / "c", capsys, [(None, "withdrawing"), ("handover", "withdrawing")]
    )
    assert together == newest_first == oldest_first
    assert f"{BASE_201}: operating -> withdrawing" in together
