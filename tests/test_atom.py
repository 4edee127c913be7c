from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import feedparser

from watcher.alerts.atom import build_feed, entry_id, write_feed
from watcher.models import Evidence, FactChange


def change(
    number: int,
    quote: str = "The US handed over Air Base 201 on Monday.",
    *,
    key: str = "bases.air_base_201.status",
    new_value: str = "handed_over",
) -> FactChange:
    return FactChange(
        change_id=number,
        key=key,
        label="Air Base 201 status",
        change_type="status_moved",
        old="operating",
        new=new_value.replace("_", " "),
        status="confirmed",
        first_seen=datetime(2024, 8, 5, 12, number, tzinfo=UTC),
        evidence=(
            Evidence(
                quote, "https://wire.example/a.html", "Drone base handed over", date(2024, 8, 5)
            ),
            Evidence("Confirmed.", "https://other.example/b.html", None, date(2024, 8, 6)),
        ),
        old_value="operating",
        new_value=new_value,
    )


def feed_of(*changes: FactChange, self_url: str | None = None) -> feedparser.FeedParserDict:
    return feedparser.parse(
        build_feed(
            changes,
            title="watcher: Niger",
            feed_id="urn:watcher:test",
            updated=datetime(2024, 8, 6, tzinfo=UTC),
            self_url=self_url,
        )
    )


def test_feed_reads_back_with_feedparser(tmp_path: Path) -> None:
    path = tmp_path / "out" / "changes.atom"
    hostile = 'He said <script>alert(1)</script> & "left".'
    write_feed(
        path,
        build_feed(
            [change(1), change(2, hostile)],
            title="watcher: Niger",
            feed_id="urn:watcher:test",
            updated=datetime(2024, 8, 6, tzinfo=UTC),
        ),
    )
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo
    newest = parsed.entries[0]
    assert newest.title == "Air Base 201 status: operating → handed over"
    assert "<script>alert(1)</script>" in newest.content[0].value  # as text, escaped in the XML
    assert "&lt;script&gt;" in path.read_text()
    assert newest.links[0].href == "https://wire.example/a.html"
    assert list(tmp_path.joinpath("out").iterdir()) == [path]  # no temporary file left


def test_entries_link_to_the_article_and_the_feed_to_itself() -> None:
    parsed = feed_of(change(1), self_url="https://example.org/watcher/changes.atom")
    [entry] = parsed.entries
    # A reader's entry link is the article that reported the change, not a urn.
    assert entry.link == "https://wire.example/a.html"
    assert [(link.rel, link.href) for link in entry.links] == [
        ("alternate", "https://wire.example/a.html"),
        ("related", "https://other.example/b.html"),
    ]
    [own] = [link for link in parsed.feed.links if link.rel == "self"]
    assert own.href == "https://example.org/watcher/changes.atom"


def test_entry_ids_follow_the_change_not_the_database_row() -> None:
    handed, completed = change(1), change(2, key="us_forces.withdrawal_status")
    first = [e.id for e in feed_of(handed, completed).entries]
    # A recreated database numbers its changes from 1 again, for other changes.
    renumbered = replace(completed, change_id=1), replace(handed, change_id=2)
    again = [e.id for e in feed_of(*renumbered).entries]
    assert sorted(first) == sorted(again) and len(set(first)) == 2
    assert all(entry_id.startswith("urn:uuid:") for entry_id in first)
    moved_on = replace(handed, new="withdrawing", new_value="withdrawing")
    assert feed_of(moved_on).entries[0].id not in first


def test_entry_ids_of_several_stories_include_the_story() -> None:
    """Two stories may see the same fact move the same way: two entries, two ids, each
    the same on every run; a one-story feed keeps the ids its readers already have."""
    niger = replace(change(1), story="niger", story_title="US forces leave Niger")
    desk = replace(change(2), story="niger-desk", story_title="US forces leave Niger")

    def ids(*changes: FactChange) -> list[str]:
        parsed = feedparser.parse(
            build_feed(
                changes,
                title="watcher: US forces leave Niger, US forces leave Niger",
                feed_id="urn:watcher:stories",
                updated=datetime(2024, 8, 6, tzinfo=UTC),
                with_story=True,
            )
        )
        return [entry.id for entry in parsed.entries]

    both = ids(niger, desk)
    assert len(set(both)) == 2
    assert ids(replace(desk, change_id=1), replace(niger, change_id=2)) == both
    assert ids(niger) == [both[1]]

    # One story: the id is the one it had before stories were part of it.
    [one] = feed_of(replace(niger, story="niger-us-withdrawal")).entries
    assert one.id == entry_id("urn:watcher:test", change(1))
    pinned = entry_id("urn:watcher:niger-us-withdrawal", change(1))
    assert pinned == "urn:uuid:96de1b5e-0886-53ea-a11b-5b9ea44468cb"
