from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time

from watcher.facts.dates import find_dates
from watcher.facts.numbers import find_counts
from watcher.facts.reading import extract_facts, is_relevant
from watcher.facts.text import split_sentences
from watcher.facts.topic import load_topic
from watcher.models import Article, Observation

ROOT = Path(__file__).resolve().parent.parent
TOPIC = load_topic(ROOT / "config" / "topics" / "niger-us-withdrawal.toml")

COUNT = "us_forces.troop_count"
DEADLINE = "us_forces.withdrawal_deadline"
WITHDRAWAL = "us_forces.withdrawal_status"
BASE_201 = "bases.air_base_201.status"
BASE_101 = "bases.air_base_101.status"

# A sentence that makes any article about US forces in Niger, so that each
# test is about the sentence under test, not about relevance.
NIGER = "The United States agreed in April to withdraw its forces from Niger, as Niamey demanded."


def article(
    text: str, published: date | None = date(2024, 7, 20), title: str | None = None
) -> Article:
    when = (
        datetime(published.year, published.month, published.day, tzinfo=UTC) if published else None
    )
    return Article(
        url="https://news.example/niger", title=title, text=f"{NIGER}\n\n{text}", published=when
    )


def facts(
    text: str, published: date | None = date(2024, 7, 20), **kwargs: str
) -> list[Observation]:
    return extract_facts(article(text, published, **kwargs), TOPIC)


def values(text: str, key: str, published: date | None = date(2024, 7, 20)) -> set[object]:
    return {(o.value, o.qualifier) for o in facts(text, published) if o.key == key}


# -- who a sentence is about ---------------------------------------------------------


def test_french_troop_count_is_not_a_us_count() -> None:
    text = (
        "France withdrew its 1,500 troops from Niger last year, while about 1,000 US troops remain."
    )
    assert values(text, COUNT) == {(1000, "about")}


def test_french_withdrawal_completed_is_not_the_us_withdrawal() -> None:
    text = (
        "The last French soldiers left Niger on Friday, completing a "
        "withdrawal ordered by the junta."
    )
    assert values(text, WITHDRAWAL) == {("agreed", None)}


def test_chadian_troops_are_not_us_troops() -> None:
    assert (
        values("About 1,200 Chadian soldiers are deployed near the border with Niger.", COUNT)
        == set()
    )


def test_us_troops_in_chad_are_not_us_troops_in_niger() -> None:
    text = (
        "About 75 US troops are stationed in Chad, most of them in N'Djamena.\n"
        "They will be moved to Germany for now."
    )
    assert values(text, COUNT) == set()


def test_place_of_the_event_wins_over_niger_in_the_same_sentence() -> None:
    text = (
        "A first group of US special forces left Chad this week, as the "
        "military prepares to leave Niger."
    )
    assert values(text, WITHDRAWAL) == {("agreed", None)}


def test_german_airlift_base_in_niamey_is_not_air_base_101() -> None:
    text = (
        "The last German soldiers left the base near Niamey airport on August 30.\n"
        "About 100 German troops had staffed the hub."
    )
    found = facts(text)
    assert not [o for o in found if o.key in (BASE_101, COUNT)]


def test_italian_troops_are_not_us_troops() -> None:
    text = "The mission has about 250 Italian soldiers training Nigerien special forces."
    assert values(text, COUNT) == set()


def test_russian_count_is_not_a_us_count_but_russians_are_present() -> None:
    text = (
        "About 100 Russian military trainers arrived in Niger in April with an air defence system."
    )
    found = facts(text)
    assert not [o for o in found if o.key == COUNT]
    assert [o.value for o in found if o.key == "russian_forces.presence"] == ["present"]


def test_nigerien_soldiers_are_not_us_troops() -> None:
    text = "US advisers trained about 1,500 Nigerien soldiers before the coup."
    assert values(text, COUNT) == set()


