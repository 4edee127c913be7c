"""Scoring extraction against the labelled folder, and against deliberately bad labels."""

from __future__ import annotations

import shutil
import tomllib
from datetime import date
from pathlib import Path

import pytest

from watcher.facts.evaluate import (
    EvalError,
    Expected,
    KeyScore,
    Report,
    evaluate,
    format_report,
    load_labels,
)
from watcher.facts.topic import load_topic
from watcher.models import Evidence, Observation

ROOT = Path(__file__).resolve().parent.parent
TOPIC = load_topic(ROOT / "config" / "topics" / "niger-us-withdrawal.toml")
FACTSET = Path(__file__).resolve().parent / "factset"

COUNT = "us_forces.troop_count"

# Scored once: the tests below only read the report.
REPORT = evaluate(FACTSET, TOPIC)


def write_folder(tmp_path: Path, labels: str, *files: str) -> Path:
    """A labelled folder with some of the factset's articles and the given labels."""
    folder = tmp_path / "set"
    folder.mkdir(parents=True)
    for name in files:
        shutil.copy(FACTSET / name, folder / name)
    (folder / "labels.toml").write_text(labels, encoding="utf-8")
    return folder


COUNT_600 = """
[[article]]
file = "04_count_600.txt"
title = "About 600 US troops remain in Niger as drawdown continues"
url = "https://wirereport.example/2024/07/20/niger-us-troops-600"
published = 2024-07-20
facts = [
    {{ key = "us_forces.troop_count", value = {count}, qualifier = "about" }},
    {{ key = "us_forces.withdrawal_status", value = "in_progress" }},
    {{ key = "us_forces.withdrawal_deadline", value = "2024-09-15", qualifier = "mid" }},
    {{ key = "bases.air_base_101.status", value = "handed_over", as_of = 2024-07-07 }},
]
"""

FRANCE = """
[[article]]
file = "06_france_leaves_niger.txt"
title = "Last French troops leave Niger"
url = "https://example.org/france"
published = 2023-12-22
off_topic = {off_topic}
"""


# -- the labelled factset ------------------------------------------------------------------


def test_the_factset_scores_well() -> None:
    total = REPORT.total
    assert total.precision >= 0.95, format_report(REPORT)
    assert total.recall >= 0.9, format_report(REPORT)
    assert REPORT.off_topic_false == 0, format_report(REPORT)


def test_the_factset_report_counts_every_article() -> None:
    labels = tomllib.loads((FACTSET / "labels.toml").read_text(encoding="utf-8"))["article"]
    assert REPORT.articles == len(labels) == len(load_labels(FACTSET))
    assert REPORT.off_topic_articles == sum(1 for a in labels if a.get("off_topic"))
    assert REPORT.off_topic_articles >= 5
    stated = sum(len(a.get("facts", [])) for a in labels)
    assert REPORT.total.true_positives + REPORT.total.false_negatives == stated
    assert set(REPORT.scores) >= set(TOPIC.keys)


def test_every_key_of_the_shipped_contract_is_found() -> None:
    for key in (
        "us_forces.withdrawal_deadline",
        "us_forces.troop_count",
        "us_forces.withdrawal_status",
        "bases.air_base_201.status",
        "bases.air_base_101.status",
    ):
        assert REPORT.scores[key].true_positives > 0, key
        assert REPORT.scores[key].precision >= 0.9, key


def test_the_factset_mistakes_match_the_scores() -> None:
    total = REPORT.total
    assert sum(m.kind == "missed" for m in REPORT.mistakes) == total.false_negatives
    assert sum(m.kind == "false" for m in REPORT.mistakes) == total.false_positives
    assert {m.kind for m in REPORT.mistakes} <= {"missed", "false"}


def test_labels_load_with_types() -> None:
    labelled = {x.file: x for x in load_labels(FACTSET)}
    count = labelled["04_count_600.txt"]
    assert count.published == date(2024, 7, 20)
    assert not count.off_topic
    assert Expected(key=COUNT, value=600, qualifier="about") in count.facts
    assert labelled["06_france_leaves_niger.txt"].off_topic
    assert labelled["06_france_leaves_niger.txt"].facts == []
    seed = labelled["../../seeds/000_1b701daddded4476.txt"]
    assert seed.article(FACTSET).text.startswith(
        (ROOT / "seeds" / "000_1b701daddded4476.txt").read_text(encoding="utf-8")[:40]
    )


