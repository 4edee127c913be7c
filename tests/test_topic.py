"""Topic files: short, names only, every mistake in one line naming the place."""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.facts.topic import FactType, TopicError, load_topic
from watcher.models import FactKind

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "config" / "topics" / "niger-us-withdrawal.toml"

MINIMAL = """
name = "chad-test"
title = "A force leaves a place"

[subject]
id = "blue_force"
label = "Blue"
names = ["Blueland", "Bluelandish"]

[place]
label = "Redland"
names = ["Redland", "Red City"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topic.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_topic_is_short_and_has_no_pattern() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 80
    for pattern_mark in ("\\s", "(?:", "\\b", "[^", ".*"):
        assert pattern_mark not in text


def test_the_shipped_topic_keeps_the_contract_keys() -> None:
    topic = load_topic(SHIPPED)
    assert {
        "us_forces.withdrawal_deadline",
        "us_forces.troop_count",
        "us_forces.withdrawal_status",
        "bases.air_base_201.status",
        "bases.air_base_101.status",
    } <= set(topic.keys)
    assert topic.fact("us_forces.withdrawal_status").value_names == (
        "agreed",
        "in_progress",
        "completed",
    )
    assert topic.fact("bases.air_base_201.status").value_names == (
        "operating",
        "withdrawing",
        "handed_over",
    )


def test_a_minimal_topic_tracks_the_built_in_facts(tmp_path: Path) -> None:
    topic = load_topic(write(tmp_path, MINIMAL))
    assert [(f.key, f.kind, f.type) for f in topic.facts] == [
        ("blue_force.withdrawal_deadline", FactKind.DATE, FactType.DEADLINE),
        ("blue_force.troop_count", FactKind.QUANTITY, FactType.TROOP_COUNT),
        ("blue_force.withdrawal_status", FactKind.STATUS, FactType.WITHDRAWAL),
    ]
    assert topic.fact("blue_force.troop_count").label == "Blue troops in Redland"


def test_bases_agreements_and_tracked_presence_become_facts(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + """
[others.green_force]
label = "Green forces"
names = ["Greenland"]
track_presence = true

[[bases]]
id = "north"
label = "North Camp"
names = ["North Camp"]

[[agreements]]
id = "pact"
key = "defence_pact.status"
label = "Defence pact"
names = ["defence pact"]
"""
    )
    topic = load_topic(write(tmp_path, text))
    assert {"bases.north.status", "defence_pact.status", "green_force.presence"} <= set(topic.keys)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('names = ["Blueland", "Bluelandish"]', "names = []"),
            "subject.names: List should have at least 1",
        ),
        (('id = "blue_force"', 'id = "Blue Force"'), "subject.id: an id is lower-case"),
        (('label = "Redland"', 'label = "Redland"\nweather = "hot"'), "place.weather: unknown key"),
        (
            ('names = ["Redland", "Red City"]', 'names = ["Redland", "Blueland"]'),
            "'Blueland' is also a name of subject",
        ),
    ],
)
def test_a_mistake_is_one_line_naming_the_place(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = write(tmp_path, MINIMAL.replace(*change))
    with pytest.raises(TopicError) as caught:
        load_topic(path)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_a_base_id_twice_is_reported(tmp_path: Path) -> None:
    base = '\n[[bases]]\nid = "north"\nlabel = "North"\nnames = ["North Camp"]\n'
    with pytest.raises(TopicError, match=r"bases\[1\] \(north\): id appears twice"):
        load_topic(write(tmp_path, MINIMAL + base + base))


def test_a_topic_in_the_old_format_says_so(tmp_path: Path) -> None:
    old = MINIMAL + '\n[[facts]]\nkey = "x.y"\nkind = "status"\n'
    with pytest.raises(TopicError, match="old format"):
        load_topic(write(tmp_path, old))


def test_missing_and_broken_files_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(TopicError, match="topic file not found"):
        load_topic(tmp_path / "nope.toml")
    with pytest.raises(TopicError, match="not valid TOML"):
        load_topic(write(tmp_path, "name = "))