def test_article_about_nigeria_is_off_topic() -> None:
    text = (
        "Nigeria's army deployed about 3,000 soldiers to Borno state, the army said in Abuja. "
        "The US sold Nigeria its Super Tucano aircraft. Nigerian officials said insurgents "
        "cross from neighbouring Niger."
    )
    nigeria = Article(
        url="https://news.example/nigeria", title="Nigeria's army", text=text, published=None
    )
    assert not is_relevant(nigeria, TOPIC)
    assert extract_facts(nigeria, TOPIC) == []


def test_nigerian_means_niger_in_an_article_that_never_names_nigeria() -> None:
    text = (
        "The Nigerian military government and the United States agreed that American forces "
        "will leave the country by September 15, officials in Niamey said."
    )
    niger = Article(
        url="https://news.example/n",
        title="Nigerian junta and US agree",
        text=text,
        published=datetime(2024, 5, 20, tzinfo=UTC),
    )
    assert is_relevant(niger, TOPIC)
    assert {o.key for o in extract_facts(niger, TOPIC)} == {DEADLINE, WITHDRAWAL}


def test_article_without_the_subject_is_off_topic() -> None:
    text = "The last French soldiers left Niger on Friday. France had 1,500 troops in Niger."
    assert extract_facts(Article("https://n.example/f", None, text, None), TOPIC) == []


def test_subject_carries_over_to_a_sentence_that_continues_it() -> None:
    text = "US officials gave new figures on Friday.\nAbout 600 remain in the country, they said."
    assert values(text, COUNT) == {(600, "about")}


def test_subject_does_not_carry_over_a_paragraph_break() -> None:
    text = "US officials gave new figures on Friday.\n\nAbout 600 remain in the country, they said."
    assert values(text, COUNT) == set()


def test_other_actor_carries_over_too() -> None:
    text = "German officials confirmed the timetable.\nAbout 100 soldiers remain in Niamey."
    assert values(text, COUNT) == set()


# -- tense and modality --------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "The US military is expected to hand over Air Base 201 in August.",
        "The US plans to complete its withdrawal from Niger by September 15.",
        "US forces will hand over Air Base 201 to Nigerien forces next month.",
        "US officials said Air Base 201 could be handed over as early as next week.",
        "US forces have not yet handed over Air Base 201 in Agadez, a spokesperson said.",
        "The Pentagon said the US has not completed its withdrawal, "
        "denying that the last troops had left.",
        "The US aims to have completed its withdrawal from Niger before the September deadline.",
        "The handover of Air Base 201 near Agadez is expected to take place in the coming days.",
        "The US agreed to hand over Air Base 201 before leaving Niger.",
    ],
)
def test_intentions_are_not_completions(sentence: str) -> None:
    found = facts(sentence)
    assert not [o for o in found if o.value in ("handed_over", "completed")]


@pytest.mark.parametrize(
    ("sentence", "key", "value"),
    [
        ("The US military has handed over Air Base 201 to Niger's army.", BASE_201, "handed_over"),
        ("The US military has completed its withdrawal from Niger.", WITHDRAWAL, "completed"),
        ("The last US troops left Niger on Monday, officials said.", WITHDRAWAL, "completed"),
        ("US forces completed the turnover of Air Base 101 in Niamey.", BASE_101, "handed_over"),
        (
            "The US withdrawal from the Agadez base was completed on Monday.",
            BASE_201,
            "handed_over",
        ),
        (
            "Nigerien troops took control of Air Base 101 in Niamey on Sunday.",
            BASE_101,
            "handed_over",
        ),
        ("US troops have begun withdrawing from Air Base 101 in Niamey.", BASE_101, "withdrawing"),
        (
            "The US withdrawal from Niger is under way, the Pentagon said.",
            WITHDRAWAL,
            "in_progress",
        ),
        ("US forces operate drones from Air Base 201 near Agadez.", BASE_201, "operating"),
    ],
)
def test_completed_and_ongoing_events(sentence: str, key: str, value: str) -> None:
    assert value in {o.value for o in facts(sentence) if o.key == key}