def test_report_json_and_text() -> None:
    data = REPORT.to_json()
    assert data["articles"] == REPORT.articles
    assert data["off_topic_false_observations"] == 0
    assert [k["key"] for k in data["keys"]] == sorted(REPORT.scores)
    assert data["total"]["key"] == "all"
    assert 0 <= data["total"]["precision"] <= 1
    text = format_report(REPORT)
    assert text.splitlines()[0].startswith(f"{REPORT.articles} articles ")
    assert "false observations on off-topic articles: 0" in text
    for key in REPORT.scores:
        assert key in text
    assert text.endswith("\n")  # the shell's prompt starts on a line of its own


# -- a deliberately wrong label --------------------------------------------------------------


def test_a_wrong_label_lowers_the_score_and_is_listed(tmp_path: Path) -> None:
    right = evaluate(
        write_folder(tmp_path / "a", COUNT_600.format(count=600), "04_count_600.txt"), TOPIC
    )
    assert right.total.precision == right.total.recall == 1.0
    assert right.mistakes == []

    wrong = evaluate(
        write_folder(tmp_path / "b", COUNT_600.format(count=700), "04_count_600.txt"), TOPIC
    )
    assert wrong.total.precision < 1.0
    assert wrong.total.recall < 1.0
    score = wrong.scores[COUNT]
    assert (score.true_positives, score.false_positives, score.false_negatives) == (0, 1, 1)
    by_kind = {m.kind: m for m in wrong.mistakes}
    assert set(by_kind) == {"missed", "false"}
    assert (by_kind["missed"].key, by_kind["missed"].value) == (COUNT, 700)
    assert by_kind["missed"].file == "04_count_600.txt"
    assert (by_kind["false"].key, by_kind["false"].value) == (COUNT, 600)
    assert "about 600" in (by_kind["false"].quote or "").lower()
    text = format_report(wrong)
    assert "missed 04_count_600.txt: us_forces.troop_count = 700 (about)" in text
    assert "false  04_count_600.txt: us_forces.troop_count = 600 (about)" in text


def test_a_wrong_qualifier_or_date_is_a_mistake(tmp_path: Path) -> None:
    labels = (
        COUNT_600.format(count=600)
        .replace(
            'value = "2024-09-15", qualifier = "mid"', 'value = "2024-09-15", qualifier = "exact"'
        )
        .replace("as_of = 2024-07-07", "as_of = 2024-07-08")
    )
    report = evaluate(write_folder(tmp_path, labels, "04_count_600.txt"), TOPIC)
    missed = sorted(m.key for m in report.mistakes if m.kind == "missed")
    assert missed == ["bases.air_base_101.status", "us_forces.withdrawal_deadline"]


def test_labelling_an_on_topic_article_off_topic_counts_its_observations(tmp_path: Path) -> None:
    labels = (
        '[[article]]\nfile = "04_count_600.txt"\ntitle = "t"\n'
        'url = "https://wirereport.example/x"\npublished = 2024-07-20\noff_topic = true\n'
    )
    report = evaluate(write_folder(tmp_path, labels, "04_count_600.txt"), TOPIC)
    assert report.off_topic_articles == 1
    assert report.off_topic_false == report.total.false_positives > 0
    assert "false observations on off-topic articles: 0" not in format_report(report)


def test_an_off_topic_article_gives_nothing(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, FRANCE.format(off_topic="true"), "06_france_leaves_niger.txt")
    report = evaluate(folder, TOPIC)
    assert (report.articles, report.off_topic_articles, report.off_topic_false) == (1, 1, 0)
    assert report.mistakes == []


def test_a_general_label_does_not_take_the_observation_a_precise_one_needs(
    tmp_path: Path,
) -> None:
    # The article says "more than 1,000" and "about 1,000"; a label without a
    # qualifier fits either, one with "more_than" only the first.
    labels = """
[[article]]
file = "19_agreed_second_site.txt"
title = "US agrees to pull troops out of Niger"
url = "https://capitoldesk.example/us-agrees-to-pull-troops-out-of-niger"
published = 2024-04-20
facts = [
    { key = "us_forces.troop_count", value = 1000 },
    { key = "us_forces.troop_count", value = 1000, qualifier = "more_than" },
    { key = "us_forces.withdrawal_status", value = "agreed" },
    { key = "bases.air_base_201.status", value = "operating" },
]
"""
    report = evaluate(write_folder(tmp_path, labels, "19_agreed_second_site.txt"), TOPIC)
    assert report.mistakes == []
    assert report.scores[COUNT].true_positives == 2


