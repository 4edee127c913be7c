"""The classes of sentence the first reader got wrong on real coverage.

Each test is a small sentence of the class, written for this file (the real
articles are in the corpus, measured by `watcher eval corpus`). The story is
the shipped one: US forces leaving Niger.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from watcher.facts.reading import extract_facts
from watcher.facts.topic import Topic, load_topic
from watcher.models import Article

TOPIC = load_topic(
    Path(__file__).resolve().parent.parent / "config/topics/niger-us-withdrawal.toml"
)
DEADLINE = "us_forces.withdrawal_deadline"
COUNT = "us_forces.troop_count"
WITHDRAWAL = "us_forces.withdrawal_status"
BASE_101 = "bases.air_base_101.status"
BASE_201 = "bases.air_base_201.status"
# Makes any text an article about the story, so that each test is about its sentence.
LEAD = "Niger's rulers in Niamey have been at odds with the United States for a year."


def article(text: str, published: date | None) -> Article:
    when = (
        datetime(published.year, published.month, published.day, tzinfo=UTC) if published else None
    )
    return Article(url="https://wire.example/a", title=None, text=text, published=when)


def topic_from(tmp_path: Path, toml: str) -> Topic:
    """A topic written for one test."""
    path = tmp_path / "topic.toml"
    path.write_text(toml, encoding="utf-8")
    return load_topic(path)


def pairs(text: str, topic: Topic, published: date) -> set[tuple[str, object]]:
    """(key, value) of every fact read from ``text`` with ``topic``."""
    return {(o.key, o.value) for o in extract_facts(article(text, published), topic)}


def read(text: str, published: date | None = date(2024, 7, 20)) -> dict[str, set[object]]:
    found: dict[str, set[object]] = {}
    for obs in extract_facts(article(f"{LEAD}\n\n{text}", published), TOPIC):
        if obs.extra.get("implied"):
            continue
        value = (obs.value, obs.qualifier) if obs.kind == "quantity" else obs.value
        found.setdefault(obs.key, set()).add(value)
    return found


def statuses(text: str, key: str, published: date | None = date(2024, 7, 20)) -> set[object]:
    return read(text, published).get(key, set())


# -- doubt, questions and reported denial state nothing -----------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Officials could not say whether the last American soldiers have left Air Base 201.",
        "It remains unclear if US troops have handed over Air Base 101.",
        "Have the Americans really handed over the Agadez drone base?",
        "Reports that US troops had left Air Base 201 turned out to be false.",
        "The Pentagon denied that it had handed over Air Base 101 to the junta.",
        "Washington has yet to hand over Air Base 201.",
        "If talks fail, US forces would leave Air Base 201 within weeks.",
    ],
)
def test_doubt_questions_and_denials_state_no_base_status(sentence: str) -> None:
    found = read(sentence)
    assert found.get(BASE_101, set()) | found.get(BASE_201, set()) <= {"operating"}


def test_a_denial_does_not_reach_past_but() -> None:
    text = "The Pentagon denied any delay, but US forces handed over Air Base 101 on Sunday."
    assert statuses(text, BASE_101) == {"handed_over"}


# -- a date next to another date -----------------------------------------------------


def test_the_deadline_is_the_date_by_the_deadline_noun_not_the_day_it_was_set() -> None:
    text = "US forces will leave before the Sept. 15 deadline that was agreed in May."
    assert statuses(text, DEADLINE) == {"2024-09-15"}


def test_one_sentence_with_an_old_and_a_new_deadline_gives_the_new_one() -> None:
    text = "The US extended its deadline to leave Niger from August 31 to September 15."
    assert statuses(text, DEADLINE) == {"2024-09-15"}


def test_a_new_deadline_replaces_the_others_the_article_names() -> None:
    text = (
        "Washington has set a new deadline of September 15 for its troops to leave Niger. "
        "US troops had been due to leave the country by August 31 under an earlier deal."
    )
    assert statuses(text, DEADLINE) == {"2024-09-15"}


@pytest.mark.parametrize(
    "sentence",
    [
        "Hundreds of US troops will leave Niger by August 1, and the rest by September 15.",
        "Some US troops will leave Niger by August 1, the remainder by September 15.",
        "US forces are to leave Niger by August 1 for some units and by September 15 for others.",
    ],
)
def test_when_some_of_the_force_leave_by_a_date_it_is_a_stage_not_the_deadline(
    sentence: str,
) -> None:
    assert statuses(sentence, DEADLINE) == {"2024-09-15"}


def test_some_troops_leaving_before_the_deadline_still_name_the_deadline() -> None:
    text = "A small contingent of US troops is expected to leave before the September 15 deadline."
    assert statuses(text, DEADLINE) == {"2024-09-15"}


@pytest.mark.parametrize(
    "sentence",
    [
        "Protesters are calling for the US military to start withdrawing in August "
        "and to leave by September 15.",
        "Lawmakers keep pushing for the US military to start withdrawing in August "
        "and to leave by September 15.",
    ],
)
def test_one_party_wanting_another_to_leave_is_no_decision(sentence: str) -> None:
    found = read(sentence)
    assert WITHDRAWAL not in found and DEADLINE not in found, found


def test_a_plan_aiming_for_a_date_is_still_a_plan() -> None:
    text = "The US military's roadmap aims for all US troops to leave Niger by September 15."
    assert statuses(text, DEADLINE) == {"2024-09-15"}


def test_a_second_infinitive_shares_the_first_ones_governor() -> None:
    text = "The US agreed to start withdrawing in August and to leave Niger by September 15."
    found = read(text)
    assert found[WITHDRAWAL] == {"agreed"} and found[DEADLINE] == {"2024-09-15"}


def test_a_deadline_said_to_be_unlikely_is_none() -> None:
    text = "Officials say that withdrawing the last US troops from Niger by August 1 is unlikely."
    assert statuses(text, DEADLINE) == set()


def test_the_date_something_was_done_is_not_a_deadline() -> None:
    assert statuses("US troops had left Air Base 101 by July 7.", DEADLINE) == set()


# -- the same event in other words ----------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "key", "value"),
    [
        (
            "The withdrawal of US forces and equipment from Air Base 101 is complete.",
            BASE_101,
            "handed_over",
        ),
        ("US troops have handed over Airbase 201 to the Nigerien army.", BASE_201, "handed_over"),
        (
            "The Pentagon pulled its last troops out of Air Base 101 on Sunday.",
            BASE_101,
            "handed_over",
        ),
        ("American forces have begun pulling out of Air Base 201.", BASE_201, "withdrawing"),
        ("US troops started packing up at the drone base near Agadez.", BASE_201, "withdrawing"),
        (
            "Nigerien forces took control of Air Base 101 after the Americans left.",
            BASE_101,
            "handed_over",
        ),
    ],
)
def test_paraphrases_of_a_base_event(sentence: str, key: str, value: str) -> None:
    assert value in statuses(sentence, key)


def test_a_withdrawal_that_will_be_finalised_by_a_date_is_agreed_with_that_deadline() -> None:
    found = read("The US withdrawal from Niger will be finalised by September 15.")
    assert found.get(DEADLINE) == {"2024-09-15"}
    assert found.get(WITHDRAWAL) == {"agreed"}


def test_an_extended_deadline_is_the_new_date() -> None:
    found = read("The deadline for the US pullout was extended to September 30.")
    assert found.get(DEADLINE) == {"2024-09-30"}


# -- lists -----------------------------------------------------------------------------


def test_one_verb_over_two_bases() -> None:
    found = read("The US has handed over both Air Base 101 and Air Base 201 to Niger's army.")
    assert found.get(BASE_101) == {"handed_over"} and found.get(BASE_201) == {"handed_over"}


def test_each_base_of_a_list_gets_its_own_date() -> None:
    text = "US troops withdrew from Air Base 101 on July 7 and from Air Base 201 on August 5."
    article = Article(
        url="https://wire.example/b",
        title=None,
        text=f"{LEAD}\n\n{text}",
        published=datetime(2024, 8, 6, tzinfo=UTC),
    )
    dated = {o.key: o.as_of for o in extract_facts(article, TOPIC) if o.key.startswith("bases.")}
    assert dated == {BASE_101: date(2024, 7, 7), BASE_201: date(2024, 8, 5)}


# -- numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "count"),
    [
        ("Two dozen US soldiers remain in Niger.", (24, "exact")),
        ("Between 500 and 600 US troops are still in Niger.", (500, "between")),
        ("The 1,000-strong US contingent in Niger is packing up.", (1000, "exact")),
        ("Some 800 AFRICOM personnel are still deployed in Niger.", (800, "about")),
        ("The US still has a little over 900 military personnel in Niger.", (900, "more_than")),
    ],
)
def test_counts_in_words_ranges_and_with_the_subject_inside(
    sentence: str, count: tuple[int, str]
) -> None:
    assert statuses(sentence, COUNT) == {count}


@pytest.mark.parametrize(
    ("sentence", "count"),
    [
        # To come: the force is still at its starting size.
        (
            "The plan will cut the number of US troops in Niger from about 1,000 to 500.",
            (1000, "about"),
        ),
        (
            "US troop levels in Niger are set to fall, a reduction from 1,100 to 600.",
            (1100, "exact"),
        ),
        # Done: the force is at its new size.
        ("The Pentagon cut the number of US troops in Niger from 1,100 to 600.", (600, "exact")),
        ("AFRICOM has reduced US troops in Niger to fewer than 700.", (700, "fewer_than")),
    ],
)
def test_a_change_of_size_counts_the_size_there_is_now(
    sentence: str, count: tuple[int, str]
) -> None:
    assert statuses(sentence, COUNT) == {count}


def test_a_reduction_still_to_come_gives_no_count_of_its_target() -> None:
    assert (
        statuses("Washington plans a reduction to fewer than 500 US troops in Niger.", COUNT)
        == set()
    )


def test_the_two_forces_is_no_count() -> None:
    text = "US troops trained with the Nigerien army; the two forces shared a base in Niger."
    assert statuses(text, COUNT) == set()


def test_a_range_keeps_its_upper_end() -> None:
    article = Article(
        url="https://wire.example/c",
        title=None,
        text=f"{LEAD}\n\nBetween 500 and 600 US troops are still in Niger.",
        published=datetime(2024, 7, 20, tzinfo=UTC),
    )
    [count] = [o for o in extract_facts(article, TOPIC) if o.key == COUNT]
    assert count.extra["upper"] == 600


# -- one base completed is not the whole withdrawal -----------------------------------


def test_completing_the_withdrawal_from_one_base_is_that_base_handed_over() -> None:
    text = "The US has completed the withdrawal of all its forces from Air Base 101."
    found = read(text)
    assert found.get(BASE_101) == {"handed_over"}
    assert found.get(WITHDRAWAL) == {"in_progress"}


def test_leaving_an_unnamed_base_is_not_the_whole_withdrawal() -> None:
    assert "completed" not in statuses(
        "The last US troops have left the base in Niamey.", WITHDRAWAL
    )


# -- another place's count --------------------------------------------------------------


def test_a_count_goes_with_the_place_named_with_it() -> None:
    text = "About 75 US soldiers have left Chad, while about 1,000 remain in Niger."
    assert statuses(text, COUNT) == {(1000, "about")}


def test_a_count_for_two_places_together_is_no_count_of_one() -> None:
    assert statuses("The US has about 1,900 troops in Niger and Chad.", COUNT) == set()


# -- dates and the article's date ---------------------------------------------------------


def test_an_undated_article_gives_no_year_less_date() -> None:
    assert statuses("US forces will leave Niger by September 15.", DEADLINE, None) == set()


def test_the_day_of_an_event_is_taken_from_its_own_sentence() -> None:
    text = (
        "The US handed over Air Base 101 on Friday.\n"
        "A ceremony for the Germans' airlift hub was held on Thursday."
    )
    article = Article(
        url="https://wire.example/d",
        title=None,
        text=f"{LEAD}\n\n{text}",
        published=datetime(2024, 7, 8, tzinfo=UTC),  # a Monday
    )
    [base] = [o for o in extract_facts(article, TOPIC) if o.key == BASE_101]
    assert base.as_of == date(2024, 7, 5)


def test_a_restated_event_without_a_date_does_not_take_the_articles_date() -> None:
    text = "Air Base 101, which US forces left in early July, now houses Russian trainers."
    article = Article(
        url="https://wire.example/e",
        title=None,
        text=f"{LEAD}\n\n{text}",
        published=datetime(2024, 9, 2, tzinfo=UTC),
    )
    [base] = [o for o in extract_facts(article, TOPIC) if o.key == BASE_101]
    assert base.as_of is not None and base.as_of < date(2024, 8, 1)


def test_after_the_withdrawal_completed_the_count_is_none_left() -> None:
    text = "The US completed its withdrawal from Niger on Monday, the Pentagon said."
    assert statuses(text, COUNT, date(2024, 8, 6)) == set()
    article = Article(
        url="https://wire.example/f",
        title=None,
        text=f"{LEAD}\n\n{text}",
        published=datetime(2024, 8, 6, tzinfo=UTC),
    )
    implied = [o for o in extract_facts(article, TOPIC) if o.key == COUNT]
    assert [(o.value, o.qualifier, o.extra.get("implied")) for o in implied] == [(0, "exact", True)]


# -- who does the verb -------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Niger's junta ordered US troops to leave the country.",
        "Washington seeks clarification from Niger after it ordered its troops to leave.",
        "Niger has ended its accord with Washington, under which American troops were "
        "stationed in the country, and ordered the foreign troops to leave.",
    ],
)
def test_the_host_ordering_the_subject_out_is_a_demand_not_an_agreement(sentence: str) -> None:
    assert statuses(sentence, WITHDRAWAL) == set()


def test_the_subject_ordering_its_own_troops_out_is_agreed() -> None:
    assert statuses("The Pentagon ordered its troops to leave Niger.", WITHDRAWAL) == {"agreed"}


def test_a_cue_word_that_modifies_a_noun_is_no_event() -> None:
    text = "Biden defied calls by allies to delay his September 15 exit date from Niger."
    assert statuses(text, WITHDRAWAL) == set()


def test_a_base_guarded_by_the_subject_among_others_is_operating() -> None:
    text = "Air Base 201 is now being guarded by Nigerien and US forces."
    assert statuses(text, BASE_201) == {"operating"}


def test_the_airport_is_the_storys_only_airport_whatever_was_named_before(
    tmp_path: Path,
) -> None:
    kabul = topic_from(
        tmp_path,
        'name = "kabul"\ntitle = "US forces leave Afghanistan"\n'
        '[subject]\nid = "us_forces"\nlabel = "US"\nnames = ["US", "American"]\n'
        '[place]\nlabel = "Afghanistan"\nnames = ["Afghanistan", "Kabul"]\n'
        'host = ["Afghan"]\n'
        '[[bases]]\nid = "bagram"\nlabel = "Bagram"\nnames = ["Bagram Airfield"]\n'
        '[[bases]]\nid = "hkia"\nlabel = "Kabul airport"\nnames = ["Kabul airport"]\n',
    )
    text = (
        "US forces left Bagram Airfield in Afghanistan in July. "
        "US soldiers are now protecting the airport."
    )
    found = pairs(text, kabul, date(2021, 8, 20))
    assert ("bases.hkia.status", "operating") in found
    assert ("bases.bagram.status", "operating") not in found


@pytest.mark.parametrize(
    "sentence",
    [
        "Washington will respect the terms of Niger's request to withdraw its forces.",
        "The Pentagon said the US would comply with the request for it to withdraw its troops.",
    ],
)
def test_a_demand_the_subject_accepts_is_agreed(sentence: str) -> None:
    assert statuses(sentence, WITHDRAWAL) == {"agreed"}


def test_a_demand_the_subject_rejects_is_not_agreed() -> None:
    text = "Washington rejected Niger's request to withdraw its forces."
    assert statuses(text, WITHDRAWAL) == set()


def test_leaving_the_country_is_leaving_the_place() -> None:
    text = "The US mission in Niger, some 1,000 soldiers, will leave the country within months."
    assert statuses(text, WITHDRAWAL) == {"agreed"}


@pytest.mark.parametrize(
    ("sentence", "value"),
    [
        ("The first phase of the US withdrawal from Niger has already begun.", "in_progress"),
        ("The first phase of the US withdrawal from Niger has been completed.", "in_progress"),
        (
            "The US is only days away from completing its Niger \u201cwithdrawal.\u201d",
            "in_progress",
        ),
    ],
)
def test_a_stage_of_the_withdrawal_is_the_withdrawal_under_way(sentence: str, value: str) -> None:
    assert statuses(sentence, WITHDRAWAL) == {value}


@pytest.mark.parametrize(
    ("sentence", "value"),
    [
        (
            "The drawdown has begun, with a US convoy departing Air Base 201 for Chad.",
            {"withdrawing"},
        ),
        ("The last US convoy left Air Base 201 on Sunday.", {"handed_over"}),
        ("US troops leaving Air Base 201 next month will fly to Germany.", set()),
    ],
)
def test_a_force_doing_it_in_a_participle(sentence: str, value: set[str]) -> None:
    assert statuses(sentence, BASE_201) == value


def test_bases_in_apposition_after_a_dash() -> None:
    text = (
        "The US has already transferred its facilities in Niger to the army"
        " - Air Base 101 and Air Base 201."
    )
    found = read(text)
    assert found.get(BASE_101) == {"handed_over"} and found.get(BASE_201) == {"handed_over"}


def test_an_earlier_withdrawal_from_a_base_happened() -> None:
    text = (
        "US forces will leave Niger by September,"
        " following their earlier withdrawal from Air Base 101."
    )
    assert statuses(text, BASE_101) == {"handed_over"}


@pytest.mark.parametrize(
    ("sentence", "value"),
    [
        (
            "US forces are expected to complete their withdrawal"
            " from all military installations in Niger by September.",
            "agreed",
        ),
        ("The US has withdrawn from all its bases in Niger.", "completed"),
        (
            "The US has withdrawn from all its bases in Niger,"
            " except for a presence at the embassy.",
            "in_progress",
        ),
    ],
)
def test_all_of_the_subjects_bases_is_the_whole_place(sentence: str, value: str) -> None:
    assert statuses(sentence, WITHDRAWAL) == {value}


def test_the_base_in_a_named_place_is_that_base_not_the_one_before(tmp_path: Path) -> None:
    mali = topic_from(
        tmp_path,
        'name = "mali"\ntitle = "French forces leave Mali"\n'
        '[subject]\nid = "french_forces"\nlabel = "French"\nnames = ["France", "French"]\n'
        '[place]\nlabel = "Mali"\nnames = ["Mali"]\nhost = ["Malian"]\n'
        '[[bases]]\nid = "timbuktu"\nlabel = "Timbuktu"\nnames = ["Timbuktu"]\n'
        '[[bases]]\nid = "tessalit"\nlabel = "Tessalit"\nnames = ["Tessalit"]\n',
    )
    text = (
        "French forces in Mali will hand over a third base, in Timbuktu, by December. "
        "French troops have handed over the base in Tessalit to the Malian army."
    )
    found = pairs(text, mali, date(2021, 11, 22))
    assert ("bases.tessalit.status", "handed_over") in found
    assert ("bases.timbuktu.status", "handed_over") not in found


def test_a_base_after_after_was_done_before() -> None:
    text = "It is the second base the US military is handing back to Niger after Air Base 101."
    found = read(text)
    assert found.get(BASE_101) == {"handed_over"}


def test_the_first_of_something_else_does_not_make_a_departure_partial() -> None:
    text = "It is the first confirmation that the US has withdrawn from Air Base 201."
    assert statuses(text, BASE_201) == {"handed_over"}


def test_a_planned_reduction_counts_where_it_starts_even_after_down_from() -> None:
    text = "The closures are set to bring US troops in Niger down from about 1,000 to around 600."
    assert statuses(text, COUNT) == {(1000, "about")}


def test_a_hyphen_inside_a_word_does_not_end_the_clause() -> None:
    text = "The withdrawal of US-led forces from Niger will begin in several weeks."
    assert statuses(text, WITHDRAWAL) == {"agreed"}


def test_a_demand_does_not_reach_past_the_day_after() -> None:
    text = (
        "Niger's junta asked US troops to leave Niamey, "
        "the day after the Pentagon announced the withdrawal of its troops from Niger."
    )
    assert statuses(text, WITHDRAWAL) == {"agreed"}


def test_a_full_withdrawal_in_a_month_is_the_deadline() -> None:
    text = (
        "Washington and Niamey agreed on a timeline leading to a full withdrawal in September 2024."
    )
    assert statuses(text, DEADLINE, date(2024, 5, 20)) == {"2024-09-15"}  # mid-month: "September"


def test_full_control_is_not_a_full_withdrawal() -> None:
    text = "Niger's army takes full control of Air Base 101 following the US withdrawal."
    assert "completed" not in statuses(text, WITHDRAWAL)


def test_a_definite_pullout_completed_after_a_base_left_is_that_bases() -> None:
    text = (
        "US troops made an early withdrawal from Air Base 101 on Sunday. "
        "The withdrawal of the US mission from Niger has raised fears of unrest. "
        "The pullout was completed in tense conditions, the Pentagon said."
    )
    assert "completed" not in statuses(text, WITHDRAWAL)
    assert statuses(text, BASE_101) == {"handed_over"}


def test_a_headline_in_the_present_says_no_more_than_decided() -> None:
    assert statuses("US Withdraws From Niger", WITHDRAWAL) == {"agreed"}
    assert statuses("The US left Niger.", WITHDRAWAL) == {"completed"}


@pytest.mark.parametrize(
    "sentence",
    [
        "The talks mean France has little time left, as US troops are guarding Air Base 201.",
        "US marines at a checkpoint at Air Base 201",  # a photo caption
    ],
)
def test_the_subject_nearest_a_base_it_is_at_is_operating_there(sentence: str) -> None:
    assert statuses(sentence, BASE_201) == {"operating"}


def test_another_force_at_the_base_is_not_the_subject() -> None:
    text = "US officials met as Russian troops are guarding Air Base 201."
    assert statuses(text, BASE_201) == set()


def test_the_second_place_of_a_list_is_a_place_not_a_force() -> None:
    text = (
        "Some US forces have moved to Chad and Nigeria, with US troop levels in Niger set to "
        "decrease from around 1,000 to fewer than 100 by September."
    )
    assert statuses(text, COUNT) == {(1000, "about")}


def test_a_reduction_from_a_size_without_its_target() -> None:
    text = "That would be a reduction from just over 1,000 US service members in Niger now."
    assert statuses(text, COUNT) == {(1000, "more_than")}


def test_what_a_withdrawal_elsewhere_leaves_is_counted_there() -> None:
    text = (
        "US forces in Niger are packing up, months after Washington withdrew 600 troops "
        "from Chad, leaving fewer than 100 to train local forces."
    )
    assert statuses(text, COUNT) == set()


def test_a_negation_does_not_reach_into_a_clause_after_after() -> None:
    text = (
        "Washington no longer has a legal basis for operations in Niger "
        "after the junta ended its 2012 military cooperation agreement with the US."
    )
    assert read(text).get("cooperation_agreement.status") == {"ended"}


# -- a base named by its town ------------------------------------------------------


CORPUS_TOPICS = Path(__file__).resolve().parent.parent / "corpus" / "topics"


def statuses_in(topic_name: str, text: str, key: str, published: date) -> set[object]:
    """The values of ``key`` read from ``text`` with one of the corpus's topics."""
    topic = load_topic(CORPUS_TOPICS / f"{topic_name}.toml")
    return {value for k, value in pairs(text, topic, published) if k == key}


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("French forces have left the city of Timbuktu after eight years.", {"handed_over"}),
        ("France handed over its camp in the town of Timbuktu to Malian troops.", {"handed_over"}),
        ("Fighting broke out near the city of Timbuktu on Monday.", set()),
    ],
)
def test_a_base_named_by_its_town_is_left_when_the_town_is(sentence: str, expected: set) -> None:
    text = f"French troops in Mali are leaving.\n\n{sentence}"
    key = "bases.timbuktu.status"
    assert statuses_in("mali-france-2022", text, key, date(2021, 12, 14)) == expected


