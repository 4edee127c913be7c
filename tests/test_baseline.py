"""The baseline: the seeds' facts, their disagreements, and what the user pins."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from watcher.facts.baseline import BaselineError, derive_baseline, read_seeds
from watcher.facts.compare import Knowledge, Reading
from watcher.facts.topic import load_topic

ROOT = Path(__file__).resolve().parent.parent
TOPIC = load_topic(ROOT / "config" / "topics" / "niger-us-withdrawal.toml")
SEEDS = ROOT / "seeds"

COUNT = "us_forces.troop_count"
DEADLINE = "us_forces.withdrawal_deadline"
WITHDRAWAL = "us_forces.withdrawal_status"
BASE_201 = "bases.air_base_201.status"
BASE_101 = "bases.air_base_101.status"

SEED_000 = "seed:000_1b701daddded4476"
SEED_002 = "seed:002_4f896d0f4a15c4a5"
SEED_003 = "seed:003_b1028b63aebc63cf"

BASELINE = derive_baseline(SEEDS, TOPIC)


def urls(reading: Reading) -> list[str]:
    return [e.url for e in reading.sources]


def copy_seeds(tmp_path: Path, manifest: str | None = None) -> Path:
    """The seeds in a folder of their own, with another manifest if given."""
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    if manifest is not None:
        (folder / "manifest.toml").write_text(manifest, encoding="utf-8")
    return folder


# -- reading the seeds -------------------------------------------------------------------------


def test_read_seeds_takes_title_date_and_url_from_the_manifest() -> None:
    articles = read_seeds(SEEDS)
    assert [a.url for a in articles] == [SEED_000, SEED_002, SEED_003]
    first = articles[0]
    assert first.title == "The United States agrees to withdraw its forces from Niger"
    assert first.published == datetime(2024, 4, 20, tzinfo=UTC)
    assert first.published_date == date(2024, 4, 20)
    assert first.text == (SEEDS / "000_1b701daddded4476.txt").read_text(encoding="utf-8")
    assert [a.published_date for a in articles] == [
        date(2024, 4, 20),
        date(2024, 4, 19),
        date(2024, 5, 19),
    ]


# -- the seeds' facts ----------------------------------------------------------------------------


def test_every_derived_fact_comes_from_the_seeds() -> None:
    assert {DEADLINE, COUNT, WITHDRAWAL, BASE_201} <= set(BASELINE.facts)
    for key, fact in BASELINE.facts.items():
        assert fact.key == key
        assert fact.kind == TOPIC.fact(key).kind
        assert fact.origin == "seeds"
        assert fact.sources, key
        assert all(e.url.startswith("seed:") for e in fact.sources)
        assert fact.history == () and fact.conflicts == () and fact.change is None


def test_deadline_is_september_15_exact() -> None:
    fact = BASELINE.facts[DEADLINE]
    assert (fact.kind, fact.value, fact.qualifier) == ("date", "2024-09-15", "exact")
    assert SEED_003 in urls(fact.current)
    assert fact.alternatives == ()


def test_troop_count_is_about_1000_keeping_both_seed_readings() -> None:
    fact = BASELINE.facts[COUNT]
    assert (fact.kind, fact.value, fact.qualifier) == ("quantity", 1000, "about")
    assert fact.as_of == date(2024, 5, 19)
    assert urls(fact.current) == [SEED_000, SEED_003]
    readings = {(r.value, r.qualifier): r for r in fact.alternatives}
    assert set(readings) >= {(1000, "more_than"), (1000, "fewer_than")}
    more, fewer = readings[1000, "more_than"], readings[1000, "fewer_than"]
    assert urls(more) == [SEED_000]
    assert "more than 1,000" in more.sources[0].quote
    assert more.as_of == date(2024, 4, 20)
    assert urls(fewer) == [SEED_003]
    assert "fewer than 1,000" in fewer.sources[0].quote
    assert fewer.as_of == date(2024, 5, 19)


def test_air_base_201_is_operating() -> None:
    fact = BASELINE.facts[BASE_201]
    assert (fact.kind, fact.value) == ("status", "operating")
    assert "Air Base 201" in fact.sources[0].quote


def test_withdrawal_is_agreed_by_every_seed() -> None:
    fact = BASELINE.facts[WITHDRAWAL]
    assert (fact.kind, fact.value) == ("status", "agreed")
    assert sorted(urls(fact.current)) == [SEED_000, SEED_002, SEED_003]
    assert fact.as_of == date(2024, 5, 19)


def test_a_status_baseline_is_the_furthest_the_seeds_report() -> None:
    # The seeds say the 2012 agreement was suspended (000) and ended (002, 003).
    fact = BASELINE.facts["cooperation_agreement.status"]
    assert fact.value == "ended"
    assert [(r.value, urls(r)) for r in fact.alternatives] == [("suspended", [SEED_000])]


def test_the_baseline_is_the_same_every_time_and_round_trips() -> None:
    again = derive_baseline(SEEDS, TOPIC)
    assert again == BASELINE
    assert json.dumps(again.to_json()) == json.dumps(BASELINE.to_json())
    assert Knowledge.from_json(json.loads(json.dumps(BASELINE.to_json()))) == BASELINE


def test_one_seed_alone_keeps_its_own_wording(tmp_path: Path) -> None:
    folder = copy_seeds(
        tmp_path,
        '[[seed]]\nfile = "000_1b701daddded4476.txt"\npublished = 2024-04-20\n'
        f'url = "{SEED_000}"\n',
    )
    fact = derive_baseline(folder, TOPIC).facts[COUNT]
    assert (fact.value, fact.qualifier, fact.alternatives) == (1000, "more_than", ())
    assert urls(fact.current) == [SEED_000]


# -- pins ---------------------------------------------------------------------------------------


def test_a_bare_pin_overrides_and_keeps_the_derived_reading() -> None:
    knowledge = derive_baseline(SEEDS, TOPIC, pins={BASE_201: "withdrawing"})
    fact = knowledge.facts[BASE_201]
    derived = BASELINE.facts[BASE_201]
    assert (fact.value, fact.qualifier, fact.origin) == ("withdrawing", None, "pinned")
    assert fact.as_of == derived.as_of
    assert fact.sources == ()
    assert fact.alternatives == (derived.current,)
    # The other facts stay as the seeds give them.
    assert {k: f for k, f in knowledge.facts.items() if k != BASE_201} == {
        k: f for k, f in BASELINE.facts.items() if k != BASE_201
    }


def test_a_table_pin_overrides_value_qualifier_and_date() -> None:
    pin = {"value": 1100, "qualifier": "about", "as_of": "2024-05-01"}
    fact = derive_baseline(SEEDS, TOPIC, pins={COUNT: pin}).facts[COUNT]
    derived = BASELINE.facts[COUNT]
    assert (fact.value, fact.qualifier, fact.as_of, fact.origin) == (
        1100,
        "about",
        date(2024, 5, 1),
        "pinned",
    )
    assert fact.alternatives == (derived.current, *derived.alternatives)
    assert {(r.value, r.qualifier) for r in fact.alternatives} >= {
        (1000, "about"),
        (1000, "more_than"),
        (1000, "fewer_than"),
    }


def test_a_bare_count_pin_is_exact() -> None:
    fact = derive_baseline(SEEDS, TOPIC, pins={COUNT: 950}).facts[COUNT]
    assert (fact.value, fact.qualifier, fact.origin) == (950, "exact", "pinned")


@pytest.mark.parametrize("pin", ["2024-08-15", date(2024, 8, 15), datetime(2024, 8, 15, 12)])
def test_a_date_pin_takes_a_string_or_a_toml_date(pin: object) -> None:
    fact = derive_baseline(SEEDS, TOPIC, pins={DEADLINE: pin}).facts[DEADLINE]
    assert (fact.value, fact.qualifier, fact.origin) == ("2024-08-15", "exact", "pinned")
    assert fact.alternatives == (BASELINE.facts[DEADLINE].current,)


def test_a_date_pin_may_be_vaguer() -> None:
    pin = {"value": "2024-09-15", "qualifier": "mid"}
    fact = derive_baseline(SEEDS, TOPIC, pins={DEADLINE: pin}).facts[DEADLINE]
    assert (fact.value, fact.qualifier) == ("2024-09-15", "mid")


def test_a_pin_for_a_fact_the_seeds_lack_has_no_alternatives() -> None:
    assert BASE_101 not in BASELINE.facts
    fact = derive_baseline(SEEDS, TOPIC, pins={BASE_101: "operating"}).facts[BASE_101]
    assert (fact.value, fact.origin, fact.as_of, fact.alternatives) == (
        "operating",
        "pinned",
        None,
        (),
    )


def test_pinned_knowledge_round_trips() -> None:
    pins = {COUNT: {"value": 1100, "qualifier": "about"}, BASE_201: "withdrawing"}
    knowledge = derive_baseline(SEEDS, TOPIC, pins=pins)
    assert Knowledge.from_json(json.loads(json.dumps(knowledge.to_json()))) == knowledge


@pytest.mark.parametrize(
    ("key", "pin", "words"),
    [
        ("us_forces.morale", "high", "not a fact"),
        (BASE_201, "abandoned", "one of operating, withdrawing, handed_over"),
        (WITHDRAWAL, "handed_over", "one of agreed, in_progress, completed"),
        (BASE_201, {"value": 3}, "one of"),
        (COUNT, "about 1,000", "whole number"),
        (COUNT, 1000.5, "whole number"),
        (COUNT, True, "whole number"),
        (COUNT, -5, "whole number"),
        (COUNT, {"value": 1000, "qualifier": "roughly"}, "qualifier must be one of"),
        (DEADLINE, "15 September", "not a date"),
        (DEADLINE, "2024-09-31", "not a date"),
        (DEADLINE, {"value": "2024-09-15", "qualifier": "soon"}, "qualifier must be one of"),
        (DEADLINE, {"value": "2024-09-15", "as_of": "yesterday"}, "not a date"),
        (COUNT, {"value": 1000, "source": "me"}, "give value"),
        (COUNT, {"qualifier": "about"}, "give value"),
    ],
)
def test_a_bad_pin_is_a_one_line_error_naming_its_key(key: str, pin: object, words: str) -> None:
    with pytest.raises(BaselineError) as caught:
        derive_baseline(SEEDS, TOPIC, pins={key: pin})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"pins: {key}: ")
    assert words in message


# -- broken seeds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("manifest", "words"),
    [
        ("[[seed]\nfile = ", "cannot read the seeds"),
        ('[[seed]]\nfile = "000_1b701daddded4476.txt"\nurl = "seed:x"\n', "published"),
        (
            '[[seed]]\nfile = "000_1b701daddded4476.txt"\nurl = "seed:x"\n'
            'published = 2024-04-20\nauthor = "someone"\n',
            "author",
        ),
        (
            '[[seed]]\nfile = "000_1b701daddded4476.txt"\nurl = "seed:x"\npublished = "April"\n',
            "published",
        ),
        ('[[seed]]\nfile = "missing.txt"\nurl = "seed:x"\npublished = 2024-04-20\n', "missing"),
        ("", "seed"),
    ],
)
def test_a_broken_manifest_names_the_file(tmp_path: Path, manifest: str, words: str) -> None:
    folder = copy_seeds(tmp_path, manifest)
    with pytest.raises(BaselineError) as caught:
        derive_baseline(folder, TOPIC)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(folder / "manifest.toml"))
    assert words in message


def test_a_missing_manifest_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match=r"manifest\.toml: cannot read the seeds"):
        read_seeds(tmp_path)


def test_a_seed_that_is_not_text_names_the_manifest(tmp_path: Path) -> None:
    folder = copy_seeds(tmp_path)
    (folder / "000_1b701daddded4476.txt").write_bytes(b"\xff\xfe\x00broken")
    with pytest.raises(BaselineError) as caught:
        read_seeds(folder)
    assert str(caught.value).startswith(str(folder / "manifest.toml"))


# -- vague counts in the seeds ------------------------------------------------------------------

VAGUE_SEED = (
    "US troops to stay in Niger for now\n\n"
    "NIAMEY (Desk) - Several hundred US troops are still in Niger, most of them at "
    "Air Base 201 near Agadez, officials in Niamey said.\n"
)


def seeds_with_vague_count(tmp_path: Path, *keep: str) -> Path:
    """The seeds named in ``keep`` (by file name prefix), and one that says "several hundred"."""
    folder = copy_seeds(tmp_path)
    (folder / "004_vague.txt").write_text(VAGUE_SEED, encoding="utf-8")
    blocks = (folder / "manifest.toml").read_text(encoding="utf-8").split("[[seed]]")[1:]
    kept = [f"[[seed]]{block}" for block in blocks if any(p in block for p in keep)]
    vague = (
        '[[seed]]\nfile = "004_vague.txt"\npublished = 2024-05-20\n'
        'url = "https://other.example/vague"\n'
    )
    (folder / "manifest.toml").write_text("\n".join([*kept, vague]), encoding="utf-8")
    return folder


def test_a_vague_seed_count_is_not_averaged_into_the_count(tmp_path: Path) -> None:
    # "fewer than 1,000" and "several hundred" agree; the count is still about
    # 1,000, not "about 300" (the number that stands for "several hundred").
    folder = seeds_with_vague_count(tmp_path, "003_")
    fact = derive_baseline(folder, TOPIC).facts[COUNT]
    assert (fact.value, fact.qualifier) == (1000, "about")
    assert {(r.value, r.qualifier) for r in fact.alternatives} == {
        (1000, "fewer_than"),
        (300, "vague"),
    }
    assert urls(fact.current) == [SEED_003, "https://other.example/vague"]


def test_a_vague_seed_count_alone_stays_vague(tmp_path: Path) -> None:
    folder = seeds_with_vague_count(tmp_path)
    fact = derive_baseline(folder, TOPIC).facts[COUNT]
    assert (fact.value, fact.qualifier) == (300, "vague")
