"""compare(): observations against what is known, giving the facts that changed."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watcher.facts.baseline import derive_baseline, read_seeds
from watcher.facts.compare import (
    Change,
    Comparison,
    Knowledge,
    KnownFact,
    Policy,
    Reading,
    compare,
    consistent,
    date_window,
    describe,
    vague_range,
)
from watcher.facts.evaluate import load_labels
from watcher.facts.reading import extract_facts
from watcher.facts.topic import load_topic
from watcher.models import Article, Evidence, Observation

ROOT = Path(__file__).resolve().parent.parent
TOPIC = load_topic(ROOT / "config" / "topics" / "niger-us-withdrawal.toml")
SEEDS = ROOT / "seeds"
FACTSET = Path(__file__).resolve().parent / "factset"

COUNT = "us_forces.troop_count"
DEADLINE = "us_forces.withdrawal_deadline"
WITHDRAWAL = "us_forces.withdrawal_status"
BASE_201 = "bases.air_base_201.status"
BASE_101 = "bases.air_base_101.status"
KINDS = {COUNT: "quantity", DEADLINE: "date", WITHDRAWAL: "status"}

# The seeds' baseline is the same for every test; derive it once.
BASELINE = derive_baseline(SEEDS, TOPIC)

# A sentence that makes any article about US forces in Niger (as in test_facts.py).
NIGER = "The United States agreed in April to withdraw its forces from Niger, as Niamey demanded."


def obs(
    key: str,
    value: str | int,
    qualifier: str | None = None,
    as_of: date | None = date(2024, 8, 1),
    url: str = "https://alpha.example/news/1",
    quote: str | None = None,
) -> Observation:
    """An observation of ``key`` as one sentence of one article gave it."""
    kind = KINDS.get(key, "status")
    if kind == "date" and qualifier is None:
        qualifier = "exact"
    evidence = Evidence(
        quote=quote or f"{key} is {value} ({qualifier}), says {url}",
        url=url,
        title=f"Report from {url}",
        published=as_of,
    )
    return Observation(key, kind, value, qualifier, as_of, evidence)


def known(
    key: str,
    value: str | int,
    qualifier: str | None = None,
    as_of: date | None = date(2024, 5, 19),
    url: str = "seed:000",
) -> Knowledge:
    """Knowledge of one fact, as the seeds would give it."""
    kind = KINDS.get(key, "status")
    if kind == "date" and qualifier is None:
        qualifier = "exact"
    evidence = Evidence(f"seed says {value}", url, "seed", date(2024, 4, 20))
    fact = KnownFact(key, kind, Reading(value, qualifier, as_of, (evidence,)), "seeds")
    return Knowledge({key: fact})


def roundtrip(knowledge: Knowledge) -> Knowledge:
    """Knowledge as a store would keep it: through JSON text and back."""
    return Knowledge.from_json(json.loads(json.dumps(knowledge.to_json())))


def article(text: str, published: date | None, url: str) -> Article:
    when = (
        datetime(published.year, published.month, published.day, tzinfo=UTC) if published else None
    )
    return Article(url=url, title=None, text=f"{NIGER}\n\n{text}", published=when)


def urls(change: Change) -> list[str]:
    return [e.url for e in change.evidence]


def old(change: Change) -> Reading:
    """The reading a change replaced (or disagrees with)."""
    assert change.old is not None
    return change.old


# -- repeating what is known ---------------------------------------------------------


def test_the_seeds_read_again_change_nothing() -> None:
    observations = [o for a in read_seeds(SEEDS) for o in extract_facts(a, TOPIC)]
    assert observations
    result = compare(BASELINE, observations, TOPIC)
    assert result.changes == []
    for key, fact in BASELINE.facts.items():
        after = result.knowledge.get(key)
        assert after is not None
        assert (after.value, after.qualifier, after.origin) == (
            fact.value,
            fact.qualifier,
            "seeds",
        )
        assert after.change is None


def test_restating_the_baseline_is_corroboration_not_a_change() -> None:
    result = compare(BASELINE, [obs(DEADLINE, "2024-09-15", url="https://a.example/x")], TOPIC)
    assert result.changes == []
    fact = result.knowledge.get(DEADLINE)
    assert fact is not None
    assert (fact.value, fact.qualifier, fact.origin) == ("2024-09-15", "exact", "seeds")
    assert fact.sources[-1].url == "https://a.example/x"
    assert fact.sources[: len(BASELINE.facts[DEADLINE].sources)] == BASELINE.facts[DEADLINE].sources
    # Restating does not move "as of": that stays the date of the evidence that set the value.
    assert fact.as_of == BASELINE.facts[DEADLINE].as_of == date(2024, 5, 19)
    assert fact.current.last_seen == date(2024, 8, 1)
    assert fact.history == () and fact.change is None


def test_corroboration_keeps_as_of_but_an_older_report_still_changes_nothing() -> None:
    handed = compare(BASELINE, [obs(BASE_201, "handed_over", as_of=date(2024, 8, 5))], TOPIC)
    again = compare(
        handed.knowledge,
        [obs(BASE_201, "handed_over", as_of=date(2024, 8, 20), url="https://b.example/later")],
        TOPIC,
    )
    fact = again.knowledge.get(BASE_201)
    assert fact is not None and fact.as_of == date(2024, 8, 5)
    assert fact.change is not None and fact.change.new.as_of == date(2024, 8, 5)
    # A count older than the newest corroboration is history, as before.
    counted = compare(
        BASELINE,
        [obs(COUNT, 1000, "about", as_of=date(2024, 8, 1), url="https://c.example/")],
        TOPIC,
    )
    older = compare(counted.knowledge, [obs(COUNT, 300, "about", as_of=date(2024, 7, 1))], TOPIC)
    assert older.changes == []
    assert older.knowledge.get(COUNT).as_of == BASELINE.facts[COUNT].as_of


def test_a_restatement_article_from_the_factset_is_no_change() -> None:
    labelled = next(x for x in load_labels(FACTSET) if x.file == "12_restatement.txt")
    observations = extract_facts(labelled.article(FACTSET), TOPIC)
    assert {o.key for o in observations} >= {DEADLINE, COUNT, BASE_201, WITHDRAWAL}
    result = compare(BASELINE, observations, TOPIC)
    assert result.changes == []


def test_a_later_date_in_the_same_window_corroborates() -> None:
    # "by mid-September" does not contradict "by September 15".
    result = compare(BASELINE, [obs(DEADLINE, "2024-09-15", "mid")], TOPIC)
    assert result.changes == []
    assert result.knowledge.facts[DEADLINE].value == "2024-09-15"
    assert result.knowledge.facts[DEADLINE].qualifier == "exact"


def test_nothing_observed_changes_nothing() -> None:
    result = compare(BASELINE, [], TOPIC)
    assert result == Comparison(BASELINE, [])


# -- statuses -----------------------------------------------------------------------------


def test_a_status_moving_forward_is_status_moved() -> None:
    new = obs(BASE_201, "handed_over", as_of=date(2024, 8, 5))
    result = compare(BASELINE, [new], TOPIC)
    [change] = result.changes
    assert change.change_type == "status_moved"
    assert (change.key, change.kind) == (BASE_201, "status")
    assert change.old is not None and old(change).value == "operating"
    assert change.new.value == "handed_over"
    assert change.evidence == (new.evidence,)
    assert (change.status, change.event) == ("reported", "new")
    fact = result.knowledge.get(BASE_201)
    assert fact is not None
    assert (fact.value, fact.origin, fact.as_of) == ("handed_over", "observed", date(2024, 8, 5))
    assert fact.history == (BASELINE.facts[BASE_201].current,)
    assert fact.change == change


def test_a_status_may_skip_a_step_of_its_ladder() -> None:
    result = compare(known(WITHDRAWAL, "agreed"), [obs(WITHDRAWAL, "completed")], TOPIC)
    assert [(c.change_type, old(c).value, c.new.value) for c in result.changes] == [
        ("status_moved", "agreed", "completed")
    ]


def test_a_status_moving_backward_is_ignored() -> None:
    # "the base US forces are leaving", written after the handover, is background.
    before = known(BASE_201, "handed_over", as_of=date(2024, 8, 5))
    result = compare(before, [obs(BASE_201, "withdrawing", as_of=date(2024, 8, 20))], TOPIC)
    assert result.changes == []
    assert result.knowledge == before


def test_statuses_walk_the_ladder_in_one_pass() -> None:
    observations = [
        obs(BASE_201, "handed_over", as_of=date(2024, 8, 5), url="https://c.example/3"),
        obs(BASE_201, "withdrawing", as_of=date(2024, 7, 7), url="https://b.example/2"),
        obs(BASE_201, "operating", as_of=date(2024, 7, 1), url="https://a.example/1"),
    ]
    result = compare(BASELINE, observations, TOPIC)
    assert sorted((old(c).value, c.new.value) for c in result.changes) == [
        ("operating", "withdrawing"),
        ("withdrawing", "handed_over"),
    ]
    fact = result.knowledge.get(BASE_201)
    assert fact is not None
    assert fact.value == "handed_over"
    assert [r.value for r in fact.history] == ["operating", "withdrawing"]


def test_a_fact_the_baseline_lacks_is_a_new_value() -> None:
    assert BASE_101 not in BASELINE.facts
    result = compare(BASELINE, [obs(BASE_101, "handed_over", as_of=date(2024, 7, 7))], TOPIC)
    [change] = result.changes
    assert (change.change_type, change.old, change.new.value) == ("new_value", None, "handed_over")
    assert change.identity == f"{BASE_101}|new_value|-|handed_over/None"
    assert result.knowledge.facts[BASE_101].origin == "observed"


# -- older articles -----------------------------------------------------------------------


def test_an_older_article_does_not_overwrite_a_newer_count() -> None:
    now = compare(BASELINE, [obs(COUNT, 600, "about", date(2024, 7, 20))], TOPIC).knowledge
    result = compare(now, [obs(COUNT, 1000, "about", date(2024, 5, 1), "https://b.example")], TOPIC)
    assert result.changes == []
    assert result.knowledge == now


def test_an_older_article_does_not_overwrite_a_newer_date() -> None:
    before = known(DEADLINE, "2024-08-15", as_of=date(2024, 7, 1))
    result = compare(before, [obs(DEADLINE, "2024-09-15", as_of=date(2024, 5, 19))], TOPIC)
    assert result.changes == []
    assert result.knowledge == before


def test_an_older_article_does_not_move_a_status_back() -> None:
    before = known(WITHDRAWAL, "completed", as_of=date(2024, 8, 5))
    result = compare(before, [obs(WITHDRAWAL, "in_progress", as_of=date(2024, 7, 1))], TOPIC)
    assert result.changes == []
    assert result.knowledge == before


def test_an_older_article_agreeing_with_the_value_only_adds_a_source() -> None:
    before = known(DEADLINE, "2024-09-15", as_of=date(2024, 7, 1))
    result = compare(before, [obs(DEADLINE, "2024-09-15", as_of=date(2024, 6, 1))], TOPIC)
    fact = result.knowledge.get(DEADLINE)
    assert result.changes == []
    assert fact is not None and len(fact.sources) == 2
    assert fact.as_of == date(2024, 7, 1)  # an older source does not make the value older


# -- dates ----------------------------------------------------------------------------------


def test_a_new_deadline_is_date_changed() -> None:
    new = obs(DEADLINE, "2024-08-15", as_of=date(2024, 7, 10))
    result = compare(BASELINE, [new], TOPIC)
    [change] = result.changes
    assert change.change_type == "date_changed"
    assert (old(change).value, old(change).qualifier) == ("2024-09-15", "exact")
    assert (change.new.value, change.new.qualifier) == ("2024-08-15", "exact")
    assert old(change).sources == BASELINE.facts[DEADLINE].sources  # both sides keep evidence
    fact = result.knowledge.get(DEADLINE)
    assert fact is not None
    assert (fact.value, fact.origin) == ("2024-08-15", "observed")
    assert fact.history == (BASELINE.facts[DEADLINE].current,)


def test_a_date_outside_the_window_changes_it() -> None:
    # "late September" cannot be September 15.
    result = compare(BASELINE, [obs(DEADLINE, "2024-09-25", "late")], TOPIC)
    assert [c.change_type for c in result.changes] == ["date_changed"]


@freeze_time("2024-07-01")
def test_an_undated_article_changes_no_year_less_date() -> None:
    # Without a date of its own (and without the feed item's), "August 15" has
    # no year: it is not read, so it cannot move the deadline to a guessed year.
    text = "US forces must now leave Niger by August 15, officials in Niamey said."
    observations = extract_facts(article(text, None, "https://undated.example/a"), TOPIC)
    result = compare(BASELINE, observations, TOPIC)
    assert [c for c in result.changes if c.key == DEADLINE] == []


@freeze_time("2031-01-01")
def test_a_dated_article_does_not_depend_on_today() -> None:
    text = "US forces must now leave Niger by August 15, officials in Niamey said."
    observations = extract_facts(article(text, date(2024, 7, 20), "https://dated.example/a"), TOPIC)
    result = compare(BASELINE, observations, TOPIC)
    [change] = [c for c in result.changes if c.key == DEADLINE]
    assert (change.new.value, change.new.as_of) == ("2024-08-15", date(2024, 7, 20))


# -- counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [900, 950, 1000, 1050, 1090, 1111])
def test_a_count_within_tolerance_is_corroboration(value: int) -> None:
    before = known(COUNT, 1000, "about")
    result = compare(before, [obs(COUNT, value, "about")], TOPIC)
    assert result.changes == []
    fact = result.knowledge.get(COUNT)
    assert fact is not None
    assert (fact.value, fact.qualifier, fact.origin) == (1000, "about", "seeds")
    assert len(fact.sources) == 2


@pytest.mark.parametrize("value", [600, 880, 899, 1112, 1500])
def test_a_count_outside_tolerance_is_count_changed(value: int) -> None:
    before = known(COUNT, 1000, "about")
    result = compare(before, [obs(COUNT, value, "about")], TOPIC)
    [change] = result.changes
    assert change.change_type == "count_changed"
    assert (old(change).value, change.new.value) == (1000, value)
    assert result.knowledge.facts[COUNT].value == value


def test_the_tolerance_comes_from_the_policy() -> None:
    before = known(COUNT, 1000, "about")
    loose = compare(before, [obs(COUNT, 800, "about")], TOPIC, Policy(count_tolerance=0.25))
    strict = compare(before, [obs(COUNT, 980, "about")], TOPIC, Policy(count_tolerance=0.01))
    assert loose.changes == []
    assert [c.change_type for c in strict.changes] == ["count_changed"]


def test_counts_from_the_seeds_baseline_change() -> None:
    result = compare(BASELINE, [obs(COUNT, 600, "about", date(2024, 7, 20))], TOPIC)
    [change] = result.changes
    assert change.identity == f"{COUNT}|count_changed|1000/about|600/about"
    # The seeds' disagreement ("more than" / "fewer than") is the old side's evidence.
    assert [e.url for e in old(change).sources] == [
        "seed:000_1b701daddded4476",
        "seed:003_b1028b63aebc63cf",
    ]


@pytest.mark.parametrize("value", [24, 300, 3000])
def test_a_vague_count_never_changes_a_count(value: int) -> None:
    # "dozens", "several hundred", "several thousand"
    before = known(COUNT, 1000, "about")
    result = compare(before, [obs(COUNT, value, "vague", date(2024, 8, 20))], TOPIC)
    assert result.changes == []
    assert result.knowledge.facts[COUNT].value == 1000
    assert result.knowledge.facts[COUNT].qualifier == "about"


def test_a_vague_count_does_not_confirm_a_change_it_cannot_tell_apart() -> None:
    # "Several hundred" fits 600 and "about 1,000" alike: it speaks for neither.
    first = obs(COUNT, 600, "about", date(2024, 7, 20), "https://alpha.example/600")
    vague = obs(COUNT, 300, "vague", date(2024, 7, 22), "https://beta.example/hundreds")
    result = compare(BASELINE, [first, vague], TOPIC)
    [change] = result.changes
    assert change.status == "reported"
    assert urls(change) == ["https://alpha.example/600"]
    # It still corroborates the current value, which it fits.
    assert "https://beta.example/hundreds" in [e.url for e in result.knowledge.facts[COUNT].sources]


def test_a_second_exact_count_does_confirm_the_change() -> None:
    first = obs(COUNT, 600, "about", date(2024, 7, 20), "https://alpha.example/600")
    second = obs(COUNT, 620, "about", date(2024, 7, 22), "https://beta.example/620")
    [change] = compare(BASELINE, [first, second], TOPIC).changes
    assert change.status == "confirmed"
    assert urls(change) == ["https://alpha.example/600", "https://beta.example/620"]


# -- conflicts ----------------------------------------------------------------------------


def test_same_day_disagreement_is_a_conflict_keeping_the_current_value() -> None:
    day = date(2024, 7, 20)
    now = compare(BASELINE, [obs(COUNT, 600, "about", day, "https://alpha.example/1")], TOPIC)
    current = now.knowledge.facts[COUNT]
    result = compare(
        now.knowledge, [obs(COUNT, 400, "about", day, "https://beta.example/2")], TOPIC
    )
    [conflict] = result.changes
    assert conflict.change_type == "conflict"
    assert conflict.old == current.current  # both sides, with their evidence
    assert conflict.new.value == 400 and urls(conflict) == ["https://beta.example/2"]
    assert (conflict.status, conflict.event) == ("reported", "new")
    fact = result.knowledge.facts[COUNT]
    assert fact.current == current.current
    assert fact.change == current.change
    assert fact.conflicts == (conflict,)


def test_a_same_day_date_disagreement_is_a_conflict() -> None:
    before = known(DEADLINE, "2024-09-15", as_of=date(2024, 7, 1))
    result = compare(before, [obs(DEADLINE, "2024-08-15", as_of=date(2024, 7, 1))], TOPIC)
    assert [c.change_type for c in result.changes] == ["conflict"]
    assert result.knowledge.facts[DEADLINE].value == "2024-09-15"


def test_a_value_the_fact_had_before_is_a_conflict_not_a_change_back() -> None:
    moved = compare(BASELINE, [obs(DEADLINE, "2024-08-15", as_of=date(2024, 7, 10))], TOPIC)
    later = obs(DEADLINE, "2024-09-15", as_of=date(2024, 7, 30), url="https://beta.example/x")
    result = compare(moved.knowledge, [later], TOPIC)
    [conflict] = result.changes
    assert conflict.change_type == "conflict"
    assert (old(conflict).value, conflict.new.value) == ("2024-08-15", "2024-09-15")
    assert result.knowledge.facts[DEADLINE].value == "2024-08-15"


def test_sources_agreeing_with_a_conflict_join_it_and_confirm_it() -> None:
    day = date(2024, 7, 20)
    knowledge = compare(BASELINE, [obs(COUNT, 600, "about", day, "https://alpha.example/")], TOPIC)
    observations = [
        obs(COUNT, 400, "about", day, "https://beta.example/1"),
        obs(COUNT, 410, "about", day, "https://gamma.example/2"),
    ]
    result = compare(knowledge.knowledge, observations, TOPIC)
    [conflict] = result.changes
    assert conflict.status == "confirmed"
    assert urls(conflict) == ["https://beta.example/1", "https://gamma.example/2"]
    assert len(result.knowledge.facts[COUNT].conflicts) == 1
    assert result.knowledge.facts[COUNT].value == 600


# -- several sources --------------------------------------------------------------------------


def test_the_same_change_from_several_articles_is_one_change() -> None:
    observations = [
        obs(BASE_201, "handed_over", as_of=date(2024, 8, 5), url=f"https://site{i}.example/n")
        for i in range(3)
    ]
    result = compare(BASELINE, observations, TOPIC)
    [change] = result.changes
    assert urls(change) == [f"https://site{i}.example/n" for i in range(3)]
    assert change.status == "confirmed"
    assert change.new.sites == 3


def test_two_urls_on_the_same_site_stay_reported() -> None:
    observations = [
        obs(BASE_201, "handed_over", as_of=date(2024, 8, 5), url="https://www.alpha.example/a"),
        obs(BASE_201, "handed_over", as_of=date(2024, 8, 6), url="https://alpha.example/b"),
    ]
    [change] = compare(BASELINE, observations, TOPIC).changes
    assert len(change.evidence) == 2
    assert change.new.sites == 1
    assert change.status == "reported"


def test_two_sites_confirm() -> None:
    observations = [
        obs(BASE_201, "handed_over", as_of=date(2024, 8, 5), url="https://alpha.example/a"),
        obs(BASE_201, "handed_over", as_of=date(2024, 8, 6), url="https://beta.example/b"),
    ]
    [change] = compare(BASELINE, observations, TOPIC).changes
    assert change.status == "confirmed"


def test_confirm_sites_comes_from_the_policy() -> None:
    observations = [
        obs(BASE_201, "handed_over", as_of=date(2024, 8, 5), url=f"https://s{i}.example/")
        for i in range(2)
    ]
    [three] = compare(BASELINE, observations, TOPIC, Policy(confirm_sites=3)).changes
    [one] = compare(BASELINE, observations[:1], TOPIC, Policy(confirm_sites=1)).changes
    assert (three.status, one.status) == ("reported", "confirmed")


def test_the_same_sentence_twice_is_one_source() -> None:
    once = obs(BASE_201, "handed_over", as_of=date(2024, 8, 5))
    [change] = compare(BASELINE, [once, once], TOPIC).changes
    assert change.evidence == (once.evidence,)


# -- events across passes ---------------------------------------------------------------------


def test_events_across_passes_with_knowledge_kept_as_json() -> None:
    def handed_over(url: str, day: int) -> Observation:
        return obs(BASE_201, "handed_over", as_of=date(2024, 8, day), url=url)

    knowledge = roundtrip(BASELINE)

    first = compare(knowledge, [handed_over("https://alpha.example/1", 5)], TOPIC)
    assert [(c.status, c.event) for c in first.changes] == [("reported", "new")]
    knowledge = roundtrip(first.knowledge)

    # Another article from the same site: more evidence, still reported.
    second = compare(knowledge, [handed_over("https://alpha.example/2", 6)], TOPIC)
    assert [(c.status, c.event) for c in second.changes] == [("reported", "corroborated")]
    assert len(second.changes[0].evidence) == 2
    knowledge = roundtrip(second.knowledge)

    # A second site: confirmed now.
    third = compare(knowledge, [handed_over("https://beta.example/3", 7)], TOPIC)
    assert [(c.status, c.event) for c in third.changes] == [("confirmed", "confirmed")]
    knowledge = roundtrip(third.knowledge)

    # A third site: more evidence for a confirmed change.
    fourth = compare(knowledge, [handed_over("https://gamma.example/4", 8)], TOPIC)
    assert [(c.status, c.event) for c in fourth.changes] == [("confirmed", "corroborated")]
    assert len(fourth.changes[0].evidence) == 4

    identities = {c.identity for p in (first, second, third, fourth) for c in p.changes}
    assert identities == {f"{BASE_201}|status_moved|operating/None|handed_over/None"}


def test_confirmed_at_once_is_new() -> None:
    observations = [
        obs(BASE_201, "handed_over", as_of=date(2024, 8, 5), url="https://alpha.example/"),
        obs(BASE_201, "handed_over", as_of=date(2024, 8, 5), url="https://beta.example/"),
    ]
    [change] = compare(BASELINE, observations, TOPIC).changes
    assert (change.status, change.event) == ("confirmed", "new")


def test_the_same_article_read_again_is_no_news() -> None:
    report = obs(BASE_201, "handed_over", as_of=date(2024, 8, 5))
    first = compare(BASELINE, [report], TOPIC)
    again = compare(roundtrip(first.knowledge), [report], TOPIC)
    assert again.changes == []
    assert again.knowledge == first.knowledge


def test_a_conflict_read_again_is_no_news() -> None:
    day = date(2024, 7, 20)
    knowledge = compare(BASELINE, [obs(COUNT, 600, "about", day)], TOPIC).knowledge
    dissent = obs(COUNT, 400, "about", day, "https://beta.example/")
    first = compare(knowledge, [dissent], TOPIC)
    assert [c.event for c in first.changes] == ["new"]
    again = compare(roundtrip(first.knowledge), [dissent], TOPIC)
    assert again.changes == []
    more = compare(
        again.knowledge, [obs(COUNT, 400, "about", day, "https://gamma.example/")], TOPIC
    )
    assert [(c.change_type, c.status, c.event) for c in more.changes] == [
        ("conflict", "confirmed", "confirmed")
    ]


def test_restating_the_baseline_after_a_change_is_not_news() -> None:
    # Once the base is handed over, a report that agrees with the change
    # feeds it; one that agrees only with the seeds is background.
    first = compare(BASELINE, [obs(BASE_201, "handed_over", as_of=date(2024, 8, 5))], TOPIC)
    later = obs(BASE_201, "operating", as_of=date(2024, 8, 9), url="https://beta.example/")
    result = compare(first.knowledge, [later], TOPIC)
    assert result.changes == []


# -- order and identity ---------------------------------------------------------------------


def _factset_observations() -> list[Observation]:
    found = []
    for labelled in load_labels(FACTSET):
        found.extend(extract_facts(labelled.article(FACTSET), TOPIC))
    return found


FACTSET_OBSERVATIONS = _factset_observations()
MIXED = [
    *FACTSET_OBSERVATIONS,
    obs(COUNT, 400, "about", date(2024, 7, 20), "https://beta.example/dissent"),
    obs(COUNT, 300, "vague", date(2024, 7, 22), "https://gamma.example/vague"),
    obs(DEADLINE, "2024-08-15", as_of=date(2024, 7, 20), url="https://delta.example/d"),
    obs(DEADLINE, "2024-08-15", "mid", date(2024, 7, 25), "https://epsilon.example/d"),
    obs(BASE_201, "operating", as_of=date(2024, 8, 30), url="https://zeta.example/old"),
]


def test_the_factset_gives_the_story_of_the_summer() -> None:
    result = compare(BASELINE, FACTSET_OBSERVATIONS, TOPIC)
    facts = result.knowledge.facts
    assert facts[BASE_201].value == "handed_over"
    assert facts[BASE_101].value == "handed_over"
    assert facts[WITHDRAWAL].value == "completed"
    assert facts[DEADLINE].value == "2024-09-15" and facts[DEADLINE].origin == "seeds"
    assert facts[COUNT].value < 1000
    assert len({c.identity for c in result.changes}) == len(result.changes)
    assert all(c.event == "new" for c in result.changes)
    completed = next(
        c for c in result.changes if c.key == WITHDRAWAL and c.new.value == "completed"
    )
    assert completed.status == "confirmed"


def test_shuffled_observations_give_the_same_result() -> None:
    expected = compare(BASELINE, MIXED, TOPIC)
    assert expected.changes
    rng = random.Random(20240915)
    for _ in range(20):
        shuffled = list(MIXED)
        rng.shuffle(shuffled)
        assert compare(BASELINE, shuffled, TOPIC) == expected
    assert compare(BASELINE, reversed(MIXED), TOPIC) == expected
    assert compare(BASELINE, iter(MIXED), TOPIC) == expected


SMALL = [
    obs(COUNT, 600, "about", date(2024, 7, 20), "https://alpha.example/1"),
    obs(COUNT, 400, "about", date(2024, 7, 20), "https://beta.example/2"),
    obs(COUNT, 410, "about", date(2024, 7, 20), "https://gamma.example/3"),
    obs(COUNT, 300, "vague", date(2024, 7, 20), "https://delta.example/4"),
    obs(BASE_201, "withdrawing", as_of=date(2024, 7, 7), url="https://alpha.example/5"),
    obs(BASE_201, "handed_over", as_of=date(2024, 8, 5), url="https://alpha.example/6"),
    obs(BASE_201, "handed_over", as_of=date(2024, 8, 5), url="https://beta.example/7"),
    obs(BASE_201, "operating", as_of=date(2024, 8, 5), url="https://gamma.example/8"),
    obs(DEADLINE, "2024-08-15", as_of=date(2024, 7, 1), url="https://alpha.example/9"),
    obs(DEADLINE, "2024-09-15", as_of=date(2024, 7, 1), url="https://beta.example/10"),
    obs(WITHDRAWAL, "completed", as_of=None, url="https://undated.example/11"),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(SMALL))
def test_any_order_gives_the_same_result(shuffled: list[Observation]) -> None:
    assert compare(BASELINE, shuffled, TOPIC) == compare(BASELINE, SMALL, TOPIC)


def test_identity_is_what_changed_from_what_to_what() -> None:
    [change] = compare(BASELINE, [obs(DEADLINE, "2024-08-15")], TOPIC).changes
    assert change.identity == f"{DEADLINE}|date_changed|2024-09-15/exact|2024-08-15/exact"


def test_identity_does_not_depend_on_evidence_dates_or_status() -> None:
    a = compare(BASELINE, [obs(BASE_201, "handed_over", as_of=date(2024, 8, 5))], TOPIC)
    b = compare(
        BASELINE,
        [
            obs(BASE_201, "handed_over", as_of=date(2024, 8, 9), url="https://x.example/"),
            obs(BASE_201, "handed_over", as_of=date(2024, 8, 10), url="https://y.example/"),
        ],
        TOPIC,
    )
    assert a.changes[0].status != b.changes[0].status
    assert a.changes[0].identity == b.changes[0].identity
    assert replace(a.changes[0], event="confirmed").identity == a.changes[0].identity


def test_identity_tells_different_changes_apart() -> None:
    identities = {
        compare(BASELINE, [o], TOPIC).changes[0].identity
        for o in (
            obs(COUNT, 600, "about"),
            obs(COUNT, 600, "exact"),
            obs(COUNT, 500, "about"),
            obs(DEADLINE, "2024-08-15"),
            obs(DEADLINE, "2024-08-15", "mid"),
            obs(BASE_201, "withdrawing"),
            obs(BASE_201, "handed_over"),
        )
    }
    assert len(identities) == 7


def test_identity_survives_json() -> None:
    result = compare(BASELINE, MIXED, TOPIC)
    for change in result.changes:
        again = Change.from_json(json.loads(json.dumps(change.to_json())))
        assert again == change
        assert again.identity == change.identity == change.to_json()["identity"]


# -- JSON -------------------------------------------------------------------------------------


def test_knowledge_round_trips_through_json() -> None:
    result = compare(BASELINE, MIXED, TOPIC)
    facts = result.knowledge.facts
    assert any(f.conflicts for f in facts.values())
    assert any(f.history for f in facts.values())
    assert any(f.alternatives for f in facts.values())
    assert roundtrip(result.knowledge) == result.knowledge
    assert roundtrip(BASELINE) == BASELINE


def test_known_fact_json_has_the_fact_contract_fields() -> None:
    data = BASELINE.to_json()[COUNT]
    assert {"key", "kind", "value", "qualifier", "as_of"} <= set(data)
    assert (data["value"], data["qualifier"], data["as_of"]) == (1000, "about", "2024-05-19")
    assert list(BASELINE.to_json()) == sorted(BASELINE.facts)


def test_change_json_carries_both_sides_and_their_evidence() -> None:
    [change] = compare(BASELINE, [obs(DEADLINE, "2024-08-15")], TOPIC).changes
    data = change.to_json()
    assert data["old"] == {"value": "2024-09-15", "qualifier": "exact", "as_of": "2024-05-19"}
    assert data["new"] == {"value": "2024-08-15", "qualifier": "exact", "as_of": "2024-08-01"}
    assert [e["url"] for e in data["evidence"]] == ["https://alpha.example/news/1"]
    assert [e["url"] for e in data["old_evidence"]] == ["seed:003_b1028b63aebc63cf"]
    assert (data["status"], data["event"]) == ("reported", "new")
    assert data["change_type"] == "date_changed"


# -- helpers --------------------------------------------------------------------------------


def reading(value: str | int, qualifier: str | None) -> Reading:
    return Reading(value, qualifier, None)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (reading("2024-09-15", "exact"), reading("2024-09-15", "mid"), True),
        (reading("2024-09-15", "exact"), reading("2024-09-15", "month"), True),
        (reading("2024-09-15", "exact"), reading("2024-09-05", "early"), False),
        (reading("2024-09-15", "exact"), reading("2024-09-25", "late"), False),
        (reading("2024-09-05", "early"), reading("2024-09-25", "month"), True),
        (reading("2024-09-15", "exact"), reading("2024-09-16", "exact"), False),
        (reading("2024-09-15", "exact"), reading("2025-09-15", "month"), False),
        (reading("operating", None), reading("operating", None), True),
        (reading("operating", None), reading("handed_over", None), False),
        (reading(1000, "about"), reading(1111, "exact"), True),
        (reading(1000, "about"), reading(1112, "exact"), False),
        (reading(300, "vague"), reading(650, "about"), True),
        (reading(24, "vague"), reading(1000, "about"), False),
        (reading(1000, "about"), reading(24, "vague"), False),
    ],
)
def test_consistent(a: Reading, b: Reading, expected: bool) -> None:
    policy = Policy()
    assert consistent(a, b, policy) is expected
    assert consistent(b, a, policy) is expected


@pytest.mark.parametrize(
    ("value", "qualifier", "window"),
    [
        ("2024-09-15", "exact", ("2024-09-15", "2024-09-15")),
        ("2024-09-15", None, ("2024-09-15", "2024-09-15")),
        ("2024-09-05", "early", ("2024-09-01", "2024-09-10")),
        ("2024-09-15", "mid", ("2024-09-11", "2024-09-20")),
        ("2024-09-25", "late", ("2024-09-21", "2024-09-30")),
        ("2024-02-15", "month", ("2024-02-01", "2024-02-29")),
        ("2023-02-25", "late", ("2023-02-21", "2023-02-28")),
    ],
)
def test_date_window(value: str, qualifier: str | None, window: tuple[str, str]) -> None:
    first, last = date_window(Reading(value, qualifier, None))
    assert (first.isoformat(), last.isoformat()) == window


@pytest.mark.parametrize(
    ("value", "expected"),
    [(24, (20, 99)), (36, (20, 99)), (300, (200, 999)), (200, (200, 999)), (3000, (2000, 9999))],
)
def test_vague_range(value: int, expected: tuple[int, int]) -> None:
    assert vague_range(value) == expected


@pytest.mark.parametrize(
    ("kind", "value", "qualifier", "text"),
    [
        ("quantity", 1000, "about", "about 1,000"),
        ("quantity", 1000, "more_than", "more than 1,000"),
        ("quantity", 1000, "fewer_than", "fewer than 1,000"),
        ("quantity", 1000, "exact", "1,000"),
        ("quantity", 1000, None, "1,000"),
        ("quantity", 300, "vague", "an unspecified number (200-999)"),
        ("date", "2024-09-15", "exact", "2024-09-15"),
        ("date", "2024-09-15", "mid", "mid-September 2024"),
        ("date", "2024-09-05", "early", "early-September 2024"),
        ("date", "2024-09-15", "month", "September 2024"),
        ("status", "handed_over", None, "handed over"),
        ("status", "in_progress", None, "in progress"),
    ],
)
def test_describe(kind: str, value: str | int, qualifier: str | None, text: str) -> None:
    assert describe(kind, value, qualifier) == text
