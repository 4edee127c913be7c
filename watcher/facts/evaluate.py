"""Scoring fact extraction against a labelled folder of articles.

The folder holds texts and a ``labels.toml`` saying what each states (see
tests/factset/labels.toml). Per fact key the report gives precision (how many
observations were right) and recall (how many stated facts were found), and
apart from those, how many observations came from articles that state none
of the topic's facts: the false alarms an alert tool must not raise.
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from watcher.facts.reading import extract_facts
from watcher.facts.topic import Topic
from watcher.models import Article, Observation

LABELS = "labels.toml"


class EvalError(ValueError):
    """A labelled folder that cannot be read; the message is one line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Expected(_Strict):
    """One fact an article states; qualifier and as_of count only when given."""

    key: str
    value: str | int
    qualifier: str | None = None
    as_of: date | None = None

    def matches(self, obs: Observation) -> bool:
        return (
            obs.key == self.key
            and obs.value == self.value
            and (self.qualifier is None or obs.qualifier == self.qualifier)
            and (self.as_of is None or obs.as_of == self.as_of)
        )


class Labelled(_Strict):
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


class _LabelsFile(_Strict):
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


def evaluate(folder: Path, topic: Topic) -> Report:
    """Run extraction over every labelled article and score it."""
    report = Report(scores={key: KeyScore(key) for key in topic.keys})
    for labelled in load_labels(folder):
        try:
            article = labelled.article(folder)
        except (OSError, UnicodeDecodeError) as exc:
            raise EvalError(f"{folder / labelled.file}: cannot read article: {exc}") from None
        started = time.perf_counter()
        observations = extract_facts(article, topic)
        report.seconds += time.perf_counter() - started
        report.articles += 1
        if labelled.off_topic:
            report.off_topic_articles += 1
            report.off_topic_false += len(observations)
        _score(labelled, observations, report)
    return report


def _score(labelled: Labelled, observations: list[Observation], report: Report) -> None:
    unmatched = list(observations)
    # The most precise labels first, so that a label without a qualifier does
    # not take the observation that only a label with one can match.
    for expected in sorted(labelled.facts, key=lambda e: (e.qualifier is None) + (e.as_of is None)):
        score = report.scores.setdefault(expected.key, KeyScore(expected.key))
        hit = next((obs for obs in unmatched if expected.matches(obs)), None)
        if hit is None:
            score.false_negatives += 1
            report.mistakes.append(
                Mistake(labelled.file, "missed", expected.key, expected.value, expected.qualifier)
            )
        else:
            score.true_positives += 1
            unmatched.remove(hit)
    for obs in unmatched:
        report.scores.setdefault(obs.key, KeyScore(obs.key)).false_positives += 1
        report.mistakes.append(
            Mistake(labelled.file, "false", obs.key, obs.value, obs.qualifier, obs.evidence.quote)
        )


def format_report(report: Report) -> str:
    """The report as text: a table per key, the totals, then each mistake."""
    width = max([len(k) for k in report.scores] + [len("all")])
    lines = [
        f"{report.articles} articles ({report.off_topic_articles} off topic), "
        f"{1000 * report.seconds / max(report.articles, 1):.2f} ms per article",
        "",
        f"{'fact':<{width}}  precision  recall    tp   fp   fn",
    ]
    for score in [*(report.scores[k] for k in sorted(report.scores)), report.total]:
        lines.append(
            f"{score.key:<{width}}  {score.precision:9.3f}  {score.recall:6.3f}  "
            f"{score.true_positives:4d} {score.false_positives:4d} {score.false_negatives:4d}"
        )
    lines += ["", f"false observations on off-topic articles: {report.off_topic_false}"]
    for mistake in report.mistakes:
        qualifier = f" ({mistake.qualifier})" if mistake.qualifier else ""
        line = f"  {mistake.kind:<6} {mistake.file}: {mistake.key} = {mistake.value}{qualifier}"
        lines.append(line + (f"\n         {mistake.quote}" if mistake.quote else ""))
    return "\n".join(lines)