def test_a_base_now_under_the_hosts_control_is_handed_over_whatever_follows_its_name() -> None:
    text = (
        "US advisers are leaving Iraq.\n\n"
        "Ain al-Asad Air Base is now under the full control of Iraqi security forces."
    )
    key = "bases.ain_al_asad.status"
    assert statuses_in("iraq-us-2024", text, key, date(2026, 1, 18)) == {"handed_over"}


def test_in_the_process_of_leaving_is_leaving() -> None:
    found = read("US forces are in the process of withdrawing from Air Base 201.")
    assert found[BASE_201] == {"withdrawing"} and found[WITHDRAWAL] == {"in_progress"}


def test_begun_the_process_of_leaving_is_begun_leaving() -> None:
    assert statuses(
        "The Pentagon has begun the process of withdrawing from Niger.", WITHDRAWAL
    ) == {"in_progress"}


def test_some_of_the_force_leaving_entirely_is_a_withdrawal_under_way() -> None:
    text = (
        "US troops are leaving. Some have moved to the capital, "
        "while others have left the country entirely."
    )
    assert statuses(text, WITHDRAWAL) == {"in_progress"}


@pytest.mark.parametrize(
    "sentence",
    [
        "American soldiers will remain in the country until September 15.",
        "Washington has set September 15 as the date for its last soldiers to leave.",
        "The deadline for the American withdrawal, agreed in May, is September 15.",
        "The US pullout is due to end on September 15.",
    ],
)
def test_other_ways_of_naming_the_end_point(sentence: str) -> None:
    assert statuses(sentence, DEADLINE) == {"2024-09-15"}


