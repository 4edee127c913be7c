"""Work shared through the state database: any number of ``watcher run`` workers.

Each source has a row in ``schedule``: its next turn and, while a worker polls
it, that worker's lease. A worker claims sources that are due with ``SELECT ...
FOR UPDATE SKIP LOCKED`` (PostgreSQL; on SQLite the claim takes the write lock),
so two workers never claim the same one; it records the poll's results only if
its claim still holds, in the same transaction that moves the source to its
next turn. Turns follow each other at the source's interval whoever polls, so a
source is polled once per interval however many workers there are.

A worker's heartbeat renews its leases. One that dies stops renewing them, and
once they run out (``[workers] lease``) another worker claims those sources; if
the first was only cut off (its database connection lost) and comes back, its
late results are refused rather than stored twice.

PostgreSQL rows locked by a claim and row-level upserts (host turns) need no
global lock, unlike the writing transactions of :meth:`Store.transaction`.

Row locks and SKIP LOCKED rather than a PostgreSQL task queue such as
procrastinate: the same code runs on SQLite, where one machine needs no
server; polls keep their own intervals and jitter (a queue would want
periodic tasks per source); and results, lease and next turn are one
transaction in the database watcher already writes to.
"""

from __future__ import annotations

import json
import math
import os
import random
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    any_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)

from watcher.config import Source
from watcher.store import (
    Store,
    StoreError,
    aware,
    db_clock,
    host_turns,
    schedule,
    workers,
)

# Jitter is this share of a source's interval, at most MAX_JITTER seconds.
JITTER_SHARE = 0.1
MAX_JITTER = 60.0


def jitter_for(interval: float) -> float:
    return min(interval * JITTER_SHARE, MAX_JITTER)


class LeaseLost(StoreError):
    """Another worker took the source over while this one polled it: its results are
    dropped, so nothing is stored twice."""


def _writing(store: Store) -> Any:
    """A transaction for claims: SQLite must take its write lock up front (two claims
    would otherwise both read a source as free); PostgreSQL locks the rows it claims."""
    immediate = store.engine.dialect.name == "sqlite"
    return store.engine.execution_options(immediate=immediate).begin()


@dataclass(frozen=True)
class Claim:
    """A source this worker is polling: the lease number proves the claim is still its."""

    source: str
    claims: int
    turn_at: datetime
    due_at: datetime
    claimed_at: datetime


@dataclass(frozen=True)
class Planned:
    """A source whose schedule :meth:`Schedule.plan` added or changed (for the log)."""

    source: Source
    was: float | None  # the interval before; None: new to the schedule


