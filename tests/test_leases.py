"""The shared polling schedule and its leases, and host turns, on both backends."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection

from tests.support.checks import rss
from tests.support.loopback import LoopbackServer
from watcher.config import Source
from watcher.counters import read_totals
from watcher.service.leases import (
    Claim,
    HostTurns,
    LeaseLost,
    Schedule,
    jitter_for,
    shared_turns,
)
from watcher.store import Store, db_clock, open_store, schedule

SOURCES = [
    Source(name="a", url="http://127.0.0.1/a", interval=600),
    Source(name="b", url="http://127.0.0.1/b", interval=3600),
]


@pytest.fixture
def stores(db_url: str) -> Iterator[Callable[[], Store]]:
    """Opens the database once per worker, as separate processes would."""
    opened: list[Store] = []

    def new() -> Store:
        opened.append(open_store(db_url))
        return opened[-1]

    yield new
    for store in opened:
        store.close()


def rows(store: Store) -> dict[str, dict]:
    with store.engine.connect() as conn:
        return {r["source"]: dict(r) for r in conn.execute(schedule.select()).mappings()}


def now_of(store: Store):
    with store.engine.connect() as conn:
        return db_clock(conn)


def make_due(store: Store, *names: str) -> None:
    with store.transaction() as conn:
        earlier = db_clock(conn) - timedelta(seconds=1)
        conn.execute(
            schedule.update()
            .where(schedule.c.source.in_(names))
            .values(due_at=earlier, turn_at=earlier)
        )


def settle(store: Store, worker: Schedule, claim: Claim, interval: float) -> int:
    with store.transaction() as conn:
        return worker.finish(conn, claim, interval)


def test_sources_are_planned_spread_and_kept_across_restarts(
    stores: Callable[[], Store],
) -> None:
    store = stores()
    before = now_of(store)
    planned = Schedule(store, "w1", lease=30).plan(SOURCES, first_within=5)
    assert [(p.source.name, p.was) for p in planned] == [("a", None), ("b", None)]
    first = rows(store)
    for name in ("a", "b"):
        due = first[name]["due_at"].replace(tzinfo=before.tzinfo)
        assert before <= due <= now_of(store) + timedelta(seconds=5)
        assert first[name]["worker"] is None
    # Another worker (or a restart) plans the same sources: their turns stay.
    assert Schedule(store, "w2", lease=30).plan(SOURCES) == []
    assert rows(store) == first
    # An interval changed in the config: the next turn is one new interval away.
    faster = [SOURCES[0].model_copy(update={"interval": 60.0}), SOURCES[1]]
    replanned = now_of(store)
    [changed] = Schedule(store, "w2", lease=30).plan(faster)
    assert (changed.source.name, changed.was) == ("a", 600.0)
    after = rows(store)["a"]
    assert after["interval"] == 60.0
    turn = after["turn_at"].replace(tzinfo=replanned.tzinfo)
    assert replanned + timedelta(seconds=60) <= turn <= now_of(store) + timedelta(seconds=60)


def test_a_due_source_is_claimed_by_one_worker_and_moves_to_its_next_turn(
    stores: Callable[[], Store],
) -> None:
    first, second = stores(), stores()
    one, two = Schedule(first, "w1", lease=30), Schedule(second, "w2", lease=30)
    one.plan(SOURCES)
    make_due(first, "a")
    [claim] = one.claim(["a", "b"], room=5)  # b is not due yet
    assert claim.source == "a"
    assert two.claim(["a", "b"], room=5) == []  # held: never polled twice at once
    turn = claim.turn_at
    assert settle(first, one, claim, 600) == 0
    row = rows(first)["a"]
    assert row["worker"] is None and row["last_worker"] == "w1"
    next_turn = row["turn_at"].replace(tzinfo=turn.tzinfo)
    assert next_turn == turn + timedelta(seconds=600)
    due = row["due_at"].replace(tzinfo=turn.tzinfo)
    assert next_turn <= due <= next_turn + timedelta(seconds=jitter_for(600))
    assert two.claim(["a", "b"], room=5) == []  # polled this interval: not again


def test_room_limits_what_a_worker_claims(stores: Callable[[], Store]) -> None:
    store = stores()
    worker = Schedule(store, "w1", lease=30)
    worker.plan(SOURCES)
    make_due(store, "a", "b")
    assert len(worker.claim(["a", "b"], room=1)) == 1
    assert len(worker.claim(["a", "b"], room=1)) == 1
    assert worker.claim(["a", "b"], room=1) == []


@pytest.mark.slow
def test_a_dead_workers_lease_runs_out_and_its_late_results_are_refused(
    stores: Callable[[], Store],
) -> None:
    first, second = stores(), stores()
    dead, alive = Schedule(first, "dead", lease=0.3), Schedule(second, "alive", lease=30)
    dead.plan(SOURCES)
    make_due(first, "a")
    [lost] = dead.claim(["a"], room=1)
    assert alive.claim(["a"], room=1) == []
    time.sleep(0.5)  # no heartbeat renewed it
    [taken] = alive.claim(["a"], room=1)
    assert taken.claims == lost.claims + 1
    # The first worker was only cut off, and comes back with its results: refused.
    with pytest.raises(LeaseLost, match="another worker took this source over"):
        settle(first, dead, lost, 600)
    assert settle(second, alive, taken, 600) == 0
    assert rows(second)["a"]["last_worker"] == "alive"


@pytest.mark.slow
def test_the_heartbeat_renews_only_running_polls_and_release_frees_the_rest(
    stores: Callable[[], Store],
) -> None:
    store = stores()
    worker, other = Schedule(store, "w1", lease=0.3), Schedule(stores(), "w2", lease=30)
    worker.plan(SOURCES)
    make_due(store, "a", "b")
    assert len(worker.claim(["a", "b"], room=2)) == 2
    for _ in range(3):
        time.sleep(0.15)
        assert worker.renew(["a"]) == 1
    # b's poll failed and is no longer renewed: free for anyone after the lease.
    assert [c.source for c in other.claim(["a", "b"], room=2)] == ["b"]
    assert worker.release(keep={"a"}) == 0  # b is the other worker's now
    assert worker.release() == 1
    assert [c.source for c in other.claim(["a"], room=1)] == ["a"]


@pytest.mark.slow
def test_a_poll_that_outlasts_its_turns_skips_them(stores: Callable[[], Store]) -> None:
    store = stores()
    worker = Schedule(store, "w1", lease=30)
    worker.plan([Source(name="slow", url="http://127.0.0.1/s", interval=1)])
    make_due(store, "slow")
    [claim] = worker.claim(["slow"], room=1)
    time.sleep(2.2)
    skipped = settle(store, worker, claim, 1)
    assert skipped in (2, 3)
    row = rows(store)["slow"]
    assert row["turn_at"].replace(tzinfo=claim.turn_at.tzinfo) > now_of(store) - timedelta(
        seconds=0.01
    )


def test_a_source_claimed_late_skips_the_missed_turns_quietly(
    stores: Callable[[], Store],
) -> None:
    """After an outage (or with every worker busy) a source is polled once, not once for
    each turn it missed, and that is no poll's overrun."""
    store = stores()
    worker = Schedule(store, "w1", lease=30)
    worker.plan([Source(name="late", url="http://127.0.0.1/l", interval=10)])
    with store.transaction() as conn:
        long_ago = db_clock(conn) - timedelta(seconds=35)
        conn.execute(schedule.update().values(due_at=long_ago, turn_at=long_ago))
    [claim] = worker.claim(["late"], room=1)
    assert settle(store, worker, claim, 10) == 0
    turn = rows(store)["late"]["turn_at"].replace(tzinfo=long_ago.tzinfo)
    assert turn == long_ago + timedelta(seconds=40)  # the first turn still to come
    assert worker.claim(["late"], room=1) == []