@pytest.mark.parametrize(
    "sentence",
    [
        "American soldiers remained in the country until September 15.",
        "French troops will remain in the country until September 15.",
        "Talks will continue until September 15.",
    ],
)
def test_staying_until_a_date_in_the_past_or_by_others_is_no_deadline(sentence: str) -> None:
    assert statuses(sentence, DEADLINE) == set()


def test_staying_at_a_base_until_a_date_is_no_deadline() -> None:
    assert statuses("US troops will remain at Air Base 201 until August.", DEADLINE) == set()


@pytest.mark.parametrize(
    "sentence",
    [
        "The Americans have yet to leave Air Base 201.",
        "US troops have not yet handed over Air Base 201.",
        "The US still has not closed Air Base 201.",
    ],
)
def test_a_base_not_yet_left_is_still_operating(sentence: str) -> None:
    assert statuses(sentence, BASE_201) == {"operating"}


def test_a_base_never_left_is_not_said_to_be_operating() -> None:
    assert statuses("US troops did not leave Air Base 201 on Friday.", BASE_201) == set()


def test_a_departure_right_after_a_base_is_that_bases_not_the_whole() -> None:
    text = (
        "US forces completed their withdrawal from Air Base 101 on Sunday. "
        "All American personnel have now departed."
    )
    assert statuses(text, WITHDRAWAL) == {"in_progress"}
    assert statuses(text, BASE_101) == {"handed_over"}