@dataclass
class Schedule:
    """The shared polling schedule, as one worker sees it."""

    store: Store
    worker: str
    lease: float
    rng: random.Random = field(default_factory=random.Random)

    def plan(self, sources: list[Source], *, first_within: float = 5.0) -> list[Planned]:
        """Give each source a row: new ones are due within ``first_within`` seconds,
        spread so they do not all fire at once; a source whose interval changed has
        its next turn one new interval from now. Turns already planned are kept, so a
        restart polls nothing again before its time."""
        planned = []
        with self.store.transaction() as conn:
            now = db_clock(conn)
            names = [s.name for s in sources]
            known: dict[str, float] = {}
            for start in range(0, len(names), 500):
                query = select(schedule.c.source, schedule.c.interval).where(
                    schedule.c.source.in_(names[start : start + 500])
                )
                known.update((name, interval) for name, interval in conn.execute(query))
            for source in sources:
                was = known.get(source.name)
                if was is None:
                    turn = now + timedelta(seconds=self.rng.uniform(0, first_within))
                    conn.execute(
                        insert(schedule).values(
                            source=source.name,
                            interval=source.interval,
                            turn_at=turn,
                            due_at=turn,
                            claims=0,
                        )
                    )
                    planned.append(Planned(source, None))
                elif was != source.interval:
                    turn = now + timedelta(seconds=source.interval)
                    conn.execute(
                        update(schedule)
                        .where(schedule.c.source == source.name)
                        .values(
                            interval=source.interval,
                            turn_at=turn,
                            due_at=turn + self._jitter(source.interval),
                        )
                    )
                    planned.append(Planned(source, was))
        return planned

    def _jitter(self, interval: float) -> timedelta:
        return timedelta(seconds=self.rng.uniform(0, jitter_for(interval)))

    def claim(self, names: list[str], room: int) -> list[Claim]:
        """Claim up to ``room`` of these sources that are due and that no live lease
        holds, the longest due first."""
        if room <= 0 or not names:
            return []
        with _writing(self.store) as conn:
            now = db_clock(conn)
            due = (
                select(schedule.c.source)
                .where(
                    _one_of(conn, names),
                    schedule.c.due_at <= now,
                    or_(schedule.c.worker.is_(None), schedule.c.lease_until < now),
                )
                .order_by(schedule.c.due_at)
                .limit(room)
                .with_for_update(skip_locked=True)
            )
            picked = list(conn.execute(due).scalars())
            if not picked:
                return []
            conn.execute(
                update(schedule)
                .where(schedule.c.source.in_(picked))
                .values(
                    worker=self.worker,
                    lease_until=now + timedelta(seconds=self.lease),
                    claims=schedule.c.claims + 1,
                )
            )
            rows = conn.execute(
                select(
                    schedule.c.source, schedule.c.claims, schedule.c.turn_at, schedule.c.due_at
                ).where(schedule.c.source.in_(picked))
            )
            return [
                Claim(name, claims, aware(turn), aware(due), now)
                for name, claims, turn, due in rows
            ]

    def finish(self, conn: Connection, claim: Claim, interval: float) -> int:
        """In the transaction that records the poll: check the claim still holds (else
        :class:`LeaseLost`), let go of it and plan the next turn. Returns how many turns
        were skipped because the poll outlasted them."""
        row = conn.execute(
            select(schedule.c.worker, schedule.c.claims)
            .where(schedule.c.source == claim.source)
            .with_for_update()
        ).first()
        if row is None or (row[0], row[1]) != (self.worker, claim.claims):
            raise LeaseLost(
                f"{claim.source}: another worker took this source over while it was polled "
                "(the lease ran out); this poll's results were dropped"
            )
        now = db_clock(conn)
        step = timedelta(seconds=interval)
        turn = claim.turn_at + step
        # Turns that passed before the claim (the workers were busy, or away) are not
        # this poll's doing; those that passed while it ran are.
        turn += step * _turns_until(turn, claim.claimed_at, interval)
        skipped = _turns_until(turn, now, interval)
        turn += step * skipped
        conn.execute(
            update(schedule)
            .where(schedule.c.source == claim.source)
            .values(
                worker=None,
                lease_until=None,
                interval=interval,
                turn_at=turn,
                due_at=turn + self._jitter(interval),
                last_worker=self.worker,
                last_polled=now,
            )
        )
        return skipped

    def renew(self, sources: list[str]) -> int:
        """Extend this worker's leases on ``sources``, the polls it is running (its
        heartbeat); how many it still holds. A lease of a poll that failed is left to
        run out, and the source is polled again after it."""
        if not sources:
            return 0
        with self.store.engine.begin() as conn:
            until = db_clock(conn) + timedelta(seconds=self.lease)
            held = (schedule.c.worker == self.worker) & schedule.c.source.in_(sources)
            renewed = conn.execute(update(schedule).where(held).values(lease_until=until))
            return renewed.rowcount or 0

    def release(self, keep: set[str] | None = None) -> int:
        """Let go of this worker's leases but those of ``keep`` (polls still running), so
        other workers need not wait for them to run out; the turns stay due."""
        held = schedule.c.worker == self.worker
        if keep:
            held = held & schedule.c.source.not_in(keep)
        with _writing(self.store) as conn:
            return (
                conn.execute(
                    update(schedule).where(held).values(worker=None, lease_until=None)
                ).rowcount
                or 0
            )


