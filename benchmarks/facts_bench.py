"""Section 4: ``watcher.facts.extract_facts`` alone, per article.

Three corpora: the benchmark pages as watcher extracts them (mostly off-topic,
so most stop at the relevance check), the seed articles (on-topic, short),
and each page's text behind a seed article's (on-topic and long: every
sentence is read, the worst case).
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.pages import REPO
from benchmarks.procs import median
from watcher.facts.reading import extract_facts
from watcher.facts.topic import Topic, load_topic
from watcher.ingest.extract import extract_file
from watcher.models import Article

TOPIC = REPO / "config" / "topics" / "niger-us-withdrawal.toml"
SEEDS = REPO / "seeds"


def load_seeds(folder: Path = SEEDS) -> list[Article]:
    manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
    return [
        replace(
            extract_file(folder / seed["file"], title=seed["title"], published=seed["published"]),
            url=seed["url"],
        )
        for seed in manifest["seed"]
    ]


def on_topic(pages: list[Article], seeds: list[Article]) -> list[Article]:
    """Each page's text after a seed's, with the seed's title and date."""
    return [
        replace(
            seeds[n % len(seeds)],
            url=page.url,
            text=seeds[n % len(seeds)].text + "\n\n" + page.text,
        )
        for n, page in enumerate(pages)
    ]


def time_corpus(articles: list[Article], topic: Topic, rounds: int) -> dict[str, Any]:
    """Milliseconds per article over ``rounds`` runs of the corpus; each article's best."""
    best = [float("inf")] * len(articles)
    found = 0
    for _ in range(rounds):
        found = 0
        for n, article in enumerate(articles):
            started = time.perf_counter()
            observations = extract_facts(article, topic)
            best[n] = min(best[n], time.perf_counter() - started)
            found += len(observations)
    ms = sorted(1000 * b for b in best)
    return {
        "articles": len(articles),
        "observations": found,
        "mean_ms": sum(ms) / len(ms),
        "median_ms": median(ms),
        "p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))],
        "max_ms": ms[-1],
        "chars_mean": sum(len(a.text) for a in articles) / len(articles),
    }


def measure_facts(pages: list[Article], rounds: int) -> dict[str, Any]:
    topic = load_topic(TOPIC)
    seeds = load_seeds()
    return {
        "topic": str(TOPIC.relative_to(REPO)),
        "rounds": rounds,
        "pages": time_corpus(pages, topic, rounds),
        "seeds": time_corpus(seeds, topic, rounds),
        "on_topic_long": time_corpus(on_topic(pages, seeds), topic, rounds),
    }
