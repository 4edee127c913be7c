from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import feedparser

from watcher.alerts.atom import build_feed, write_feed
from watcher.models import Evidence, FactChange


def change(number: int, quote: str = "The US handed over Air Base 201 on Monday.") -> FactChange:
    return FactChange(
        change_id=number,
        key="bases.air_base_201.status",
        label="Air Base 201 status",
        change_type="status_moved",
        old="operating",
        new="handed over",
        status="confirmed",
        first_seen=datetime(2024, 8, 5, 12, number, tzinfo=UTC),
        evidence=(
            Evidence(
                quote, "https://wire.example/a.html", "Drone base handed over", date(2024, 8, 5)
            ),
        ),
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
    assert [e.id for e in parsed.entries] == [
        "urn:watcher:test:change:2",
        "urn:watcher:test:change:1",
    ]
    newest = parsed.entries[0]
    assert newest.title == "Air Base 201 status: operating → handed over"
    assert "<script>alert(1)</script>" in newest.content[0].value  # as text, escaped in the XML
    assert "&lt;script&gt;" in path.read_text()
    assert newest.links[0].href == "https://wire.example/a.html"
    assert list(tmp_path.joinpath("out").iterdir()) == [path]  # no temporary file left