def _one_of(conn: Connection, names: list[str]) -> ColumnElement[bool]:
    """``source IN (names)``; on PostgreSQL one array parameter rather than hundreds,
    which the driver would otherwise rewrite on every claim."""
    if conn.dialect.name == "postgresql":
        # The PostgreSQL dialect's module, imported only on PostgreSQL (18 ms).
        from sqlalchemy.dialects.postgresql import ARRAY

        return schedule.c.source == any_(bindparam("names", names, type_=ARRAY(String)))
    return schedule.c.source.in_(names)


def _turns_until(turn: datetime, moment: datetime, interval: float) -> int:
    """How many turns, ``turn`` and those after it, come at or before ``moment``."""
    if turn > moment:
        return 0
    return math.floor((moment - turn).total_seconds() / interval) + 1


# -- workers -------------------------------------------------------------------------


@dataclass
class DaemonStatus:
    """What a worker publishes about itself (the ``info`` of its row in ``workers``)."""

    pid: int
    started: datetime
    last_pass: datetime | None = None
    passes: int = 0
    errors: int = 0
    next_runs: dict[str, str | None] = field(default_factory=dict)
    web: str | None = None  # the web view's URL, when [web] listen is set
    # When this was last published: a status long unpublished is a daemon gone.
    updated: datetime | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "pid": self.pid,
            "started": self.started.isoformat(),
            "updated": self.updated.isoformat() if self.updated else None,
            "last_pass": self.last_pass.isoformat() if self.last_pass else None,
            "passes": self.passes,
            "errors": self.errors,
            "next_runs": self.next_runs,
            "web": self.web,
        }


@dataclass(frozen=True)
class WorkerRecord:
    """Who a worker is: a unique id, and a name for people (``host:pid`` by default)."""

    id: str
    name: str
    host: str
    pid: int

    @classmethod
    def new(cls, name: str | None = None) -> WorkerRecord:
        host, pid = socket.gethostname(), os.getpid()
        return cls(uuid.uuid4().hex[:12], name or f"{host}:{pid}", host, pid)


def register(store: Store, worker: WorkerRecord, lease: float, info: dict[str, Any]) -> None:
    with store.engine.begin() as conn:
        now = db_clock(conn)
        conn.execute(
            insert(workers).values(
                id=worker.id,
                name=worker.name,
                host=worker.host,
                pid=worker.pid,
                started_at=now,
                heartbeat_at=now,
                lease_seconds=lease,
                info=json.dumps(info),
            )
        )


def heartbeat(
    store: Store, worker: WorkerRecord, info: dict[str, Any], *, stopped: bool = False
) -> None:
    """Say this worker is alive (or has stopped), and what it says of itself."""
    with store.engine.begin() as conn:
        now = db_clock(conn)
        values: dict[str, Any] = {"heartbeat_at": now, "info": json.dumps(info)}
        if stopped:
            values["stopped_at"] = now
        conn.execute(update(workers).where(workers.c.id == worker.id).values(**values))


def forget_workers(store: Store, before: datetime) -> int:
    """Drop workers not heard from since ``before`` (the daily prune)."""
    with store.transaction() as conn:
        return conn.execute(workers.delete().where(workers.c.heartbeat_at < before)).rowcount or 0


# -- per-host politeness shared by every worker -----------------------------------------


@dataclass
class HostTurns:
    """Turns at each host, taken through the database, so ``http.per_host_delay``
    spaces the requests of every worker to a host, not each worker's alone."""

    store: Store

    def reserve(self, host: str, delay: float) -> float:
        """Take the next turn at ``host``; how many seconds to wait before it starts."""
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        step = timedelta(seconds=delay)
        now = func.now()
        statement = (
            pg_insert(host_turns)
            .values(host=host, next_at=now + step)
            .on_conflict_do_update(
                index_elements=[host_turns.c.host],
                set_={"next_at": func.greatest(host_turns.c.next_at, now) + step},
            )
            .returning(host_turns.c.next_at, now)
        )
        with self.store.engine.begin() as conn:
            next_at, at = conn.execute(statement).one()
        return max(0.0, (next_at - step - at).total_seconds())


def shared_turns(store: Store) -> HostTurns | None:
    """Host turns shared through the database when it is a server that workers on
    several machines may share; an SQLite file has one machine's daemon."""
    return HostTurns(store) if store.engine.dialect.name == "postgresql" else None
