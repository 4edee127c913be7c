"""The web view's response times on a large state database.

    .venv/bin/python -m benchmarks.web [--sources 200] [--items 100] [--changes 400]

Builds a database as passes would leave it, through watcher's own code:
``--sources`` sources with ``--items`` feed items each, and ``--changes``
fact changes made by folding observations into knowledge with the real
comparison (so the troop count's and the deadline's histories grow long,
with disputes), each alerting two channels. Then serves it in this process,
as ``watcher serve`` does, and times every page, API document and
``/metrics`` (``--repeat`` requests each, median and worst), and an API
request answered 304. Prints a table; writes ``benchmarks/results/web.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from watcher.alerts.outbox import enqueue_change
from watcher.config import Config, parse_config
from watcher.counters import Counter, Tally
from watcher.facts import knowledge
from watcher.facts.compare import compare
from watcher.facts.topic import load_topic
from watcher.models import Evidence, FeedItem, Observation
from watcher.store import Store, alerts, open_store, utcnow
from watcher.web.server import start_web

RESULTS = Path(__file__).resolve().parent / "results" / "web.json"
PATHS = (
    "/",
    "/facts/us_forces.troop_count",
    "/facts/us_forces.withdrawal_deadline",
    "/facts/bases.air_base_201.status",
    "/changes",
    "/changes?fact=us_forces.troop_count",
    "/sources",
    "/outbox",
    "/api/facts",
    "/api/changes",
    "/api/status",
    "/api/outbox",
    "/metrics",
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.web", description=__doc__)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--items", type=int, default=100, help="feed items per source")
    parser.add_argument("--changes", type=int, default=400, help="fact changes, about")
    parser.add_argument("--repeat", type=int, default=20, help="requests per path")
    parser.add_argument("--json", type=Path, default=RESULTS)
    return parser.parse_args()


def build(folder: Path, args: argparse.Namespace) -> tuple[Config, Store, dict[str, int]]:
    sources = [
        {"name": f"site-{n:03}", "url": f"https://site{n}.example/feed.xml"}
        for n in range(args.sources)
    ]
    config = parse_config(
        {
            "state": {"path": str(folder / "watcher.db")},
            "notify": {
                "email": {"host": "mail.example", "sender": "w@example.org", "to": ["d@x.org"]},
                "slack": {"immediate": "all"},
            },
            "sources": sources,
        },
        folder / "watcher.toml",
    )
    store = open_store(config.database_url())
    topic = load_topic(config.topic_path())
    now = utcnow()
    with store.transaction() as conn:
        knowledge_now = knowledge.baseline_of(config, topic)
        store.save_knowledge(conn, knowledge_now.to_json(), at=now)
        for index, source in enumerate(sources):
            failed = index % 17 == 0
            store.record_source(
                conn, source["name"], source["url"], at=now, error="HTTP 503" if failed else None
            )
            items = [
                FeedItem(source["name"], f"i{n}", f"https://site{index}.example/{n}", "T", now)
                for n in range(args.items)
            ]
            store.add_items(conn, items, at=now)
        tally = Tally()
        for source in sources:
            tally.add(Counter.POLLS, 50, source=source["name"], outcome="new")
            tally.observe_pass(random.uniform(0.2, 8.0))
        tally.write(conn)

    rng = random.Random(17)
    day, count, deadline = date(2024, 4, 20), 1000, date(2024, 9, 15)
    made = 0
    policy = knowledge.policy_of(config)
    channels = config.notify.channels()
    while made < args.changes:
        day += timedelta(days=1)
        count = max(50, int(count * rng.choice((0.7, 0.8, 1.25, 1.4))))
        deadline += timedelta(days=rng.choice((-20, -9, 9, 20)))
        site = f"site{rng.randrange(args.sources)}.example"
        url = f"https://{site}/{day}/{made}"
        evidence = Evidence(f"Officials said about {count} troops remain. " * 3, url, "T", day)
        observations = [
            Observation("us_forces.troop_count", "quantity", count, "about", day, evidence),
            Observation(
                "us_forces.withdrawal_deadline",
                "date",
                deadline.isoformat(),
                "exact",
                day,
                evidence,
            ),
        ]
        with store.transaction() as conn:
            comparison = compare(knowledge.read(conn), observations, topic, policy)
            for recorded in knowledge.record(conn, comparison, at=utcnow()):
                change = knowledge.present(
                    recorded.change, recorded.change_id, recorded.first_seen, topic
                )
                enqueue_change(conn, change, recorded.event, channels, at=utcnow())
                made += recorded.event == "new"
    with store.transaction() as conn:
        conn.execute(alerts.update().where(alerts.c.channel == "slack").values(state="sent"))
    sizes = {
        "sources": args.sources,
        "items": args.sources * args.items,
        "changes": len(store.list_changes()),
        "alerts": sum(store.alert_counts().values()),
        "troop_count_history": len(knowledge.load(store).facts["us_forces.troop_count"].history),
    }
    return config, store, sizes


def time_path(client: httpx.Client, url: str, repeat: int) -> dict[str, Any]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
        response.raise_for_status()
    return {
        "median_ms": round(statistics.median(timings) * 1000, 1),
        "worst_ms": round(max(timings) * 1000, 1),
        "kbytes": round(len(response.content) / 1024, 1),
    }


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="watcher-web-bench-") as tmp:
        started = time.perf_counter()
        config, store, sizes = build(Path(tmp), args)
        built = time.perf_counter() - started
        topic = load_topic(config.topic_path())
        server = start_web(
            config,
            store,
            topic,
            knowledge.baseline_of(config, topic),
            listen="127.0.0.1:0",
        )
        results: dict[str, Any] = {}
        try:
            with httpx.Client(base_url=server.url.rstrip("/"), timeout=60) as client:
                for path in PATHS:
                    client.get(path).raise_for_status()  # warm
                    results[path] = time_path(client, path, args.repeat)
                etag = client.get("/api/changes").headers["etag"]
                client.headers["If-None-Match"] = etag
                timings = []
                for _ in range(args.repeat):
                    begun = time.perf_counter()
                    assert client.get("/api/changes").status_code == 304
                    timings.append(time.perf_counter() - begun)
                results["/api/changes (304)"] = {
                    "median_ms": round(statistics.median(timings) * 1000, 1),
                    "worst_ms": round(max(timings) * 1000, 1),
                    "kbytes": 0.0,
                }
        finally:
            server.stop()
            store.close()
    print(f"database: {sizes} (built in {built:.1f} s)")
    print(f"{'path':<42} {'median ms':>10} {'worst ms':>10} {'kB':>8}")
    for path, row in results.items():
        print(f"{path:<42} {row['median_ms']:>10} {row['worst_ms']:>10} {row['kbytes']:>8}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"database": sizes, "paths": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