def test_a_departure_from_the_country_after_a_base_is_the_whole() -> None:
    text = (
        "US forces completed their withdrawal from Air Base 101 on Sunday. "
        "All American personnel have now left Niger."
    )
    assert statuses(text, WITHDRAWAL) == {"completed"}


def test_a_withdrawal_with_its_deadline_stated_is_decided() -> None:
    text = "A joint committee will oversee the withdrawal of US troops by September 15."
    assert statuses(text, WITHDRAWAL) == {"agreed"}
    demanded = "The junta demanded the withdrawal of US troops by September 15."
    assert statuses(demanded, WITHDRAWAL) == set()


@pytest.mark.parametrize(
    "sentence",
    [
        "The junta broke off the security agreement with the United States in March.",
        "In March, Niger severed its military cooperation agreement with Washington.",
        "The military accord, which had let American troops operate in the country, "
        "was rescinded in March.",
        "In March the junta ended military cooperation with the United States.",
    ],
)
def test_more_ways_of_ending_an_agreement(sentence: str) -> None:
    assert statuses(sentence, "cooperation_agreement.status") == {"ended"}


def test_a_base_before_a_relative_clause_is_what_was_handed_over() -> None:
    text = "Air Base 101, which hosted American drones, was handed over on Sunday."
    assert statuses(text, BASE_101) == {"handed_over"}


def test_what_the_relative_clause_names_is_not_what_was_ended() -> None:
    text = "The exercise, which the military accord had allowed, was cancelled in March."
    assert statuses(text, "cooperation_agreement.status") == set()


def test_a_past_event_in_a_month_without_a_year_is_in_the_last_such_month() -> None:
    text = f"{LEAD}\n\nThe junta revoked the military accord with the US in March."
    found = extract_facts(article(text, date(2024, 9, 20)), TOPIC)
    ended = [o for o in found if o.key == "cooperation_agreement.status"]
    assert [(o.value, o.as_of) for o in ended] == [("ended", date(2024, 3, 15))]


def test_a_reported_would_is_the_speakers_plan() -> None:
    text = "The Pentagon said it would withdraw all US troops from Niger by September 15."
    assert statuses(text, DEADLINE) == {"2024-09-15"}
    assert statuses(text, WITHDRAWAL) == {"agreed"}


def test_the_hosts_reported_would_is_a_demand() -> None:
    text = "The junta said US troops would leave Niger by September 15."
    assert statuses(text, WITHDRAWAL) == set()


def test_both_bases_are_the_bases_the_article_named() -> None:
    text = (
        "US troops were based at Air Base 101 in Niamey and Air Base 201 in Agadez. "
        "Both bases have now been handed over to the Nigerien army."
    )
    assert statuses(text, BASE_101) == {"handed_over"}
    assert statuses(text, BASE_201) == {"handed_over"}


def test_those_sites_are_the_ones_named_just_before_in_the_sentence() -> None:
    text = (
        "Iraq and the United States have agreed on the end of the coalition's mission in Iraq. "
        "American troops are still stationed at Harir. "
        "Once the last US advisers had gone from Ain al-Asad and Camp Taji, "
        "those sites came under the full control of the Iraqi army."
    )
    bases = {"ain_al_asad", "taji", "harir"}
    found = {
        b: statuses_in("iraq-us-2024", text, f"bases.{b}.status", date(2025, 9, 1)) for b in bases
    }
    assert "handed_over" in found["ain_al_asad"]
    assert "handed_over" in found["taji"]
    assert "handed_over" not in found["harir"]


def test_a_base_that_has_been_handed_over_is_handed_over() -> None:
    text = "Air Base 101 has now been handed over to the Nigerien army."
    assert statuses(text, BASE_101) == {"handed_over"}


@pytest.mark.parametrize(
    ("sentence", "key", "value"),
    [
        ("Air Base 201 was the last to be handed over.", BASE_201, "handed_over"),
        ("Air Base 101 was the first to be handed back.", BASE_101, "handed_over"),
    ],
)
def test_the_last_to_be_handed_over_was_handed_over(sentence: str, key: str, value: str) -> None:
    assert statuses(sentence, key) == {value}


def test_the_next_to_be_handed_over_is_still_to_come() -> None:
    assert statuses("Air Base 201 is the next to be handed over.", BASE_201) == set()


def test_a_noun_of_demand_governs_only_its_own_phrase() -> None:
    text = (
        "Following the demand for troop withdrawal, the junta has chosen to end "
        "the military cooperation agreement with the United States."
    )
    assert statuses(text, "cooperation_agreement.status") == {"ended"}


def test_a_verb_of_demand_still_governs_the_rest_of_the_sentence() -> None:
    text = "The junta demanded that the United States end the military cooperation agreement."
    assert statuses(text, "cooperation_agreement.status") == set()


def _islands(tmp_path: Path, extra: str) -> Topic:
    return topic_from(
        tmp_path,
        'name = "islands"\ntitle = "Indian military personnel leave the Maldives"\n'
        '[subject]\nid = "indian_forces"\nlabel = "Indian"\nnames = ["India", "Indian"]\n'
        f"{extra}\n"
        '[place]\nlabel = "Maldives"\nnames = ["Maldives", "Male"]\nhost = ["Maldivian"]\n',
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "India agreed to replace all its military personnel in the Maldives by May 10.",
        "India will finish replacing its soldiers in the Maldives by May 10.",
        "India agreed that the repatriation of its soldiers from the Maldives "
        "would be complete by May 10.",
    ],
)
def test_a_topics_own_words_for_leaving(tmp_path: Path, sentence: str) -> None:
    words = 'verbs = ["replace"]\nprocess = ["repatriation"]'
    text = f"India has soldiers in the Maldives. {sentence}"
    found = pairs(text, _islands(tmp_path, words), date(2024, 2, 2))
    assert ("indian_forces.withdrawal_deadline", "2024-05-10") in found
    plain = pairs(text, _islands(tmp_path, ""), date(2024, 2, 2))
    assert ("indian_forces.withdrawal_deadline", "2024-05-10") not in plain


