"""Timeline charts laid out from known facts, and the story page's countdown over time."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from freezegun import freeze_time

from watcher.config import parse_config
from watcher.facts.compare import Change, Knowledge, KnownFact, Reading, compare
from watcher.facts.stories import load_stories
from watcher.facts.topic import load_topic
from watcher.models import Evidence, Observation
from watcher.store import open_store
from watcher.web import pages
from watcher.web.timeline import Role, build_chart, readings_of

TOPIC = load_topic(parse_config({}, Path("w.toml")).topic_path())
COUNT = TOPIC.fact("us_forces.troop_count")
BASE = TOPIC.fact("bases.air_base_201.status")
DEADLINE = date(2024, 9, 15)


def source(day: date, site: str = "wire.example") -> Evidence:
    return Evidence(f"quote of {day}", f"https://{site}/{day}", "Title", day)


def reading(value: str | int, qualifier: str | None, day: date, *sites: str) -> Reading:
    return Reading(value, qualifier, day, tuple(source(day, s) for s in sites or ("a.example",)))


def count_fact() -> KnownFact:
    """about 1,000 (April), then about 600 (July), disputed by "about 700" (August)."""
    old = reading(1000, "about", date(2024, 4, 20))
    new = reading(600, "about", date(2024, 7, 20))
    dispute = Change(
        COUNT.key, "quantity", "conflict", new, reading(700, "about", date(2024, 8, 6)), "reported"
    )
    return KnownFact(
        COUNT.key,
        "quantity",
        new,
        "observed",
        alternatives=(reading(1000, "more_than", date(2024, 4, 20)),),
        history=(old,),
        conflicts=(dispute,),
    )


def test_a_count_is_a_step_line_down_with_its_qualifiers() -> None:
    readings = readings_of(count_fact())
    assert [(r.number, r.role, r.text) for r in readings] == [
        (1, Role.HELD, "about 1,000"),
        (2, Role.HELD, "about 600"),
        (3, Role.ALTERNATIVE, "more than 1,000"),
        (4, Role.DISPUTE, "about 700"),
    ]
    chart = build_chart(COUNT, readings, [DEADLINE])
    held = {p.label: p for p in chart.points if p.role == Role.HELD}
    first, second = held["about 1,000"], held["about 600"]
    assert second.x > first.x and second.y > first.y  # later, and lower on the page
    # M to the first value, run to the second's date, drop, run to the right edge.
    assert chart.line == (f"M {first.x} {first.y} H {second.x} V {second.y} H {chart.plot_right}")
    [dispute] = [p for p in chart.points if p.role == Role.DISPUTE]
    assert dispute.label == "disputed: about 700" and dispute.href == "#reading-4"
    assert dispute.title == "disputed by: about 700 as of 2024-08-06 (1 source, reported)"
    assert first.y < dispute.y < second.y  # drawn at its own value, apart from the line
    [alternative] = [p for p in chart.points if p.role == Role.ALTERNATIVE]
    assert alternative.label == "more than 1,000" and alternative.y == first.y
    # Held values are drawn last, on top of what others said at the same point.
    assert [p.role for p in chart.points][-2:] == [Role.HELD, Role.HELD]
    [deadline] = chart.deadlines
    assert deadline.label == "deadline 2024-09-15" and deadline.x > dispute.x
    assert chart.plot_left < first.x and deadline.x < chart.plot_right
    assert chart.y_ticks[0].label == "0"
    assert max(int(t.label.replace(",", "")) for t in chart.y_ticks) >= 1000


def test_a_status_is_a_band_per_value_on_its_ladder() -> None:
    operating = reading("operating", None, date(2024, 4, 20))
    handed_over = reading("handed_over", None, date(2024, 8, 5), "a.example", "b.example")
    fact = KnownFact(BASE.key, "status", handed_over, "observed", history=(operating,))
    chart = build_chart(BASE, readings_of(fact), [DEADLINE])
    assert [row.label for row in chart.rows] == ["operating", "withdrawing", "handed over"]
    assert [row.at for row in chart.rows] == sorted((row.at for row in chart.rows), reverse=True)
    first, second = chart.bands
    assert (first.label, second.label) == ("operating", "handed over")
    assert (first.rank, second.rank) == (0, 2)
    assert second.x == pytest.approx(first.x + first.width)  # one after the other
    assert second.x + second.width == chart.plot_right  # the last one holds until now
    assert second.y < first.y
    assert second.title == "handed over as of 2024-08-05 (2 sources)"
    assert chart.line == ""


def test_a_value_first_reported_before_its_as_of_starts_there() -> None:
    """A value's as_of moves on as later sources repeat it; the chart starts it where it began."""
    early, late = source(date(2024, 4, 20)), source(date(2024, 8, 6), "b.example")
    held = Reading(1000, "about", date(2024, 8, 6), (early, late))
    fact = KnownFact(COUNT.key, "quantity", held, "seeds")
    [timed] = readings_of(fact)
    assert timed.when == date(2024, 4, 20)
    chart = build_chart(COUNT, [timed], [])
    [point] = chart.points
    assert point.x < chart.plot_left + 0.2 * (chart.plot_right - chart.plot_left)