def test_many_workers_claiming_at_once_each_source_goes_to_one(
    stores: Callable[[], Store],
) -> None:
    sources = [
        Source(name=f"s{n:03}", url=f"http://127.0.0.1/{n}", interval=600) for n in range(120)
    ]
    names = [s.name for s in sources]
    first = stores()
    Schedule(first, "planner", lease=30).plan(sources)
    make_due(first, *names)
    claimed: Counter[str] = Counter()
    lock = threading.Lock()

    def work(number: int) -> None:
        worker = Schedule(stores(), f"w{number}", lease=30)
        while batch := worker.claim(names, room=7):
            with lock:
                claimed.update(c.source for c in batch)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert set(claimed) == set(names) and set(claimed.values()) == {1}


@pytest.mark.slow
@pytest.mark.postgresql
def test_host_turns_space_every_workers_requests(postgres_url: str) -> None:
    stores = [open_store(postgres_url) for _ in range(3)]
    turns = [shared_turns(store) for store in stores]
    assert all(isinstance(t, HostTurns) for t in turns)
    starts: list[float] = []
    lock = threading.Lock()

    def take(taker: HostTurns) -> None:
        for _ in range(4):
            wait = taker.reserve("news.example", 0.2)
            time.sleep(wait)
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=take, args=(t,)) for t in turns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    starts.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert len(starts) == 12 and min(gaps) >= 0.15, gaps
    assert shared_turns(open_store("sqlite://")) is None
    for store in stores:
        store.close()