@pytest.mark.parametrize(
    ("sentence", "value"),
    [
        ("The US military has begun the second phase of its withdrawal from Niger.", "in_progress"),
        ("US forces have completed the first stage of the pullout from Niger.", "in_progress"),
        ("US forces have completed the final phase of the pullout from Niger.", "completed"),
    ],
)
def test_a_phase_of_the_withdrawal_begun_or_done(sentence: str, value: str) -> None:
    assert statuses(sentence, WITHDRAWAL) == {value}


def test_a_force_named_after_a_preposition_and_article_is_not_who_acts() -> None:
    text = (
        "In line with the French request, the withdrawal of the US troops from Niger began in May."
    )
    assert statuses(text, WITHDRAWAL) == {"in_progress"}


def test_a_further_number_to_leave_by_a_date_is_a_stage() -> None:
    text = "The US plans to withdraw an additional 300 troops from Niger by August 15."
    assert statuses(text, DEADLINE) == set()
    whole = "The US plans to withdraw its 1,000 troops from Niger by September 15."
    assert statuses(whole, DEADLINE) == {"2024-09-15"}


def test_the_size_of_a_force_when_it_was_sent_is_not_a_count_now() -> None:
    sent = "The 1,100-strong US contingent was deployed to Niger in 2013."
    assert COUNT not in read(sent)
    there = "The 1,100-strong US contingent is stationed in Niger."
    assert read(there).get(COUNT) == {(1100, "exact")}


def test_several_days_ago_is_a_time_not_a_part_of_the_force() -> None:
    text = "US troops left Air Base 101 several days ago."
    assert statuses(text, BASE_101) == {"handed_over"}


def test_a_negation_does_not_reach_into_a_clause_after_as() -> None:
    text = "There is no need for the base any more, as the US contingent began to leave Niger."
    assert statuses(text, WITHDRAWAL) == {"in_progress"}


@pytest.mark.parametrize(
    "sentence",
    [
        "US troops were due to stay in Niger until September 15.",
        "US troops will stay in Niger at least until September 15.",
    ],
)
def test_a_former_or_least_stay_is_no_deadline(sentence: str) -> None:
    assert statuses(sentence, DEADLINE) == set()


def test_the_date_of_a_phase_is_a_stage_not_the_deadline() -> None:
    text = "The second phase of the US drawdown from Niger is to be completed by July 31."
    assert statuses(text, DEADLINE) == set()


@pytest.mark.parametrize(
    "sentence",
    [
        "The US will reduce its numbers in Niger by 400 troops in July.",
        "The drawdown involved the reduction of 400 US troops in Niger.",
        "The plan foresees a 400-strong US withdrawal from Niger in July.",
    ],
)
def test_the_size_of_a_cut_is_not_the_size_of_the_force(sentence: str) -> None:
    assert COUNT not in read(sentence)


def test_a_base_in_apposition_before_the_verb() -> None:
    text = "One American site, Air Base 101, was closed as part of the withdrawal."
    assert statuses(text, BASE_101) == {"handed_over"}


@pytest.mark.parametrize(
    ("sentence", "value"),
    [
        (
            "The first phase of the US pullout has seen the handover of Air Base 101.",
            {"handed_over"},
        ),
        ("The next phase will see the handover of Air Base 101.", set()),
    ],
)
def test_a_time_that_saw_the_event(sentence: str, value: set[str]) -> None:
    assert statuses(sentence, BASE_101) == value


def test_a_departure_nobody_is_named_for_is_the_one_the_article_is_about() -> None:
    text = (
        "US commanders in Niger spoke to reporters on Friday.\n\n"
        "A second phase of the pullout began in August, officials said."
    )
    assert statuses(text, WITHDRAWAL) == {"in_progress"}
    other = (
        "German commanders in Niger spoke to reporters on Friday.\n\n"
        "A second phase of the pullout began in August, officials said."
    )
    assert statuses(other, WITHDRAWAL) == set()


def test_a_count_after_a_completed_withdrawal_is_the_size_before_it() -> None:
    text = (
        "The last US troops have left Niger, completing the withdrawal. "
        "Some 1,000 American troops had been deployed in the country."
    )
    assert COUNT not in read(text, date(2024, 9, 20)) or read(text, date(2024, 9, 20))[COUNT] == {
        (0, "exact")
    }
    staying = "The US withdrawal from Niger is complete. About 20 US troops remain at the embassy."
    assert read(staying, date(2024, 9, 20)).get(COUNT) == {(20, "about")}


def test_a_count_with_the_subjects_own_name_for_its_people(tmp_path: Path) -> None:
    topic = topic_from(
        tmp_path,
        'name = "t"\ntitle = "t"\n[subject]\nid = "indian_forces"\nlabel = "Indian"\n'
        'names = ["India", "Indian", "Indian military personnel"]\n'
        '[place]\nlabel = "Maldives"\nnames = ["Maldives", "Male"]\n',
    )
    text = (
        "India has aircraft in the Maldives. About 80 Indian military personnel are "
        "stationed in the Maldives."
    )
    found = pairs(text, topic, date(2024, 2, 1))
    assert ("indian_forces.troop_count", 80) in found


@pytest.mark.parametrize(
    ("sentence", "value"),
    [
        ("The complete withdrawal of US troops from Niger began in May.", {"in_progress"}),
        ("The plan provides for the complete withdrawal of US troops from Niger.", {"agreed"}),
        ("US forces completed the withdrawal from Niger on Monday.", {"completed"}),
    ],
)
def test_the_complete_withdrawal_is_its_extent_not_its_end(sentence: str, value: set[str]) -> None:
    assert statuses(sentence, WITHDRAWAL, date(2024, 9, 20)) == value


def test_a_date_the_withdrawal_is_to_start_by_is_not_its_end() -> None:
    text = "The US withdrawal from Niger will start by the end of May."
    assert statuses(text, DEADLINE) == set()
    assert statuses(text, WITHDRAWAL) == {"agreed"}


@pytest.mark.parametrize(
    ("sentence", "status", "deadline"),
    [
        (
            "The Pentagon decided to end the mission in Niger in August, withdrawing "
            "all US troops by September 15.",
            {"agreed"},
            {"2024-09-15"},
        ),
        (
            "US troops handed over Air Base 101 to the Nigerien army, leaving Niger "
            "on September 15.",
            {"completed"},
            set(),
        ),
    ],
)
def test_a_participle_clause_goes_with_its_main_clause(
    sentence: str, status: set[str], deadline: set[str]
) -> None:
    assert statuses(sentence, WITHDRAWAL, date(2024, 9, 20)) == status
    assert statuses(sentence, DEADLINE, date(2024, 9, 20)) == deadline


def test_a_planned_completion_on_a_date_is_the_deadline() -> None:
    text = "The US military will complete its withdrawal from Niger on September 15."
    assert statuses(text, DEADLINE) == {"2024-09-15"}


def test_the_government_taking_over_a_base_is_the_host() -> None:
    text = (
        "US officials spoke about their troops in Niger on Saturday. "
        "The government of Niger took over Air Base 101 on Sunday."
    )
    assert statuses(text, BASE_101) == {"handed_over"}


def test_a_name_two_bases_share_is_the_one_the_sentence_places(tmp_path: Path) -> None:
    darfur = topic_from(
        tmp_path,
        'name = "d"\ntitle = "d"\n[subject]\nid = "mission"\nlabel = "Mission"\n'
        'names = ["the mission", "UNAMID"]\n'
        '[place]\nlabel = "Darfur"\nnames = ["Darfur", "Sudan"]\nhost = ["Sudanese"]\n'
        '[[bases]]\nid = "fasher"\nlabel = "El Fasher"\n'
        'names = ["El Fasher camp", "former headquarters"]\nnear = ["El Fasher"]\n'
        '[[bases]]\nid = "zalingei"\nlabel = "Zalingei"\n'
        'names = ["Zalingei camp", "former headquarters"]\nnear = ["Zalingei"]\n',
    )
    text = (
        "UNAMID is leaving Darfur. UNAMID handed over its former headquarters in "
        "Zalingei to the Sudanese authorities on Thursday."
    )
    found = pairs(text, darfur, date(2021, 5, 10))
    assert ("bases.zalingei.status", "handed_over") in found
    assert ("bases.fasher.status", "handed_over") not in found


def test_an_operation_launched_to_withdraw_is_the_withdrawal_under_way() -> None:
    text = "The Pentagon launched an operation to withdraw its troops from Niger."
    assert statuses(text, WITHDRAWAL) == {"in_progress"}


