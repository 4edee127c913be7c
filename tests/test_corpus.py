"""The corpus evaluation: per fact type and story, split by URL, texts optional."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from watcher.cli.main import main
from watcher.facts.corpus import Split, fingerprint, load_corpus, split_of
from watcher.facts.evaluate import evaluate_corpus, format_report

ROOT = Path(__file__).resolve().parent.parent

TOPIC = """
name = "blueland"
title = "Blue forces leave Redland"

[subject]
id = "blue"
label = "Blue"
names = ["Blueland", "Bluelandish"]

[place]
label = "Redland"
names = ["Redland", "Red City"]
host = ["Redlandish"]

[[bases]]
id = "north"
label = "North Camp"
names = ["North Camp"]
"""

TEXTS = {
    "a": "Bluelandish troops handed over North Camp in Redland to the Redlandish army on "
    "Monday. About 500 Bluelandish soldiers remain in Redland.",
    "b": "Bluelandish forces will leave Redland by September 30, officials in Red City said.",
    "c": "Greenland's army left Yellowland on Friday; about 900 of its troops remain there.",
}


def urls_for(split: Split, n: int) -> list[str]:
    """URLs whose split is fixed to ``split`` (the split is the URL's hash)."""
    found, i = [], 0
    while len(found) < n:
        url = f"https://news.example/{i}"
        if split_of(url) is split:
            found.append(url)
        i += 1
    return found


def write_corpus(tmp_path: Path, *, texts: bool = True) -> Path:
    folder = tmp_path / "corpus"
    (folder / "topics").mkdir(parents=True)
    (folder / "labels").mkdir()
    (folder / "topics" / "blueland.toml").write_text(TOPIC, encoding="utf-8")
    dev = urls_for(Split.DEV, 2)
    [test] = urls_for(Split.TEST, 1)
    rows = [
        (
            "a",
            dev[0],
            "dev",
            "update",
            "2024-08-06",
            [
                '{ key = "bases.north.status", value = "handed_over", as_of = 2024-08-05 }',
                '{ key = "blue.troop_count", value = 500, qualifier = "about" }',
                '{ key = "blue.withdrawal_status", value = "in_progress" }',
            ],
        ),
        (
            "b",
            test,
            "test",
            "update",
            "2024-07-01",
            [
                '{ key = "blue.withdrawal_deadline", value = "2024-09-30" }',
                '{ key = "blue.withdrawal_status", value = "agreed" }',
            ],
        ),
        ("c", dev[1], "dev", "distractor", "2024-07-01", []),
    ]
    articles = []
    for ident, url, split, kind, published, facts in rows:
        articles.append(
            f'[[article]]\nid = "blueland-{ident}"\nurl = "{url}"\nsite = "news.example"\n'
            f'published = {published}\nsplit = "{split}"\nkind = "{kind}"\n'
            f'query = "q"\nsha256 = "{fingerprint(TEXTS[ident])}"\n'
            f"facts = [{', '.join(facts)}]\n"
        )
        if texts:
            path = folder / "texts" / "blueland" / f"blueland-{ident}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(TEXTS[ident], encoding="utf-8")
    header = (
        'story = "blueland"\ntitle = "Blue forces leave Redland"\nsubject = "blue"\n'
        'subject_names = ["Blueland"]\nplace_names = ["Redland"]\n\n[bases]\n'
        'north = ["North Camp"]\n\n'
    )
    (folder / "labels" / "blueland.toml").write_text(header + "\n".join(articles), encoding="utf-8")
    return folder


def test_scores_per_fact_type_and_story_and_counts_distractors(tmp_path: Path) -> None:
    report = evaluate_corpus(write_corpus(tmp_path))
    assert report.articles == 3 and report.off_topic_articles == 1 and report.skipped == 0
    assert report.off_topic_false == 0
    assert set(report.types) >= {"base", "troop_count", "withdrawal_status", "deadline"}
    assert report.stories["blueland"].true_positives == report.total.true_positives
    assert report.total.recall == 1.0, format_report(report)
    assert report.as_of_labelled == 1 and report.as_of_right == 1


def test_a_split_reads_only_its_half(tmp_path: Path) -> None:
    folder = write_corpus(tmp_path)
    dev = evaluate_corpus(folder, Split.DEV)
    test = evaluate_corpus(folder, Split.TEST)
    assert (dev.articles, test.articles) == (2, 1)
    assert "deadline" in test.types and "deadline" not in dev.types


def test_without_texts_nothing_is_scored_and_the_command_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_corpus(tmp_path, texts=False)
    assert main(["eval", str(folder), "--split", "dev"]) == 0
    out = capsys.readouterr().out
    assert "no article texts here (2 skipped)" in out
    assert main(["eval", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["articles"] == 0 and report["skipped_articles"] == 3


def test_a_text_is_matched_to_its_fingerprint_whatever_its_quotes_and_spaces() -> None:
    assert fingerprint("The “last” troops\n left.") == fingerprint('The "last" troops left.')
    assert fingerprint("The troops left.") != fingerprint("The troops stayed.")


def test_the_committed_corpus_loads_and_its_splits_are_the_urls() -> None:
    stories = load_corpus(ROOT / "corpus")
    assert len(stories) >= 5
    articles = [a for s in stories for a in s.articles]
    assert len(articles) >= 100
    assert all(a.labels.split is split_of(a.labels.url) for a in articles)
    reserved = ("niger-us", "chad-france", "niger-france")
    assert not [s for s in stories if s.labels.story.startswith(reserved)]


def test_the_corpus_checker_accepts_the_committed_labels(tmp_path: Path) -> None:
    copy = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", copy, ignore=shutil.ignore_patterns("texts"))
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(copy / "check.py")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
