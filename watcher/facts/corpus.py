"""The real-article corpus: labels per story, topics per story, texts kept locally.

A corpus folder holds ``labels/<story>.toml`` (what a careful reader takes
from each article; see corpus/GUIDE.md), ``topics/<story>.toml`` (the topic a
user would write for the story) and, not in the repository,
``texts/<story>/<id>.txt``. Articles whose text is missing are skipped and
counted, so that a machine without the texts (CI) evaluates nothing and says
so.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError

from watcher.facts.schema import StrictSchema
from watcher.facts.topic import Topic, TopicError, load_topic
from watcher.models import Article


class CorpusError(ValueError):
    """A corpus that cannot be read; the message is one line."""


class Split(StrEnum):
    DEV = "dev"
    TEST = "test"


class Kind(StrEnum):
    UPDATE = "update"
    RESTATEMENT = "restatement"
    DISTRACTOR = "distractor"


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "«": '"', "»": '"'})


def fingerprint(text: str) -> str:
    """SHA-256 of the text in a normal form (NFKC, straight quotes, single spaces),
    so that a text re-created elsewhere matches despite quotes or line breaks."""
    norm = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    norm = re.sub(r"\s+", " ", norm).strip()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def split_of(url: str) -> Split:
    """Fixed by the URL alone: dev when its SHA-1 is even."""
    return (Split.DEV, Split.TEST)[int(hashlib.sha1(url.encode("utf-8")).hexdigest(), 16) % 2]


class LabelledFact(StrictSchema):
    key: str
    value: str | int
    qualifier: str | None = None
    upper: int | None = None
    as_of: date | None = None


class LabelledArticle(StrictSchema):
    id: str
    url: str
    site: str
    published: date | None = None
    split: Split
    kind: Kind
    query: str
    sha256: str
    facts: list[LabelledFact] = []
    note: str | None = None


class StoryLabels(StrictSchema):
    story: str
    title: str
    subject: str
    subject_names: list[str]
    place_names: list[str]
    bases: dict[str, list[str]] = {}
    agreements: dict[str, list[str]] = {}
    article: Annotated[list[LabelledArticle], Field(min_length=1)]


@dataclass(frozen=True)
class CorpusArticle:
    story: str
    labels: LabelledArticle
    text: str | None  # None where the text has not been re-created here

    def article(self) -> Article:
        published = (
            datetime.combine(self.labels.published, datetime.min.time(), tzinfo=UTC)
            if self.labels.published
            else None
        )
        return Article(url=self.labels.url, title=None, text=self.text or "", published=published)


@dataclass(frozen=True)
class LabelledStory:
    labels: StoryLabels
    topic: Topic
    articles: tuple[CorpusArticle, ...]


def load_corpus(
    folder: Path, split: Split | None = None, stories: list[str] | None = None
) -> list[LabelledStory]:
    """Every story with its topic and its articles (of one split, if given)."""
    label_files = sorted((folder / "labels").glob("*.toml"))
    if not label_files:
        raise CorpusError(f"{folder}: no labels/*.toml: not a corpus folder")
    found = []
    for path in label_files:
        if stories and path.stem not in stories:
            continue
        labels = load_story_labels(path)
        try:
            topic = load_topic(folder / "topics" / f"{labels.story}.toml")
        except TopicError as exc:
            raise CorpusError(str(exc)) from None
        articles = []
        for item in labels.article:
            if split is not None and item.split is not split:
                continue
            text_path = folder / "texts" / labels.story / f"{item.id}.txt"
            text = text_path.read_text(encoding="utf-8") if text_path.exists() else None
            articles.append(CorpusArticle(labels.story, item, text))
        found.append(LabelledStory(labels, topic, tuple(articles)))
    if stories and not found:
        raise CorpusError(f"{folder}: no story named {', '.join(stories)}")
    return found


def load_story_labels(path: Path) -> StoryLabels:
    try:
        return StoryLabels.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"{path}: cannot read labels: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(step) for step in first["loc"])
        raise CorpusError(f"{path}: {where}: {first['msg']}") from None