def test_a_present_verb_after_before_is_to_come() -> None:
    text = "A few days before US troops formally leave Niger, the junta held a ceremony."
    assert statuses(text, WITHDRAWAL) == set()


@pytest.mark.parametrize(
    "sentence",
    [
        "As of February 2023, the US had 1,100 troops in Niger, including 800 at Air Base 201.",
        "The US force in Niger has an authorized ceiling of 1,100 troops.",
    ],
)
def test_a_dated_past_figure_or_a_ceiling_is_not_a_count(sentence: str) -> None:
    assert COUNT not in read(sentence)


def test_a_count_with_a_recent_weekday_is_still_a_count() -> None:
    assert read("As of Friday, the US had about 600 troops in Niger.").get(COUNT) == {
        (600, "about")
    }


@pytest.mark.parametrize(
    "sentence",
    [
        "Air Base 101 has been handed to the Nigerien army.",
        "US forces handed Air Base 101 to the Nigerien army.",
        "US forces handed over, on Sunday, Air Base 101 to the Nigerien army.",
    ],
)
def test_more_ways_of_handing_a_base(sentence: str) -> None:
    assert statuses(sentence, BASE_101) == {"handed_over"}


def test_a_list_of_bases_between_dashes_before_the_verb() -> None:
    text = "Both US sites – Air Base 101 and Air Base 201 – have been handed to the Nigerien army."
    assert statuses(text, BASE_101) == {"handed_over"}
    assert statuses(text, BASE_201) == {"handed_over"}


def test_handing_a_letter_to_someone_is_not_a_base_handed_over() -> None:
    text = "US officers at Air Base 201 handed a letter to the junta."
    assert statuses(text, BASE_201) != {"handed_over"}


@pytest.mark.parametrize(
    "sentence",
    [
        "By September 15, all US forces will have left Niger.",
        "The timetable calls for all US troops to leave Niger by September 15.",
        "US troops must be out of Niger by September 15.",
        "The last US soldiers are due out of Niger by September 15.",
        "US officials spoke of the plan. The deadline, set for September 15, applies "
        "to all US troops in Niger.",
    ],
)
def test_still_more_ways_of_naming_the_end_point(sentence: str) -> None:
    assert statuses(sentence, DEADLINE) == {"2024-09-15"}


@pytest.mark.parametrize(
    "sentence",
    [
        "US officials said the decision extends the May 31 deadline for the US withdrawal.",
        "A report on the US withdrawal from Niger is expected by August 31.",
        "The junta calls for all US troops to leave Niger by September 15.",
    ],
)
def test_dates_that_are_not_the_end_point(sentence: str) -> None:
    assert statuses(sentence, DEADLINE) == set()


def test_no_later_than_does_not_make_a_date_the_one_replacing_others() -> None:
    text = (
        "The US set a new deadline of September 15 for its withdrawal from Niger. "
        "Officials said troops must leave Niger no later than September 30."
    )
    assert statuses(text, DEADLINE) == {"2024-09-15"}


@pytest.mark.parametrize(
    "sentence",
    [
        "The US has begun withdrawing from its bases in Niger, starting with Air Base 101.",
        "The US withdrawal from Niger began on Monday with the departure of a first convoy "
        "from Air Base 101.",
    ],
)
def test_a_withdrawal_begun_with_a_base(sentence: str) -> None:
    assert statuses(sentence, BASE_101) == {"withdrawing"}
    assert statuses(sentence, WITHDRAWAL) == {"in_progress"}


@pytest.mark.parametrize(
    "sentence",
    [
        "US forces handed over Air Base 101, Agence France-Presse reported.",
        "US forces handed over Air Base 101, Voice of America reported.",
    ],
)
def test_a_country_inside_a_news_outlets_name_is_not_who_acts(sentence: str) -> None:
    assert statuses(sentence, BASE_101) == {"handed_over"}
    text = "Air Base 101 was handed over, Agence France-Presse reported, to the Nigerien army."
    assert read(text).get(BASE_101) == {"handed_over"}


def test_a_place_set_off_by_commas_does_not_end_the_clause() -> None:
    text = (
        "The US said it would pull all its troops out of Niamey, Niger, by September 15, "
        "when the agreement ends."
    )
    assert statuses(text, DEADLINE) == {"2024-09-15"}


def test_a_final_extension_decides_the_end() -> None:
    text = "The US extended its mission in Niger for a final period, until September 15."
    assert statuses(text, WITHDRAWAL) == {"agreed"}
    plain = "The US extended its mission in Niger until September 15."
    assert statuses(plain, WITHDRAWAL) == set()


def test_the_once_troubled_country_is_no_condition() -> None:
    text = "The once mighty US contingent has completely left Niger."
    assert statuses(text, WITHDRAWAL, date(2024, 9, 20)) == {"completed"}


def test_year_s_end_is_the_end_of_the_year() -> None:
    text = "All US troops will be withdrawing from Niger by year's end."
    assert statuses(text, DEADLINE) == {"2024-12-31"}


def test_a_completion_marked_is_not_a_completion_near_because_of_a_count() -> None:
    text = (
        "The exit marked the completion of the US withdrawal from Niger after a mission "
        "that cost nearly 40 American lives."
    )
    assert statuses(text, WITHDRAWAL, date(2024, 9, 20)) == {"completed"}


def test_the_remaining_troops_are_there_and_last_week_is_past() -> None:
    assert read("The remaining 600 US soldiers in Niger are moving out.").get(COUNT) == {
        (600, "exact")
    }
    assert COUNT not in read("Just last week there were 900 American troops in Niger.")


def test_an_article_naming_only_a_base_is_read_whole() -> None:
    text = "US troops handed over Airbase 201 on Monday. The Airbase-101 handover follows."
    found = pairs(text, TOPIC, date(2024, 8, 6))
    assert (BASE_201, "handed_over") in found


@pytest.mark.parametrize(
    "sentence",
    [
        "Niger's junta declined to renew the military cooperation agreement with the US.",
        "Niger, a close ally of Moscow, decided not to extend the cooperation agreement "
        "with Washington.",
    ],
)
def test_an_agreement_not_renewed_is_ended(sentence: str) -> None:
    assert statuses(sentence, "cooperation_agreement.status") == {"ended"}


def test_an_agreement_renewed_is_not_ended() -> None:
    text = "Niger's junta agreed to renew the military cooperation agreement with the US."
    assert statuses(text, "cooperation_agreement.status") == set()


def test_those_of_one_base_leaving_the_country_is_a_part() -> None:
    text = (
        "US airmen, who have been flying drones from Agadez, Niger, have concluded "
        "their mission and left the country."
    )
    assert statuses(text, WITHDRAWAL, date(2024, 9, 20)) == {"in_progress"}
    assert statuses(text, BASE_201, date(2024, 9, 20)) == {"handed_over"}


def test_a_date_after_since_is_not_when_a_base_was_handed_over() -> None:
    text = "The main US base, Air Base 201, used by the US since 2016, was returned to Niger."
    assert statuses(text, BASE_201, date(2024, 9, 20)) == {"handed_over"}


def test_all_troops_gone_some_sentences_after_a_base_handover_is_that_base() -> None:
    text = (
        "The US military has handed over Air Base 101 to the Nigerien army. "
        "There was no ceremony, officials said. "
        "All US troops had left by Thursday night."
    )
    assert statuses(text, WITHDRAWAL) == {"in_progress"}


def test_an_exit_completed_in_a_sentence_about_the_base_is_the_bases() -> None:
    text = (
        "US troops were at Air Base 101 for years. The US exit was completed so quickly "
        "that looters got into the base before the army arrived."
    )
    assert statuses(text, WITHDRAWAL) == {"in_progress"}
    assert statuses(text, BASE_101) == {"handed_over"}


@pytest.mark.parametrize(
    "sentence",
    [
        "The US retains a presence at Air Base 201 in Agadez.",
        "US troops still occupy Air Base 201.",
    ],
)
def test_a_base_the_subject_retains_or_occupies_is_operating(sentence: str) -> None:
    assert statuses(sentence, BASE_201) == {"operating"}