def test_completed_withdrawal_from_a_base_is_the_base_handed_over() -> None:
    # One base done is the withdrawal under way, not the withdrawal completed.
    found = facts("The US military completed its withdrawal from Air Base 101 in Niamey on Sunday.")
    assert {(o.key, o.value) for o in found if o.key != WITHDRAWAL} == {(BASE_101, "handed_over")}
    assert [o.value for o in found if o.key == WITHDRAWAL] == ["in_progress"]


def test_two_bases_in_one_sentence_each_get_their_own_status() -> None:
    text = (
        "After handing over Air Base 101 in Niamey, US forces are expected to hand over "
        "Air Base 201 in Agadez in August."
    )
    found = {(o.key, o.value) for o in facts(text) if o.key.startswith("bases.")}
    assert found == {(BASE_101, "handed_over")}


def test_the_base_stands_for_the_base_named_just_before() -> None:
    text = (
        "US forces are still operating from Air Base 201 near Agadez.\n"
        "American personnel have begun packing up equipment at the base."
    )
    assert {o.value for o in facts(text) if o.key == BASE_201} == {"withdrawing"}


def test_an_article_reports_the_furthest_status_it_states() -> None:
    text = (
        "US forces began withdrawing from Air Base 201 in June.\n"
        "The US handed over Air Base 201 to Niger's army on August 5."
    )
    assert [o.value for o in facts(text, date(2024, 8, 6)) if o.key == BASE_201] == ["handed_over"]


# -- dates ---------------------------------------------------------------------------


def test_year_less_deadline_resolves_against_publication_date() -> None:
    text = "US forces will leave Niger by September 15 under the agreement."
    assert values(text, DEADLINE, published=date(2024, 5, 19)) == {("2024-09-15", "exact")}
    assert values(text, DEADLINE, published=date(2025, 6, 1)) == {("2025-09-15", "exact")}


@freeze_time("2024-06-01")
def test_article_without_a_date_gives_no_year_less_date() -> None:
    # No year is guessed from today: the feed item's date stands in when the page
    # has none, and with neither a year-less date is not read at all.
    found = facts("US forces will leave Niger by September 15.", published=None)
    assert [o for o in found if o.key == DEADLINE] == []
    found = facts("US forces will leave Niger by September 15, 2024.", published=None)
    assert [(o.value, o.as_of) for o in found if o.key == DEADLINE] == [("2024-09-15", None)]


def test_mid_september_is_not_a_precise_date() -> None:
    text = "The US remains on course to withdraw all its forces from Niger by mid-September."
    assert values(text, DEADLINE) == {("2024-09-15", "mid")}


def test_deadline_noun_picks_the_deadline_among_dates() -> None:
    text = "The US completed its withdrawal on August 5, ahead of the September 15 deadline."
    assert values(text, DEADLINE, published=date(2024, 8, 6)) == {("2024-09-15", "exact")}


def test_date_something_ended_is_not_a_deadline() -> None:
    assert values("US troops had left Niger by August 5, officials said.", DEADLINE) == set()


def test_guess_at_an_earlier_end_is_not_the_deadline() -> None:
    text = "Officials said the US withdrawal could be finished by mid-August."
    assert values(text, DEADLINE) == set()


def test_date_of_the_event_is_its_as_of() -> None:
    found = facts("On August 5, the US handed over Air Base 201 to Niger's army.", date(2024, 8, 7))
    assert [o.as_of for o in found if o.key == BASE_201] == [date(2024, 8, 5)]


def test_weekday_of_the_event_resolves_before_publication() -> None:
    found = facts("The US military handed over Air Base 101 on Sunday.", date(2024, 7, 8))
    assert [o.as_of for o in found if o.key == BASE_101] == [date(2024, 7, 7)]


def test_without_an_event_date_as_of_is_the_publication_date() -> None:
    found = facts("About 600 US troops remain in Niger.", date(2024, 7, 20))
    assert [o.as_of for o in found if o.key == COUNT] == [date(2024, 7, 20)]


def test_event_dated_after_publication_is_a_plan() -> None:
    found = facts("The US hands over Air Base 201 on August 5.", date(2024, 7, 20))
    assert not [o for o in found if o.key == BASE_201]