def test_the_daily_prune_forgets_workers_gone_for_a_week(db_url: str, tmp_path) -> None:
    from watcher.config import Config
    from watcher.service.leases import WorkerRecord, register
    from watcher.service.upkeep import prune_if_due
    from watcher.store import utcnow, workers

    store = open_store(db_url)
    old, recent = WorkerRecord.new("old"), WorkerRecord.new("recent")
    for worker in (old, recent):
        register(store, worker, 30, {})
    with store.transaction() as conn:
        conn.execute(
            workers.update()
            .where(workers.c.id == old.id)
            .values(heartbeat_at=db_clock(conn) - timedelta(days=8))
        )
    assert prune_if_due(Config(), store, utcnow()) is not None
    with store.engine.connect() as conn:
        assert list(conn.execute(workers.select().with_only_columns(workers.c.name))) == [
            ("recent",)
        ]
    store.close()


@pytest.mark.slow
@pytest.mark.postgresql
def test_workers_fetchers_take_turns_at_a_host(postgres_url: str, server: LoopbackServer) -> None:
    """Two workers' fetchers, each keeping its own per-host spacing, sharing the host's
    turns through the database: together they start requests as far apart as one."""
    import asyncio

    from watcher.config import HttpSettings
    from watcher.ingest.fetch import Fetcher

    for n in range(4):
        server.route(f"/p{n}.xml", "<rss/>")
    settings = HttpSettings(allow_private_addresses=True, per_host_delay=0.6, retries=0)
    stores = [open_store(postgres_url) for _ in range(2)]

    async def worker(store: Store, paths: list[str], shared: bool) -> None:
        turns = shared_turns(store) if shared else None
        async with Fetcher(settings, turns=turns) as fetcher:
            for path in paths:
                await fetcher.get(server.url(path))

    def gaps(shared: bool) -> list[float]:
        server.requests.clear()

        async def both() -> None:
            await asyncio.gather(
                worker(stores[0], ["/p0.xml", "/p1.xml"], shared),
                worker(stores[1], ["/p2.xml", "/p3.xml"], shared),
            )

        asyncio.run(both())
        starts = sorted(r.at for r in server.requests)
        return [later - earlier for earlier, later in itertools.pairwise(starts)]

    assert min(gaps(shared=False)) < 0.1  # each spaces only its own requests
    shared = gaps(shared=True)
    # The turns are 0.6 s apart in the database; a request leaves its worker a moment
    # after its turn, and that moment varies on a busy machine (0.08 s has been seen).
    assert len(shared) == 3 and min(shared) >= 0.45, shared
    for store in stores:
        store.close()


def test_a_poll_that_finds_nothing_is_recorded_only_while_its_claim_holds(
    db_url: str, tmp_path: Path, server: LoopbackServer
) -> None:
    """Most polls find nothing new, and a pass records those together in one transaction:
    a worker's claim is checked there as for any poll, its source moves to its next turn,
    and a poll whose source another worker took over is dropped, not recorded."""
    import asyncio

    from watcher.config import parse_config
    from watcher.service.check import Checker

    server.route("/feed.xml", rss(server.base_url))  # a feed with nothing in it
    config = parse_config(
        {
            "state": {"url": db_url},
            "http": {"allow_private_addresses": True, "per_host_delay": 0, "retries": 0},
            "sources": [{"name": "wire", "url": server.url("/feed.xml"), "interval": 600}],
        },
        tmp_path / "watcher.toml",
    )
    [source] = config.sources
    store = open_store(db_url)
    worker = Schedule(store, "w1", lease=30)
    worker.plan([source])

    def poll(claim: Claim) -> tuple[str, list[int]]:
        settled: list[int] = []

        def settle(conn: Connection) -> None:
            settled.append(worker.finish(conn, claim, source.interval))

        report = asyncio.run(Checker(config, store, settle=settle).run([source]))
        return report.sources[0].status, settled

    def polls_counted() -> float:
        return sum(t.value for t in read_totals(store)[0] if t.name == "watcher_polls")

    try:
        make_due(store, "wire")
        [claim] = worker.claim(["wire"], room=1)
        assert poll(claim) == ("nothing_new", [0])
        row = rows(store)["wire"]
        assert row["worker"] is None and row["last_worker"] == "w1"
        assert row["turn_at"].replace(tzinfo=claim.turn_at.tzinfo) > claim.turn_at
        counted, attempted = polls_counted(), store.source_state("wire", source.url).last_attempt

        make_due(store, "wire")
        [claim] = worker.claim(["wire"], room=1)
        with store.transaction() as conn:  # as another worker's claim once the lease ran out
            conn.execute(schedule.update().values(claims=schedule.c.claims + 1))
        with pytest.raises(LeaseLost):
            poll(claim)
        assert polls_counted() == counted
        assert store.source_state("wire", source.url).last_attempt == attempted
    finally:
        store.close()