@pytest.mark.parametrize(
    "sentence",
    [
        "Niger welcomed the decision to withdraw US troops from the country.",
        "The junta hailed the agreement to withdraw all US forces from Niger.",
    ],
)
def test_the_subjects_people_as_the_object_of_leaving_are_the_ones_who_leave(
    sentence: str,
) -> None:
    assert statuses(sentence, WITHDRAWAL) == {"agreed"}


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The planned withdrawal of US troops from Niger worries allies.", {"agreed"}),
        ("The upcoming departure of US troops leaves a gap in the Sahel.", {"agreed"}),
        ("The impending US pullout from Niger leaves a gap.", {"agreed"}),
        ("The scheduled gradual withdrawal of US troops leaves a gap.", {"agreed"}),
        ("A possible withdrawal of US troops worries analysts.", set()),
        ("The looming withdrawal of US troops worries analysts.", set()),
    ],
)
def test_a_withdrawal_called_planned_or_upcoming_is_decided(
    sentence: str, expected: set[str]
) -> None:
    assert statuses(sentence, WITHDRAWAL) == expected


def test_a_planned_departure_from_an_airport_is_not_the_whole_withdrawal() -> None:
    text = "The shift included planned departures from Niamey's international airport."
    assert statuses(text, WITHDRAWAL) == set()


@pytest.mark.parametrize(
    "sentence",
    [
        "Air Base 201, which hosts about 1,000 US troops, cost $110 million.",
        "About 300 US troops are stationed at Air Base 101 in Niamey.",
    ],
)
def test_the_people_at_one_base_are_not_the_count_in_the_place(sentence: str) -> None:
    assert statuses(sentence, COUNT) == set()


def test_the_people_at_a_base_who_are_to_leave_the_country_are_the_whole_force() -> None:
    text = "About 300 US troops stationed at the base will leave Nigerien territory by July 11."
    assert statuses(text, COUNT) == {(300, "about")}


def test_leaving_the_hosts_soil_is_leaving_the_place() -> None:
    assert statuses("US troops left Nigerien soil on Friday.", WITHDRAWAL) == {"completed"}


@pytest.mark.parametrize(
    "sentence",
    [
        "During the mission's decade in Niger, more than 10,000 US troops served there.",
        "The original plan allowed deployments of nearly 2,000 US troops in Niger.",
        "The US contingent has a maximum limit of 1,400 personnel in Niger.",
    ],
)
def test_people_who_served_over_the_years_or_a_limit_are_no_count(sentence: str) -> None:
    assert statuses(sentence, COUNT) == set()


def test_control_returned_is_of_the_one_base_the_sentence_named() -> None:
    text = (
        "US personnel held a flag-lowering ceremony at Air Base 201 and formally "
        "returned control to the Nigerien government."
    )
    assert statuses(text, BASE_201) == {"handed_over"}
    assert (
        statuses(text.replace("Air Base 201", "Air Base 201 and Air Base 101"), BASE_201) == set()
    )


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Officials said Air Base 201 is in the process of being emptied.", {"withdrawing"}),
        ("The US has emptied Air Base 201.", {"handed_over"}),
    ],
)
def test_a_base_emptied_is_left(sentence: str, expected: set[str]) -> None:
    assert statuses(sentence, BASE_201) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Biden on Sunday ordered US troops pulled out of Niger as soon as possible.", {"agreed"}),
        ("The junta ordered US troops pulled out of Niger.", set()),
        ("US troops pulled out of Niger.", {"completed"}),
    ],
)
def test_a_participle_after_ordered_is_what_was_ordered(sentence: str, expected: set[str]) -> None:
    assert statuses(sentence, WITHDRAWAL) == expected


@pytest.mark.parametrize(
    "sentence",
    ["The last US combat troops left Niger on Friday.", "All US ground forces have left Niger."],
)
def test_one_kind_of_troops_leaving_is_not_the_whole_withdrawal(sentence: str) -> None:
    assert statuses(sentence, WITHDRAWAL) == {"in_progress"}


@pytest.mark.parametrize(
    ("sentence", "key", "expected"),
    [
        ("US troops left Agadez last month.", WITHDRAWAL, {"in_progress"}),
        ("US troops left Agadez last month.", BASE_201, {"handed_over"}),
        ("The last US troops left Niamey on Friday.", WITHDRAWAL, {"in_progress"}),
        ("The last US troops left Niamey on Friday.", BASE_101, {"handed_over"}),
        ("The last US troops left Tillaberi last month.", WITHDRAWAL, {"in_progress"}),
        ("US troops left Niger last month.", WITHDRAWAL, {"completed"}),
        ("US troops moved from Niamey to the town of Agadez.", BASE_201, set()),
        ("A few US personnel remain in Niamey to finish the withdrawal.", BASE_101, set()),
    ],
)
def test_leaving_one_of_the_hosts_towns_is_not_leaving_the_place(
    sentence: str, key: str, expected: set[str]
) -> None:
    """The towns a topic lists among the place's names (and those the world list
    knows as the host's) are parts of it; a base's `near` town names that base."""
    assert statuses(sentence, key) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The military cooperation agreement expired at midnight on Sunday.", {"ended"}),
        ("The military cooperation agreement ended on Sunday.", {"ended"}),
        ("Washington said it had frozen the military cooperation agreement.", {"suspended"}),
        ("The military cooperation agreement expires in December.", set()),
        ("The US will leave by July 2024, when the cooperation agreement expires.", set()),
    ],
)
def test_an_agreement_that_expired_or_was_frozen(sentence: str, expected: set[str]) -> None:
    assert statuses(sentence, "cooperation_agreement.status") == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "The US will pull its troops out of Niger only if its allies agree to fill the gap.",
        "The US pledged to bring home its 1,000 troops by June 30 unless the UN takes charge.",
        "Washington pledged to bring its forces home when conditions are met.",
    ],
)
def test_a_condition_after_the_event_makes_it_no_decision(sentence: str) -> None:
    found = read(sentence)
    assert found.get(WITHDRAWAL, set()) == set()
    assert found.get(DEADLINE, set()) == set()


def test_a_condition_that_does_not_hold_it_back_is_no_condition() -> None:
    text = "US troops will leave Niger by September 15 even if talks fail."
    assert statuses(text, WITHDRAWAL) == {"agreed"}


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The US has brought home about a third of its force in Niger.", {"in_progress"}),
        ("The US will bring its troops home from Niger by September 15.", {"agreed"}),
    ],
)
def test_bringing_troops_home_is_leaving(sentence: str, expected: set[str]) -> None:
    assert statuses(sentence, WITHDRAWAL) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Air Base 201 is to be transferred to Nigerien control by the end of the year.", set()),
        ("Air Base 201 was returned to Nigerien control on Friday.", {"handed_over"}),
    ],
)
def test_a_base_that_is_to_pass_to_the_host_has_not_yet(sentence: str, expected: set[str]) -> None:
    assert statuses(sentence, BASE_201) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("No US troops remain in Niger after the last contingent flew out.", {"completed"}),
        ("None of the US soldiers remain in Niger.", {"completed"}),
        ("No US troops will remain in Niger after September.", set()),
        ("No member of the US drone squadron remains in Niger.", set()),
    ],
)
def test_none_of_the_subjects_people_remaining_is_the_withdrawal_completed(
    sentence: str, expected: set[str]
) -> None:
    assert statuses(sentence, WITHDRAWAL) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The US will pull its troops out of Niger by Aug. 31 next year.", {"2025-08-31"}),
        ("The US has until September 15 to complete the pullout.", {"2024-09-15"}),
    ],
)
def test_a_deadline_in_next_year_or_given_as_time_to_complete(
    sentence: str, expected: set[str]
) -> None:
    assert statuses(sentence, DEADLINE) == expected


@pytest.mark.parametrize(
    ("sentence", "published", "expected"),
    [
        ("The US has until 30 September to complete the pullout.", date(2024, 2, 5), "2024-09-30"),
        (
            "The US has until 30 September to complete the pullout.",
            date(2024, 12, 20),
            "2025-09-30",
        ),
    ],
)
def test_a_year_less_deadline_is_still_to_come(
    sentence: str, published: date, expected: str
) -> None:
    assert statuses(sentence, DEADLINE, published) == {expected}


def test_a_deadline_just_passed_stays_this_years() -> None:
    text = "The US said it would leave Niger by September 15."
    assert statuses(text, DEADLINE, date(2024, 10, 1)) == {"2024-09-15"}