def test_find_dates_forms() -> None:
    text = "By Sept. 15, 2024, in early August, late July, by the end of June and on 7 July"
    found = [(d.value.isoformat(), d.precision) for d in find_dates(text, date(2024, 5, 1))]
    assert found == [
        ("2024-09-15", "exact"),
        ("2024-08-05", "early"),
        ("2024-07-25", "late"),
        ("2024-06-30", "late"),
        ("2024-07-07", "exact"),
    ]


# -- numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The US has about a thousand troops in Niger.", {(1000, "about")}),
        ("Some six hundred US soldiers are still in Niger.", {(600, "about")}),
        ("The US has 1,100 military personnel in Niger.", {(1100, "exact")}),
        ("Fewer than 1,000 US troops are in Niger.", {(1000, "fewer_than")}),
        ("More than 1,000 American soldiers are in Niger.", {(1000, "more_than")}),
        ("Several hundred US troops are still in Niger.", {(300, "vague")}),
        ("Hundreds of US troops are still in Niger.", {(200, "vague")}),
    ],
)
def test_counts_in_digits_and_words(sentence: str, expected: set[object]) -> None:
    assert values(sentence, COUNT) == expected


def test_dollars_are_not_troops() -> None:
    text = (
        "The US built Air Base 201 near Agadez at a cost of more than $100 million for its troops."
    )
    assert values(text, COUNT) == set()


def test_troops_withdrawn_are_not_troops_present() -> None:
    text = (
        "The US has withdrawn roughly 400 of its troops from Niger, leaving "
        "about 600 in the country."
    )
    assert values(text, COUNT) == {(600, "about")}


def test_troops_that_left_are_not_troops_present() -> None:
    assert values("Several hundred US troops have already left Niger.", COUNT) == set()
    assert values("About 400 US troops left Niger last week.", COUNT) == set()


def test_troops_to_be_withdrawn_are_the_troops_present() -> None:
    text = "The deal gives the US four months to draw down fewer than 1,000 troops."
    assert values(text, COUNT) == {(1000, "fewer_than")}


def test_count_from_before_the_coup_is_history() -> None:
    text = "About 1,100 US military personnel were deployed in Niger before the July 2023 coup."
    assert values(text, COUNT) == set()


def test_count_someone_expects_is_not_a_count() -> None:
    assert values("Several hundred US troops could remain until September.", COUNT) == set()


def test_find_counts_ignores_masked_names_and_money() -> None:
    text = "Air Base 201 cost $110 million and 2 soldiers"
    found = [(c.value, c.qualifier) for c in find_counts(text, masked=[(0, 12)])]
    assert found == [(2, "exact")]


# -- evidence ------------------------------------------------------------------------


def test_quote_is_the_sentence_as_it_appears() -> None:
    text = "The US forces operate in Niger from a drone base known as “Air Base 201,” near Agadez."
    (found,) = [o for o in facts(text) if o.key == BASE_201]
    assert found.evidence.quote == text
    assert found.evidence.url == "https://news.example/niger"
    assert found.evidence.published == date(2024, 7, 20)


def test_sentences_split_at_full_stops_but_not_abbreviations() -> None:
    text = "U.S. Africa Command said so. Col. Smith agreed.\nSecond line\n\nNew paragraph."
    found = split_sentences(text)
    assert [s.text for s in found] == [
        "U.S. Africa Command said so.",
        "Col. Smith agreed.",
        "Second line",
        "New paragraph.",
    ]
    assert [s.new_paragraph for s in found] == [True, False, False, True]


def test_boilerplate_gives_nothing() -> None:
    assert facts("Share.\nExit mobile version") == facts("")


@freeze_time("2025-03-10")
def test_a_date_without_a_year_in_an_undated_article_is_not_resolved() -> None:
    # No year is guessed from today, not even for February 29 (which used to crash).
    assert find_dates("by February 29 and by September 15", None) == []
    assert [d.value for d in find_dates("by February 29", date(2024, 3, 1))] == [date(2024, 2, 29)]
