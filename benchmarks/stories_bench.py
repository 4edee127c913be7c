"""What following more stories costs per article: one extraction, then one reading per story.

Reads the benchmark pages (``../shared/bench/pages/``) as a pass does
(``watcher.service.workers.read_article``) with 1, 2, 5 and 10 stories: the
shipped topic, then the corpus's topics. Prints the median time per article
of the extraction and of each story's reading, on one core.

    python -m benchmarks.stories_bench [--pages N] [--runs R]
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmarks.pages import DEFAULT_PAGES, REPO
from watcher.facts.reading import extract_facts
from watcher.facts.topic import Topic, load_topic
from watcher.ingest.extract import ExtractError, extract_html

SHIPPED = REPO / "config" / "topics" / "niger-us-withdrawal.toml"
TOPICS = [SHIPPED, *sorted((REPO / "corpus" / "topics").glob("*.toml"))]


def measure(pages: list[bytes], topics: list[Topic], runs: int) -> tuple[float, float]:
    """Median seconds per article for the extraction, and for reading every topic."""
    extracting, reading = [], []
    for _ in range(runs):
        extract_total = read_total = 0.0
        for number, content in enumerate(pages):
            start = time.perf_counter()
            try:
                article = extract_html(content, f"https://bench.example/{number}.html")
            except ExtractError:
                continue
            middle = time.perf_counter()
            for topic in topics:
                extract_facts(article, topic)
            read_total += time.perf_counter() - middle
            extract_total += middle - start
        extracting.append(extract_total / len(pages))
        reading.append(read_total / len(pages))
    return statistics.median(extracting), statistics.median(reading)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    files = sorted(DEFAULT_PAGES.glob("*.html"))[: args.pages]
    pages = [f.read_bytes() for f in files]
    topics = [load_topic(path) for path in TOPICS]
    measure(pages, topics, 1)  # warm up: each topic's names are compiled on first use
    print(f"{len(pages)} pages, median of {args.runs} runs, per article:")
    for count in (1, 2, 5, 10):
        extracting, reading = measure(pages, topics[:count], args.runs)
        stories = f"{count:>2} stor{'y' if count == 1 else 'ies'}"
        print(
            f"  {stories}: extraction {extracting * 1000:6.2f} ms, "
            f"reading {reading * 1000:6.2f} ms ({reading / count * 1000:.2f} ms a story)"
        )


if __name__ == "__main__":
    main()