@pytest.mark.parametrize(
    "sentence",
    [
        "Air Base 201, vacated by the Americans last week, now hosts a Nigerien brigade.",
        "Agadez, vacated by the Americans last week, now hosts a Nigerien brigade.",
        "Agadez, which the Americans left in July, now hosts a Nigerien brigade.",
    ],
)
def test_a_base_or_its_town_before_a_participle_or_relative_clause_is_what_was_left(
    sentence: str,
) -> None:
    assert statuses(sentence, BASE_201) == {"handed_over"}


def test_a_base_still_to_be_left_is_operating_now() -> None:
    text = "Most US forces in Niger are at Air Base 201, which will be the last to close."
    assert statuses(text, BASE_201) == {"operating"}


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Air Base 201 passed to full Nigerien control on Thursday.", {"handed_over"}),
        ("Air Base 201 reverted to Nigerien control in July.", {"handed_over"}),
        ("Air Base 201 passed to the Russians.", set()),
    ],
)
def test_a_base_that_passed_to_the_hosts_control(sentence: str, expected: set[str]) -> None:
    assert statuses(sentence, BASE_201) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The departure of another 400 Americans on Friday left about 600 in Niger.", {600}),
        ("The US left 600 troops in Niger.", {600}),
        ("The US will leave 600 troops in Niger.", set()),
    ],
)
def test_the_people_a_departure_left_behind_are_there(sentence: str, expected: set[int]) -> None:
    assert {value for value, _ in statuses(sentence, COUNT)} == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("US forces will be out by the 31st of March.", {"2025-03-31"}),
        ("US troops must be gone from Nigerien soil before the end of the year.", {"2024-12-31"}),
        (
            (
                "It came ahead of the Pentagon's promise that they would be gone by Sept. 15.",
                {"2024-09-15"},
            ),
            {"2024-09-15"},
        ),
    ],
)
def test_being_out_or_gone_by_a_date_is_a_deadline(sentence: str, expected: set[str]) -> None:
    assert statuses(sentence, DEADLINE) == expected


@pytest.mark.parametrize(
    ("sentence", "key", "expected"),
    [
        (
            "The US withdrawal, which began in May, is to be completed by the end of October.",
            DEADLINE,
            {"2024-10-31"},
        ),
        (
            "The US withdrawal, which began in May, was completed on Friday.",
            WITHDRAWAL,
            {"completed"},
        ),
    ],
)
def test_a_relative_clause_between_the_withdrawal_and_what_is_said_of_it(
    sentence: str, key: str, expected: set[str]
) -> None:
    assert statuses(sentence, key) == expected


MISSION = (
    'name = "unifil"\ntitle = "UNIFIL leaves Lebanon"\n'
    '[subject]\nid = "unifil"\nlabel = "UNIFIL"\nnames = ["UNIFIL", "UN"]\n'
    'people = ["peacekeepers", "blue helmets"]\n'
    '[place]\nlabel = "Lebanon"\nnames = ["Lebanon"]\nhost = ["Lebanese"]\n'
    '[[bases]]\nid = "naqoura"\nlabel = "Naqoura headquarters"\n'
    'names = ["Naqoura headquarters"]\nnear = ["Naqoura"]\n'
    '[[bases]]\nid = "shama"\nlabel = "Shama base"\nnames = ["Shama base"]\nnear = ["Shama"]\n'
)


@pytest.mark.parametrize(
    ("sentence", "key"),
    [
        (
            "Lebanese troops moved into the Shama compound vacated by Italian blue helmets.",
            "bases.shama.status",
        ),
        (
            "UNIFIL lowered its flag over its Naqoura headquarters on Saturday and handed "
            "the compound to the Lebanese army.",
            "bases.naqoura.status",
        ),
    ],
)
def test_a_contingent_of_a_mission_and_a_compound_named_before(
    tmp_path: Path, sentence: str, key: str
) -> None:
    found = pairs(
        f"Lebanon and UNIFIL are at odds.\n\n{sentence}",
        topic_from(tmp_path, MISSION),
        date(2027, 5, 1),
    )
    assert (key, "handed_over") in found


def test_a_countrys_troops_without_the_missions_word_are_that_country(tmp_path: Path) -> None:
    text = "Lebanon and UNIFIL are at odds.\n\nItalian troops vacated the Shama compound."
    found = pairs(text, topic_from(tmp_path, MISSION), date(2027, 5, 1))
    assert ("bases.shama.status", "handed_over") not in found


def test_reports_called_premature_state_nothing() -> None:
    text = "Reports that Nigerien troops had taken control of Air Base 201 were premature."
    assert statuses(text, BASE_201) == set()


def test_a_treaty_organisation_is_no_agreement() -> None:
    text = "Niger froze its participation in the Collective Security Treaty Organization."
    assert statuses(text, "cooperation_agreement.status") == set()


def test_a_site_near_a_bases_town_is_not_the_base() -> None:
    text = "Nigerien soldiers took over a disused depot near Agadez on Tuesday."
    assert statuses(text, BASE_201) == set()


@pytest.mark.parametrize(
    "sentence",
    [
        "Air Base 201, home to some 800 US soldiers and contractors, dominates the town.",
        "Air Base 101, where some 300 US airmen are stationed, will be handed over first.",
    ],
)
def test_the_people_a_base_is_home_to_are_its_garrison(sentence: str) -> None:
    assert statuses(sentence, COUNT) == set()


def test_a_deadline_pushed_back_to_a_date() -> None:
    text = (
        "Washington and Niamey have agreed to push back the deadline for the US pullout "
        "to March 31, 2025."
    )
    assert statuses(text, DEADLINE) == {"2025-03-31"}


def test_an_inverted_condition_leaves_the_event_undecided() -> None:
    text = "Should talks fail in August, US troops would have to start packing up."
    assert statuses(text, WITHDRAWAL) == set()


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("US presence in Niger has shrunk from roughly 1,000 troops to about 800.", {800}),
        ("The resolution calls for the force to be scaled back to 500 US troops by May.", set()),
    ],
)
def test_counts_after_a_cut_and_a_planned_cut(sentence: str, expected: set[int]) -> None:
    assert {value for value, _ in statuses(sentence, COUNT)} == expected


@pytest.mark.parametrize(
    ("sentence", "key", "expected"),
    [
        (
            "The last Italian peacekeepers left Lebanon on Friday.",
            "unifil.withdrawal_status",
            "in_progress",
        ),
        ("The last peacekeepers left Lebanon on Friday.", "unifil.withdrawal_status", "completed"),
        ("Some 1,000 Italian peacekeepers are stationed in Lebanon.", "unifil.troop_count", None),
    ],
)
def test_one_contingent_is_a_part_of_the_mission(
    tmp_path: Path, sentence: str, key: str, expected: str | None
) -> None:
    text = f"Lebanon and UNIFIL are at odds.\n\n{sentence}"
    found = {
        value
        for k, value in pairs(text, topic_from(tmp_path, MISSION), date(2027, 5, 1))
        if k == key
    }
    assert found == ({expected} if expected else set())


def test_the_subject_left_without_something_has_not_left() -> None:
    text = "The closure of Air Base 201, completed last week, left the US without drones in Niger."
    found = read(text)
    assert found.get(WITHDRAWAL) == {"in_progress"}
    assert found.get(BASE_201) == {"handed_over"}


@pytest.mark.parametrize(
    "sentence",
    [
        "Air Base 201 is now in Nigerien hands.",
        "Control of Air Base 201 passed to the Nigerien army on March 27.",
    ],
)
def test_a_base_in_the_hosts_hands(sentence: str) -> None:
    assert statuses(sentence, BASE_201) == {"handed_over"}


def test_an_agreement_that_ceased_to_have_effect() -> None:
    text = "The military cooperation agreement ceased to have effect at midnight on March 31."
    assert statuses(text, "cooperation_agreement.status") == {"ended"}


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Niger put the military cooperation agreement on hold last week.", {"suspended"}),
        ("The military cooperation agreement has been put on hold, Niger said.", {"suspended"}),
        ("US troops put their plans on hold.", set()),
    ],
)
def test_an_agreement_put_on_hold_is_suspended(sentence: str, expected: set[str]) -> None:
    assert statuses(sentence, "cooperation_agreement.status") == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Air Base 201 is home to most of the US contingent and its drones.", {"operating"}),
        ("Air Base 201 was home to most of the US contingent.", set()),
        ("Air Base 201 is home to Nigerien troops.", set()),
    ],
)
def test_a_base_home_to_the_subject_is_operating(sentence: str, expected: set[str]) -> None:
    assert statuses(sentence, BASE_201) == expected
