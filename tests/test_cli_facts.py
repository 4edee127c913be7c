"""`watcher baseline`, `extract --json` and `eval`: the fact commands and their contracts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watcher.cli.main import main

FACTSET = Path(__file__).parent / "factset"
FACT_FIELDS = {"key", "kind", "value", "qualifier", "as_of", "quote", "source"}


def baseline(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict]:
    assert main(["baseline", "--json", *args]) == 0
    return {f["key"]: f for f in json.loads(capsys.readouterr().out)["facts"]}


def test_baseline_from_the_seeds(capsys: pytest.CaptureFixture[str]) -> None:
    facts = baseline(capsys)
    for fact in facts.values():
        assert set(fact) >= FACT_FIELDS
        assert fact["origin"] == "seeds"
    deadline = facts["us_forces.withdrawal_deadline"]
    assert (deadline["value"], deadline["qualifier"]) == ("2024-09-15", "exact")
    assert deadline["quote"] and deadline["source"].startswith("seed:")
    count = facts["us_forces.troop_count"]
    assert (count["value"], count["qualifier"]) == (1000, "about")
    # The seeds disagree; both sides are kept with their sources.
    sides = {(a["qualifier"], a["sources"][0]["url"]) for a in count["alternatives"]}
    assert ("more_than", "seed:000_1b701daddded4476") in sides
    assert ("fewer_than", "seed:003_b1028b63aebc63cf") in sides
    assert facts["bases.air_base_201.status"]["value"] == "operating"
    assert facts["us_forces.withdrawal_status"]["value"] == "agreed"


def test_pinned_value_overrides_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "watcher.toml"
    config.write_text(
        '[facts.pins]\n"us_forces.troop_count" = { value = 1100, qualifier = "about" }\n'
    )
    facts = baseline(capsys, "--config", str(config))
    count = facts["us_forces.troop_count"]
    assert (count["value"], count["origin"]) == (1100, "pinned")
    assert 1000 in {a["value"] for a in count["alternatives"]}
    assert facts["us_forces.withdrawal_deadline"]["origin"] == "seeds"

    assert main(["baseline", "--config", str(config)]) == 0
    assert "US troops in Niger (us_forces.troop_count): about 1,100" in capsys.readouterr().out


def test_bad_pin_is_one_line_naming_the_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "watcher.toml"
    config.write_text('[facts.pins]\n"bases.air_base_201.status" = "demolished"\n')
    assert main(["baseline", "--config", str(config)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error
    assert str(config) in error and "bases.air_base_201.status" in error


def test_extract_json_prints_article_and_facts(capsys: pytest.CaptureFixture[str]) -> None:
    article = FACTSET / "02_base201_handed_over.txt"
    assert main(["extract", str(article), "--published", "2024-08-05", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"article", "facts"}
    keys = {f["key"]: f for f in data["facts"]}
    assert keys["bases.air_base_201.status"]["value"] == "handed_over"
    for fact in data["facts"]:
        assert set(fact) >= FACT_FIELDS


def test_eval_on_the_labelled_set_meets_the_bar(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(FACTSET), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    total = report["total"]
    assert total["precision"] >= 0.95
    assert total["recall"] >= 0.9
    assert report["off_topic_false_observations"] == 0


def test_extract_explain_says_why_each_sentence_gave_what_it_gave(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "wire.txt"
    article.write_text(
        "US hands over Niamey base\n\n"
        "The US military completed its withdrawal from Air Base 101 in Niamey on Sunday.\n"
        "It is not clear whether the last US troops have left Air Base 201.\n"
        "France had about 1,500 troops in Niger.\n",
        encoding="utf-8",
    )
    assert main(["extract", str(article), "--published", "2024-07-15", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "-> bases.air_base_101.status = handed over (as of 2024-07-14)" in out
    assert "'left' (leave): negated, negated by 'not'" in out
    assert "'about 1,500': counts france" in out
    assert main(["extract", str(article), "--published", "2024-07-15", "--explain", "--json"]) == 0
    explained = json.loads(capsys.readouterr().out)
    assert explained["relevant"] is True
    [handover] = [s for s in explained["sentences"] if "Air Base 101" in s["text"]]
    assert handover["about"] == "us_forces"
    assert {f["key"] for f in handover["found"]} >= {"bases.air_base_101.status"}
    assert {f["key"] for f in explained["facts"]} >= {"bases.air_base_101.status"}