def test_nothing_dated_is_an_empty_chart() -> None:
    undated = Reading("operating", None, None, (Evidence("q", "seed:x", None, None),))
    fact = KnownFact(BASE.key, "status", undated, "seeds")
    assert build_chart(BASE, readings_of(fact), [DEADLINE]).empty


@pytest.fixture
def site(tmp_path: Path) -> pages.Site:
    config = parse_config({"state": {"path": str(tmp_path / "w.db")}}, tmp_path / "w.toml")
    store = open_store(config.database_url())
    return pages.Site(config, store, load_stories(config))


@pytest.mark.parametrize(
    ("today", "countdown"),
    [
        ("2024-09-10 12:00", "US withdrawal deadline: 2024-09-15, 5 days left"),
        ("2024-09-14 23:30", "US withdrawal deadline: 2024-09-15, 1 day left"),
        ("2024-09-15 08:00", "US withdrawal deadline: 2024-09-15, today"),
        ("2024-09-20 08:00", "US withdrawal deadline: 2024-09-15, passed 5 days ago"),
    ],
)
def test_story_page_counts_down_to_the_deadline(
    site: pages.Site, today: str, countdown: str
) -> None:
    with freeze_time(today):
        page = pages.story_page(site, site.stories[0])
    assert page["outlook"][0].startswith(countdown)
    assert page["today"] == date.fromisoformat(today[:10])


def test_countdown_follows_the_configured_time_zone(tmp_path: Path) -> None:
    config = parse_config(
        {"state": {"path": str(tmp_path / "w.db")}, "notify": {"timezone": "Asia/Tokyo"}},
        tmp_path / "w.toml",
    )
    site = pages.Site(config, open_store(config.database_url()), load_stories(config))
    with freeze_time("2024-09-14 16:00"):  # already the 15th in Tokyo
        outlook = pages.story_page(site, site.stories[0])["outlook"]
        assert re.search(r"2024-09-15, today", outlook[0])


def test_story_page_of_a_fresh_database_shows_the_seeds(site: pages.Site) -> None:
    facts = {card.key: card for card in pages.story_page(site, site.stories[0])["facts"]}
    deadline = facts["us_forces.withdrawal_deadline"]
    assert (deadline.value, deadline.origin, deadline.known) == ("2024-09-15", "seeds", True)
    assert deadline.sources and all(s.link is None for s in deadline.sources)  # seed: links
    assert facts[BASE.key].value == "operating"
    assert site.store.load_knowledge(site.stories[0].name) == {}  # shown, not written


def test_a_value_an_edited_article_moved_to_is_marked_as_its_change_is() -> None:
    """The timeline marks a reading "updated article" exactly when the change that set it
    is a revision, quoting the same earlier text: not when an edited article only came
    to agree with a value another site reported first."""

    def said(value: int, qualifier: str, day: int, site: str, revision: int = 0) -> Observation:
        quote = f"{value} US troops remain in Niger (version {revision})."
        evidence = Evidence(quote, f"https://{site}/troops", "Troops", date(2024, 8, day))
        evidence = replace(evidence, revision=revision)
        return Observation(COUNT.key, "quantity", value, qualifier, date(2024, 8, day), evidence)

    def fold(*observations: Observation) -> KnownFact:
        known = Knowledge()
        for observation in observations:
            known = compare(known, [observation], TOPIC).knowledge
        fact = known.get(COUNT.key)
        assert fact is not None and fact.change is not None
        return fact

    edited = fold(said(600, "about", 6, "a.example"), said(24, "exact", 6, "a.example", 1))
    agreed = fold(
        said(1000, "about", 1, "a.example"),
        said(600, "about", 5, "b.example"),
        said(600, "about", 6, "a.example", 1),
    )
    for fact, revision in ((edited, True), (agreed, False)):
        assert fact.change is not None and fact.change.revision is revision
        readings = readings_of(fact)
        *_, current = [r for r in readings if r.role == Role.HELD]
        assert current.revision is revision
        assert current.revised_from == fact.change.revised_from
        assert not any(r.revision for r in readings if r is not current)
    assert [e.quote for e in readings_of(edited)[-1].revised_from] == [
        "600 US troops remain in Niger (version 0)."
    ]