# -- broken folders ---------------------------------------------------------------------------


def test_an_unknown_field_names_the_labels_file(tmp_path: Path) -> None:
    labels = COUNT_600.format(count=600).replace("published =", 'author = "me"\npublished =')
    folder = write_folder(tmp_path, labels, "04_count_600.txt")
    with pytest.raises(EvalError) as caught:
        load_labels(folder)
    message = str(caught.value)
    assert message.startswith(str(folder / "labels.toml"))
    assert "author" in message
    assert "\n" not in message
    with pytest.raises(EvalError, match=r"labels\.toml"):
        evaluate(folder, TOPIC)


def test_an_unknown_field_in_a_fact_names_the_labels_file(tmp_path: Path) -> None:
    labels = COUNT_600.format(count=600).replace('qualifier = "about"', 'qualifer = "about"')
    folder = write_folder(tmp_path, labels, "04_count_600.txt")
    with pytest.raises(EvalError) as caught:
        load_labels(folder)
    assert str(caught.value).startswith(str(folder / "labels.toml"))
    assert "qualifer" in str(caught.value)


@pytest.mark.parametrize(
    ("labels", "words"),
    [
        ("[[article]\n", "cannot read labels"),
        ('[[article]]\nfile = "x.txt"\n', "Field required"),
        (FRANCE.format(off_topic="true").replace("2023-12-22", '"last year"'), "published"),
    ],
)
def test_a_broken_labels_file_names_the_file(tmp_path: Path, labels: str, words: str) -> None:
    folder = write_folder(tmp_path, labels)
    with pytest.raises(EvalError) as caught:
        load_labels(folder)
    message = str(caught.value)
    assert message.startswith(str(folder / "labels.toml"))
    assert words in message
    assert "\n" not in message


def test_a_missing_labels_file(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="labels file not found"):
        evaluate(tmp_path, TOPIC)


def test_a_missing_article_names_it(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, FRANCE.format(off_topic="true"))
    with pytest.raises(EvalError) as caught:
        evaluate(folder, TOPIC)
    assert str(caught.value).startswith(str(folder / "06_france_leaves_niger.txt"))


def test_an_article_that_is_not_text_names_it(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, FRANCE.format(off_topic="true"))
    (folder / "06_france_leaves_niger.txt").write_bytes(b"\xff\xfe\x00 not utf-8 \xc3")
    with pytest.raises(EvalError) as caught:
        evaluate(folder, TOPIC)
    assert str(caught.value).startswith(str(folder / "06_france_leaves_niger.txt"))


# -- scores -------------------------------------------------------------------------------------


def test_key_score_arithmetic() -> None:
    score = KeyScore("k", true_positives=3, false_positives=1, false_negatives=2)
    assert score.precision == 0.75
    assert score.recall == 0.6
    assert KeyScore("empty").precision == KeyScore("empty").recall == 1.0
    total = KeyScore("all")
    total.add(score)
    total.add(KeyScore("other", 1, 0, 0))
    assert (total.true_positives, total.false_positives, total.false_negatives) == (4, 1, 2)
    assert score.to_json()["precision"] == 0.75


def test_report_total_sums_the_keys() -> None:
    report = Report(scores={"a": KeyScore("a", 1, 2, 3), "b": KeyScore("b", 4, 5, 6)})
    total = report.total
    assert (total.true_positives, total.false_positives, total.false_negatives) == (5, 7, 9)


def test_expected_matches_qualifier_and_date_only_when_given() -> None:
    evidence = Evidence("q", "https://x.example/", None, None)
    seen = Observation(COUNT, "quantity", 600, "about", date(2024, 7, 20), evidence)
    assert Expected(key=COUNT, value=600).matches(seen)
    assert Expected(key=COUNT, value=600, qualifier="about").matches(seen)
    assert Expected(key=COUNT, value=600, as_of=date(2024, 7, 20)).matches(seen)
    assert not Expected(key=COUNT, value=600, qualifier="exact").matches(seen)
    assert not Expected(key=COUNT, value=600, as_of=date(2024, 7, 21)).matches(seen)
    assert not Expected(key=COUNT, value=601).matches(seen)
    assert not Expected(key=COUNT, value="600").matches(seen)
    assert not Expected(key="us_forces.other", value=600).matches(seen)
