"""Scoring fact extraction against labelled articles.

Two kinds of folder: a labelled set with a ``labels.toml`` beside its texts
(tests/factset, written for the project's unit tests), and the real-article
corpus (corpus/, see corpus/README.md), with a topic and labels per story.
Per fact key and per fact type the report gives precision (how many
observations were right) and recall (how many stated facts were found), and
apart from those, how many observations came from articles that state none
of the topic's facts: the false alarms an alert tool must not raise.

Vague counts ("several hundred") and values implied by another (every base
handed over once the withdrawal is complete) are not scored: they are not
stated values a reader labels.
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from watcher.facts.corpus import CorpusError, Kind, Split, load_corpus
from watcher.facts.numbers import Qualifier
from watcher.facts.reading import extract_facts
from watcher.facts.schema import StrictSchema
from watcher.facts.topic import FactType, Topic
from watcher.models import Article, Observation

LABELS = "labels.toml"


class EvalError(ValueError):
    """A labelled folder that cannot be read; the message is one line."""


class Expected(StrictSchema):
    """One fact an article states; qualifier, upper and as_of count only when given.

    A date labelled with its month only ("2025-09") matches any reading of
    that month.
    """

    key: str
    value: str | int
    qualifier: str | None = None
    upper: int | None = None
    as_of: date | None = None

    def matches(self, obs: Observation, *, as_of: bool = True) -> bool:
        if isinstance(self.value, str) and len(self.value) == 7 and isinstance(obs.value, str):
            same = obs.value[:7] == self.value
        else:
            same = obs.value == self.value
        return (
            obs.key == self.key
            and same
            and (self.qualifier is None or obs.qualifier == self.qualifier)
            and (self.upper is None or obs.extra.get("upper") == self.upper)
            and (not as_of or self.as_of is None or obs.as_of == self.as_of)
        )


class Labelled(StrictSchema):
    file: str
    title: str
    url: str
    published: date
    off_topic: bool = False
    facts: list[Expected] = []

    def article(self, base: Path) -> Article:
        text = (base / self.file).read_text(encoding="utf-8")
        published = datetime.combine(self.published, datetime.min.time(), tzinfo=UTC)
        return Article(url=self.url, title=self.title, text=text, published=published)


class _LabelsFile(StrictSchema):
    article: list[Labelled]


@dataclass
class KeyScore:
    key: str
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        stated = self.true_positives + self.false_negatives
        return self.true_positives / stated if stated else 1.0

    def add(self, other: KeyScore) -> None:
        self.true_positives += other.true_positives
        self.false_positives += other.false_positives
        self.false_negatives += other.false_negatives

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
        }


@dataclass(frozen=True)
class Mistake:
    """A fact missed (``missed``) or an observation nobody stated (``false``)."""

    file: str
    kind: str
    key: str
    value: str | int
    qualifier: str | None
    quote: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "key": self.key,
            "value": self.value,
            "qualifier": self.qualifier,
            "quote": self.quote,
        }


@dataclass
class Report:
    articles: int = 0
    off_topic_articles: int = 0
    off_topic_false: int = 0  # observations read from off-topic articles
    seconds: float = 0.0
    scores: dict[str, KeyScore] = field(default_factory=dict)
    mistakes: list[Mistake] = field(default_factory=list)
    types: dict[str, KeyScore] = field(default_factory=dict)  # by fact type
    stories: dict[str, KeyScore] = field(default_factory=dict)  # corpus: by story
    skipped: int = 0  # corpus articles whose text is not here
    as_of_labelled: int = 0  # right readings whose label gives the event's date
    as_of_right: int = 0  # ... and whose date agrees

    @property
    def total(self) -> KeyScore:
        total = KeyScore("all")
        for score in self.scores.values():
            total.add(score)
        return total

    def to_json(self) -> dict[str, Any]:
        return {
            "articles": self.articles,
            "off_topic_articles": self.off_topic_articles,
            "off_topic_false_observations": self.off_topic_false,
            "ms_per_article": round(1000 * self.seconds / max(self.articles, 1), 3),
            "total": self.total.to_json(),
            "keys": [self.scores[k].to_json() for k in sorted(self.scores)],
            "types": [self.types[k].to_json() for k in sorted(self.types)],
            "stories": [self.stories[k].to_json() for k in sorted(self.stories)],
            "skipped_articles": self.skipped,
            "as_of": {"labelled": self.as_of_labelled, "right": self.as_of_right},
            "mistakes": [m.to_json() for m in self.mistakes],
        }


def load_labels(folder: Path) -> list[Labelled]:
    path = folder / LABELS
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return _LabelsFile.model_validate(data).article
    except FileNotFoundError:
        raise EvalError(f"{path}: labels file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EvalError(f"{path}: cannot read labels: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(step) for step in first["loc"])
        raise EvalError(f"{path}: {where}: {first['msg']}") from None


def evaluate(folder: Path, topic: Topic | None, split: Split | None = None) -> Report:
    """Run extraction over every labelled article of a folder and score it.

    A corpus folder (with ``labels/``) brings a topic per story; a labelled
    set (with ``labels.toml``) is read with ``topic``.
    """
    if (folder / "labels").is_dir():
        return evaluate_corpus(folder, split)
    if topic is None:
        raise EvalError(f"{folder}: a labelled set needs a topic")
    report = Report(scores={key: KeyScore(key) for key in topic.keys})
    for labelled in load_labels(folder):
        try:
            article = labelled.article(folder)
        except (OSError, UnicodeDecodeError) as exc:
            raise EvalError(f"{folder / labelled.file}: cannot read article: {exc}") from None
        observations = _timed(report, article, topic)
        if labelled.off_topic:
            report.off_topic_articles += 1
            report.off_topic_false += len(observations)
        _score(labelled.file, labelled.facts, observations, report, topic, strict_as_of=True)
    return report


def evaluate_corpus(
    folder: Path, split: Split | None = None, stories: list[str] | None = None
) -> Report:
    """Score every corpus article whose text is here; count those that are not."""
    try:
        corpus = load_corpus(folder, split, stories)
    except CorpusError as exc:
        raise EvalError(str(exc)) from None
    report = Report()
    for story in corpus:
        for item in story.articles:
            if item.text is None:
                report.skipped += 1
                continue
            # The guide labels no vague counts ("several hundred"): they are not values.
            observations = [
                o
                for o in _timed(report, item.article(), story.topic)
                if o.qualifier != Qualifier.VAGUE
            ]
            if item.labels.kind is Kind.DISTRACTOR:
                report.off_topic_articles += 1
                report.off_topic_false += len(observations)
            expected = [
                Expected(
                    key=f.key,
                    value=f.value,
                    qualifier=f.qualifier or _default_qualifier(story.topic, f.key),
                    upper=f.upper,
                    as_of=f.as_of,
                )
                for f in item.labels.facts
            ]
            name = f"{story.labels.story}/{item.labels.id}"
            _score(
                name,
                expected,
                observations,
                report,
                story.topic,
                strict_as_of=False,
                story=story.labels.story,
            )
    return report


def _default_qualifier(topic: Topic, key: str) -> str | None:
    """A count labelled with no qualifier is exact (corpus/GUIDE.md)."""
    try:
        return Qualifier.EXACT if topic.fact(key).type is FactType.TROOP_COUNT else None
    except KeyError:
        return None


def _timed(report: Report, article: Article, topic: Topic) -> list[Observation]:
    started = time.perf_counter()
    observations = extract_facts(article, topic)
    report.seconds += time.perf_counter() - started
    report.articles += 1
    return [
        o
        for o in observations
        if o.qualifier != Qualifier.VAGUE and not o.extra.get("implied", False)
    ]


def _type_of(topic: Topic, key: str) -> str:
    try:
        return topic.fact(key).type.value
    except KeyError:
        return "unknown"


def _score(
    name: str,
    facts: list[Expected],
    observations: list[Observation],
    report: Report,
    topic: Topic,
    *,
    strict_as_of: bool,
    story: str | None = None,
) -> None:
    unmatched = list(observations)

    def tally(key: str, field_name: str) -> None:
        for scores, bucket in (
            (report.scores, key),
            (report.types, _type_of(topic, key)),
            *([(report.stories, story)] if story else []),
        ):
            score = scores.setdefault(bucket, KeyScore(bucket))
            setattr(score, field_name, getattr(score, field_name) + 1)

    # The most precise labels first, so that a label without a qualifier does
    # not take the observation that only a label with one can match.
    for expected in sorted(facts, key=lambda e: (e.qualifier is None) + (e.as_of is None)):
        hit = next((obs for obs in unmatched if expected.matches(obs, as_of=strict_as_of)), None)
        if hit is None:
            tally(expected.key, "false_negatives")
            report.mistakes.append(
                Mistake(name, "missed", expected.key, expected.value, expected.qualifier)
            )
        else:
            tally(expected.key, "true_positives")
            unmatched.remove(hit)
            if expected.as_of is not None:
                report.as_of_labelled += 1
                report.as_of_right += hit.as_of == expected.as_of
    for obs in unmatched:
        tally(obs.key, "false_positives")
        report.mistakes.append(
            Mistake(name, "false", obs.key, obs.value, obs.qualifier, obs.evidence.quote)
        )


def format_report(report: Report, *, mistakes: bool = True) -> str:
    """The report as text: a table per key (or per fact type and story, for the
    corpus), the totals, then each mistake."""
    if report.articles == 0 and report.skipped:
        return (
            f"no article texts here ({report.skipped} skipped): re-create them as "
            "corpus/README.md says, then run this again\n"
        )
    tables = [("fact", report.scores)]
    if report.stories:
        tables = [("fact type", report.types), ("story", report.stories)]
    width = max([len(k) for _, table in tables for k in table] + [len("fact type")])
    lines = [
        f"{report.articles} articles ({report.off_topic_articles} off topic"
        + (f", {report.skipped} skipped: no text here" if report.skipped else "")
        + f"), {1000 * report.seconds / max(report.articles, 1):.2f} ms per article",
    ]
    for title, table in tables:
        lines += ["", f"{title:<{width}}  precision  recall    tp   fp   fn"]
        rows = [table[k] for k in sorted(table)]
        if title != "story":
            rows.append(report.total)
        for score in rows:
            lines.append(
                f"{score.key:<{width}}  {score.precision:9.3f}  {score.recall:6.3f}  "
                f"{score.true_positives:4d} {score.false_positives:4d} {score.false_negatives:4d}"
            )
    lines += ["", f"false observations on off-topic articles: {report.off_topic_false}"]
    if report.as_of_labelled:
        lines.append(f"event dates right: {report.as_of_right} of {report.as_of_labelled} labelled")
    for mistake in report.mistakes if mistakes else []:
        qualifier = f" ({mistake.qualifier})" if mistake.qualifier else ""
        line = f"  {mistake.kind:<6} {mistake.file}: {mistake.key} = {mistake.value}{qualifier}"
        lines.append(line + (f"\n         {mistake.quote}" if mistake.quote else ""))
    return "\n".join(lines) + "\n"
